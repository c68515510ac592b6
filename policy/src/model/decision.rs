//! The decision document `dbplatform.decision/v1`: what the engine concluded for every (rule, resource) pair.
//!
//! Both the CLI and the provider produce exactly this document, and the audit log records it, so its shape is
//! published as a JSON Schema (`dbpolicy schema decision`).

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Schema tag written into every decision.
pub const DECISION_SCHEMA: &str = "dbplatform.decision/v1";

/// Rule severity, from the rule's METADATA.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    /// The lowercase name used in METADATA and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// Parses a METADATA value; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }
}

/// How a violation affects the outcome (Sentinel-style enforcement levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Enforcement {
    /// Reported as a warning; never fails.
    Advisory,
    /// Fails unless a named person overrides it with a reason.
    SoftMandatory,
    /// Always fails; only an approved exception can exempt a resource.
    HardMandatory,
}

impl Enforcement {
    /// The kebab-case name used in METADATA and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Advisory => "advisory",
            Enforcement::SoftMandatory => "soft-mandatory",
            Enforcement::HardMandatory => "hard-mandatory",
        }
    }

    /// Parses a METADATA value; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "advisory" => Some(Enforcement::Advisory),
            "soft-mandatory" => Some(Enforcement::SoftMandatory),
            "hard-mandatory" => Some(Enforcement::HardMandatory),
            _ => None,
        }
    }
}

/// The status of one (rule, resource) pair.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    /// The outcome depends on a value known only after apply.
    Unknown,
    /// An approved, unexpired exception covers the violation.
    Exempted,
    /// A soft-mandatory violation overridden by a named person with a reason.
    Overridden,
    /// A finding of a rule the caller skipped for this run (`dbpolicy check --skip-rule`); see `suppression`.
    Skipped,
    /// A finding already listed in the caller's baseline file (`dbpolicy check --baseline`); see `suppression`.
    Baselined,
}

impl Status {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Unknown => "unknown",
            Status::Exempted => "exempted",
            Status::Overridden => "overridden",
            Status::Skipped => "skipped",
            Status::Baselined => "baselined",
        }
    }
}

/// Overall result of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
}

/// One rule of the evaluated bundle, as listed in the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub severity: Severity,
    pub enforcement: Enforcement,
}

/// A soft-mandatory override given on the command line or by the provider configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Override {
    pub rule_id: String,
    /// Why the violation is acceptable this time.
    pub reason: String,
    /// Who takes responsibility.
    pub by: String,
}

/// The exception that exempted a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppliedException {
    pub id: String,
    pub owner: String,
    pub reason: String,
    pub ticket: String,
    pub approved_by: String,
    /// Last day (inclusive) the exception applies, `YYYY-MM-DD`.
    pub expires: String,
}

/// Text shared by many results: a large plan gives 100k+ results that repeat the same rule id, title,
/// remediation and resource address, and one shared copy of each keeps the decision small.
pub type SharedStr = Arc<str>;

/// Equivalent checks in other tools (tool name -> ids), shared by every result of a rule.
pub type References = Arc<BTreeMap<String, Vec<String>>>;

fn no_references(r: &References) -> bool {
    r.is_empty()
}

/// The decision for one (rule, resource) pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleResult {
    pub rule_id: SharedStr,
    pub title: SharedStr,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub status: Status,
    /// Terraform resource address (or the plan file for conftest-style rules).
    pub address: SharedStr,
    /// The resource's own attribute path (`backup_retention_period`), empty when the rule names none.
    #[serde(default)]
    pub path: String,
    /// What is wrong; empty on pass.
    #[serde(default)]
    pub message: String,
    #[serde(default = "empty_shared")]
    pub remediation: SharedStr,
    /// Equivalent checks in other tools: tool name -> ids.
    #[serde(default, skip_serializing_if = "no_references")]
    pub references: References,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Box<AppliedException>>,
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub override_: Option<Box<Override>>,
    /// Who set a `skipped` or `baselined` status, and what the result was before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Box<Suppression>>,
    /// The plan file the result comes from, when one check read several (`dbpolicy check A.json B.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<SharedStr>,
    /// conftest-style rules: the keys of an object message other than `msg` (conftest's `metadata`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

/// Why a finding does not count this run although no exception or override covers it: the caller asked, with
/// a CI flag. Kept on the result so every report (and the audit record) shows who hid what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Suppression {
    /// The flag that set it: `--skip-rule`, or `--baseline FILE`.
    pub origin: String,
    /// The status the result had before (`fail`, `warn` or `unknown`).
    pub was: Status,
}

fn empty_shared() -> SharedStr {
    SharedStr::from("")
}

/// Counts by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Resources evaluated.
    pub resources: usize,
    /// Rules in the bundle.
    pub rules: usize,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub unknown: usize,
    pub exempted: usize,
    pub overridden: usize,
    /// Findings of rules skipped with `--skip-rule`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: usize,
    /// Findings already in the `--baseline` file.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub baselined: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What the caller of a CI check asked for that changes what counts (`--soft-fail`, `--skip-rule`,
