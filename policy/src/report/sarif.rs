//! SARIF 2.1.0: one run, the bundle's rules with help text, one result per finding with a physical location
//! (the `.tf` declaration) when found, else a logical location naming the resource address.
//! Exempted and overridden findings carry a SARIF suppression, so code scanning shows them as dismissed.

use serde::Serialize;
use serde_json::{json, Value};

use crate::model::decision::{Severity, Status};
use crate::report::report_input::ReportInput;

fn level(input: &ReportInput<'_>, r: &crate::model::decision::RuleResult) -> &'static str {
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

/// One SARIF result for a finding.
fn result(input: &ReportInput<'_>, r: &crate::model::decision::RuleResult) -> Value {
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
    let logical = json!([{"fullyQualifiedName": r.address, "kind": "resource"}]);
    let location = match input.locations.get(&r.address) {
        Some(l) => json!({
            "physicalLocation": {"artifactLocation": {"uri": l.file}, "region": {"startLine": l.line}},
            "logicalLocations": logical,
        }),
        None => json!({"logicalLocations": logical}),
    };
    let mut res = json!({
        "ruleId": r.rule_id,
        "ruleIndex": rule_index,
        "level": level(input, r),
        "message": {"text": text},
        "locations": [location],
        "properties": {"status": r.status, "attributePath": r.path, "severity": r.severity},
    });
    if let Some(e) = &r.exception {
        res["suppressions"] = json!([{"kind": "external", "status": "accepted",
            "justification": format!("exception {} ({}) approved by {} until {}: {}", e.id, e.ticket, e.approved_by, e.expires, e.reason)}]);
    } else if let Some(o) = &r.override_ {
        res["suppressions"] = json!([{"kind": "external", "status": "accepted",
            "justification": format!("overridden by {}: {}", o.by, o.reason)}]);
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
    properties: Value,
    results: Results<'a, 'b>,
    tool: Value,
}

/// Renders the SARIF log.
pub fn render(input: &ReportInput<'_>) -> String {
    let d = input.decision;
    let rules: Vec<Value> = d
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
            json!({
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
            })
        })
        .collect();
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [Run {
            automation_details: json!({"id": format!("dbpolicy/{}", d.decision_id)}),
            properties: json!({"bundle_hash": d.bundle_hash, "outcome": d.outcome, "summary": d.summary}),
            results: Results(input),
            tool: json!({"driver": {
                "name": "dbpolicy",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }}),
        }],
        version: "2.1.0",
    };
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}
