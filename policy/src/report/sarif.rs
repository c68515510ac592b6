//! SARIF 2.1.0 for GitHub code scanning: one run, the bundle's rules with help text and links, one result per
//! finding with a physical location (the `.tf` declaration when found, else the resource's entry in the plan
//! JSON) whose URI is relative to the repository root, a logical location naming the resource address, and a
//! fingerprint that survives line moves. Exempted, overridden and skipped (`--skip-rule`) findings carry a SARIF
//! suppression, so code scanning shows them as dismissed; with `--baseline`, every result has a `baselineState`
//! (`unchanged` for baselined findings, which are notes, `new` for the rest).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::model::decision::{RuleResult, Severity, Status};
use crate::report::links;
use crate::report::locate::Location;
use crate::report::report_input::ReportInput;

/// The `uriBaseId` every repository-relative URI is resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

/// The `partialFingerprints` key: the finding's identity, independent of where its lines are.
pub const FINGERPRINT_KEY: &str = "dbpolicyFinding/v1";

/// How the check ran: what SARIF `invocations` records (code scanning shows failed runs from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The process exit code (0 pass, 1 policy failure).
    pub exit_code: u8,
}

fn level(input: &ReportInput<'_>, r: &RuleResult) -> &'static str {
    if input.fails(r) {
        "error"
    } else if matches!(r.status, Status::Warn | Status::Unknown) {
        "warning"
    } else {
        "note"
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The fingerprint of a finding: rule id, resource address and attribute path, hashed. Lines, messages and
/// the working directory are left out, so the same finding is the same alert from run to run.
pub fn fingerprint(r: &RuleResult) -> String {
    let mut h = Sha256::new();
    for part in [&*r.rule_id, &*r.address, r.path.as_str()] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A SARIF physical location for `l`: repository-relative with `%SRCROOT%` when the root is known.
fn physical(l: &Location) -> Value {
    let artifact = match &l.uri {
        Some(u) if !u.starts_with("file:") => json!({"uri": u, "uriBaseId": SRCROOT}),
        Some(u) => json!({"uri": u}),
        None => json!({"uri": l.file.replace('\\', "/")}),
    };
    let mut region = json!({"startLine": l.line, "endLine": l.end_line});
    if let Some((start, end)) = l.columns {
        region["startColumn"] = json!(start);
        region["endColumn"] = json!(end);
    }
    json!({"artifactLocation": artifact, "region": region})
}

/// One SARIF result for a finding.
fn result(input: &ReportInput<'_>, r: &RuleResult) -> Value {
    let d = input.decision;
    let rule_index = d
        .rules
        .iter()
        .position(|i| *i.id == *r.rule_id)
        .unwrap_or(0);
    let mut text = if r.path.is_empty() {
        format!("{}: {}", r.address, r.message)
    } else {
        format!("{}: {}: {}", r.address, r.path, r.message)
    };
    if !r.remediation.is_empty() {
        text.push_str(". Fix: ");
        text.push_str(&r.remediation);
    }
    let mut location = json!({
        "logicalLocations": [{"fullyQualifiedName": r.address, "kind": "resource"}],
    });
    if let Some(l) = input.locations.of_result(r) {
        location["physicalLocation"] = physical(l);
    }
    let mut res = json!({
        "ruleId": r.rule_id,
        "ruleIndex": rule_index,
        "level": level(input, r),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(r)},
        "properties": {"status": r.status, "attributePath": r.path, "severity": r.severity},
    });
    if let Some(e) = &r.exception {
        res["suppressions"] = json!([{"kind": "external", "status": "accepted",
            "justification": format!("exception {} ({}) approved by {} until {}: {}", e.id, e.ticket, e.approved_by, e.expires, e.reason)}]);
    } else if let Some(o) = &r.override_ {
        res["suppressions"] = json!([{"kind": "external", "status": "accepted",
            "justification": format!("overridden by {}: {}", o.by, o.reason)}]);
    } else if let (Status::Skipped, Some(x)) = (r.status, &r.suppression) {
        res["suppressions"] = json!([{"kind": "external", "status": "accepted",
            "justification": format!("skipped for this run by {} (was {})", x.origin, x.was.as_str())}]);
    }
    if d.ci.baseline.is_some() {
        // SARIF's own baseline comparison: what the baseline already had is `unchanged`, the rest `new`.
        res["baselineState"] = json!(if r.status == Status::Baselined {
            "unchanged"
        } else {
            "new"
        });
    }
    if let Some(input) = &r.input {
        res["properties"]["input"] = json!(input);
    }
    res
}

/// The results, each built and written in turn: a plan with tens of thousands of findings never holds them
/// all as JSON trees at once.
struct Results<'a, 'b>(&'a ReportInput<'b>);

impl Serialize for Results<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.decision.findings().map(|r| result(self.0, r)))
    }
}

