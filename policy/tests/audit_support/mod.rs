//! Shared helpers of the audit integration tests: sample records and line surgery on log files.
#![allow(dead_code)]

use std::path::Path;

use policy::audit::{decision_record, input_sha256, DecisionMeta, RecordBody};
use serde_json::{json, Value};

/// A decision body for resource `n` with the given outcome.
pub fn decision_body(n: u64, outcome: &str) -> RecordBody {
    let status = if outcome == "pass" { "pass" } else { "fail" };
    let d = json!({
        "schema": "dbplatform.decision/v1",
        "decision_id": format!("00000000-0000-4000-8000-{n:012}"),
        "timestamp": "2026-11-25T10:00:00Z",
        "bundle_hash": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        "rules": [{"id": "DBP-ENC-001", "version": "1.0.0"}, {"id": "DBP-BAK-001", "version": "1.2.0"}],
        "results": [
            {"rule_id": "DBP-ENC-001", "status": "pass", "address": format!("aws_db_instance.db{n}")},
            {"rule_id": "DBP-BAK-001", "status": status, "address": format!("aws_db_instance.db{n}"),
             "path": "backup_retention_period", "message": if status == "fail" { "retention 1 day is below 7" } else { "" }}
        ],
        "summary": {"resources": 1, "pass": 1, "fail": u64::from(status == "fail")},
        "outcome": outcome
    });
    let meta = DecisionMeta {
        source: "cli".into(),
        version: "0.1.0".into(),
        terraform_workspace: Some("default".into()),
        terraform_version: Some("1.0.3".into()),
        input_sha256: input_sha256(&json!({"n": n})).unwrap(),
        bundle_name: None,
    };
    decision_record(&d, &meta).unwrap()
}

/// The lines of a file (without newlines; a torn last line is included as is).
pub fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_inclusive('\n')
        .map(|l| l.trim_end_matches('\n').to_string())
        .collect()
}

/// Writes complete lines back.
pub fn write_lines(path: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(path, s).unwrap();
}

/// Parses a line.
pub fn value(line: &str) -> Value {
    serde_json::from_str(line).unwrap()
}