/// `--baseline`). The gate applies it and writes it here, and into the audit record, so a finding that did not
/// block is never a silent bypass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CiFlags {
    /// `--soft-fail`: the check exits 0 on findings. The outcome stays what the results say (`fail`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub soft_fail: bool,
    /// `--skip-rule` ids, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_rules: Vec<String>,
    /// The `--baseline` file that was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineUse>,
}

impl CiFlags {
    /// No CI flag given: nothing is written into the decision.
    pub fn is_empty(&self) -> bool {
        !self.soft_fail && self.skip_rules.is_empty() && self.baseline.is_none()
    }
}

/// A baseline file as applied to one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineUse {
    /// The file as named on the command line.
    pub file: String,
    /// `sha256:` + hex of the file's bytes, so the record names exactly which baseline was accepted.
    pub sha256: String,
    /// Entries in the file.
    pub entries: usize,
    /// Results that matched an entry and became `baselined`.
    pub matched: usize,
    /// Entries that matched no finding any more (fixed, or the resource is gone): candidates for removal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<BaselineKey>,
}

/// What identifies a finding in a baseline: rule id, resource address and attribute path (as in the SARIF
/// fingerprint), never a line number and not the message when there is a path, so an entry survives rewording
/// and moved code.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct BaselineKey {
    pub rule_id: String,
    pub address: String,
    /// Attribute path; empty when the rule names none.
    #[serde(default)]
    pub path: String,
    /// The message, part of the key only when `path` is empty (conftest rules, whose address is the plan file:
    /// rule and address alone cannot tell their findings apart).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl BaselineKey {
    /// The key of a finding: rule id, address, path, and the message when the path is empty.
    pub fn of(rule_id: &str, address: &str, path: &str, message: &str) -> Self {
        BaselineKey {
            rule_id: rule_id.to_string(),
            address: address.to_string(),
            path: path.to_string(),
            message: if path.is_empty() {
                message.to_string()
            } else {
                String::new()
            },
        }
    }
}

/// Why an exception from the exceptions file did or did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExceptionReport {
    pub id: String,
    pub rule: String,
    pub resource: String,
    /// `applied`, `unused`, `expired`, `unapproved` or `too-long`.
    pub status: String,
    /// Human explanation when it did not apply.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Resource changes of the plan that produced no input (not database related, data sources), counted by type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedResource {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub count: usize,
}

/// The whole decision for one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// Always `dbplatform.decision/v1`.
    pub schema: String,
    /// Hash of bundle, time and results, formatted like a UUID: the same check gives the same id.
    pub decision_id: String,
    /// The evaluation time ("now" passed by the host), RFC 3339.
    pub timestamp: String,
    /// `cli` or `provider`.
    #[serde(default)]
    pub source: String,
    /// sha256 over the sorted (path, content) of every policy file.
    pub bundle_hash: String,
    pub rules: Vec<RuleInfo>,
    pub results: Vec<RuleResult>,
    pub summary: Summary,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<ExceptionReport>,
    #[serde(default)]
    pub skipped_resources: Vec<SkippedResource>,
    /// The plan files of a check that read several, in order (each result names its own in `input`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// CI flags the gate applied (`--soft-fail`, `--skip-rule`, `--baseline`); absent when none was given.
    #[serde(default, skip_serializing_if = "CiFlags::is_empty")]
    pub ci: CiFlags,
}

impl Decision {
    /// Results that need a reader's attention (everything except pass), in decision order.
    pub fn findings(&self) -> impl Iterator<Item = &RuleResult> {
        self.results.iter().filter(|r| r.status != Status::Pass)
    }

    /// Whether the check must fail (exit 1): the outcome is `fail` and the caller did not ask for `--soft-fail`.
    /// The outcome itself stays `fail` under soft-fail, so the record shows what was let through.
    pub fn blocks(&self) -> bool {
        self.outcome == Outcome::Fail && !self.ci.soft_fail
    }

    /// The JSON Schema of the decision document.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Decision)).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_use_contract_spelling() {
        assert_eq!(
            serde_json::to_string(&Enforcement::SoftMandatory).unwrap(),
            "\"soft-mandatory\""
        );
        assert_eq!(
            serde_json::to_string(&Status::Overridden).unwrap(),
            "\"overridden\""
        );
        assert_eq!(
            Enforcement::parse("hard-mandatory"),
            Some(Enforcement::HardMandatory)
        );
        assert_eq!(Enforcement::parse("mandatory"), None);
        assert_eq!(Severity::parse("critical"), Some(Severity::Critical));
    }

    #[test]
    fn schema_names_the_override_field() {
        let s = Decision::json_schema().to_string();
        assert!(s.contains("\"override\""), "{s}");
        assert!(s.contains("bundle_hash"));
    }
}