/// The log's outer objects; fields in the order `json!` objects print theirs (sorted), so the output is the
/// same as building the whole log as one tree.
#[derive(Serialize)]
struct Log<'a, 'b> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a, 'b>; 1],
    version: &'static str,
}

#[derive(Serialize)]
struct Run<'a, 'b> {
    #[serde(rename = "automationDetails")]
    automation_details: Value,
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    invocations: Option<Value>,
    #[serde(rename = "originalUriBaseIds", skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<Value>,
    properties: Value,
    results: Results<'a, 'b>,
    tool: Value,
}

/// The rule descriptors of `tool.driver.rules`.
fn rules(input: &ReportInput<'_>) -> Vec<Value> {
    input
        .decision
        .rules
        .iter()
        .map(|info| {
            let meta = input.rules.iter().find(|m| m.id == info.id);
            let description = meta
                .map(|m| m.description.as_str())
                .filter(|s| !s.is_empty())
                .unwrap_or(&info.title);
            let remediation = meta.map(|m| m.remediation.as_str()).unwrap_or("");
            let mut help = description.to_string();
            if !remediation.is_empty() {
                help.push_str("\n\nFix: ");
                help.push_str(remediation);
            }
            let mut props = json!({
                "severity": info.severity,
                "enforcement": info.enforcement,
                "security-severity": security_severity(info.severity),
                "tags": ["security", "terraform", "database"],
            });
            if let Some(m) = meta {
                if !m.references.is_empty() {
                    props["references"] = json!(m.references);
                }
            }
            let mut rule = json!({
                "id": info.id,
                "name": info.id.replace(['-', '.'], ""),
                "shortDescription": {"text": info.title},
                "fullDescription": {"text": description},
                "help": {"text": help, "markdown": help},
                "defaultConfiguration": {"level": match info.enforcement {
                    crate::model::decision::Enforcement::Advisory => "warning",
                    _ => "error",
                }},
                "properties": props,
            });
            if let Some(uri) = meta.and_then(links::rule_doc) {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect()
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Renders the SARIF log without an invocation record (a pure function of the decision).
pub fn render(input: &ReportInput<'_>) -> String {
    render_run(input, None)
}

/// Renders the SARIF log; `invocation` adds the run's exit code and times.
pub fn render_run(input: &ReportInput<'_>, invocation: Option<Invocation>) -> String {
    let d = input.decision;
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [Run {
            automation_details: json!({"id": format!("dbpolicy/{}", d.decision_id)}),
            column_kind: "unicodeCodePoints",
            invocations: invocation.map(|i| {
                json!([{
                    "executionSuccessful": true,
                    "exitCode": i.exit_code,
                    "startTimeUtc": time(i.start),
                    "endTimeUtc": time(i.end),
                }])
            }),
            original_uri_base_ids: input.locations.root_uri().map(
                |u| json!({SRCROOT: {"uri": u, "description": {"text": "The repository root."}}}),
            ),
            properties: if d.ci.is_empty() {
                json!({"bundle_hash": d.bundle_hash, "outcome": d.outcome, "summary": d.summary})
            } else {
                json!({"bundle_hash": d.bundle_hash, "outcome": d.outcome, "summary": d.summary, "ci": d.ci})
            },
            results: Results(input),
            tool: json!({"driver": {
                "name": "dbpolicy",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": links::INFORMATION_URI,
                "rules": rules(input),
            }}),
        }],
        version: "2.1.0",
    };
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}
