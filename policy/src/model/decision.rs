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
    /// conftest-style rules: the keys of an object message other than `msg` (conftest's `metadata`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Box<serde_json::Map<String, serde_json::Value>>>,
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
}

impl Decision {
    /// Results that need a reader's attention (everything except pass), in decision order.
    pub fn findings(&self) -> impl Iterator<Item = &RuleResult> {
        self.results.iter().filter(|r| r.status != Status::Pass)
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
