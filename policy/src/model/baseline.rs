//! Baseline files: the findings a team has accepted for now, so `dbpolicy check --baseline FILE` fails only on
//! findings that are new (checkov's `--baseline`).
//!
//! `dbpolicy baseline create PLAN... -o FILE` writes one; YAML or JSON (by extension: `.json` is JSON, anything
//! else YAML, which also reads JSON):
//!
//! ```yaml
//! schema: dbpolicy.baseline/v1
//! created: 2026-11-25T12:00:00Z        # informational
//! findings:
//!   - rule_id: DBP-BAK-001             # the key: rule id + resource address + attribute path
//!     address: aws_db_instance.legacy
//!     path: backup_retention_period    # "" when the rule names no attribute
//!     status: fail                     # informational: what it was when the baseline was made
//!     message: retention is 1 day      # part of the key only when path is empty
//! ```
//!
//! A finding matches an entry when rule id, address and path are equal; line numbers are not part of the key,
//! nor is the message, except for findings without an attribute path (conftest rules, whose address is the plan
//! file), where rule and address alone cannot tell findings apart. Rewording a rule or moving code keeps its
//! baseline.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::decision::{BaselineKey, Decision, Status};

/// Schema tag of baseline files.
pub const BASELINE_SCHEMA: &str = "dbpolicy.baseline/v1";

/// One accepted finding as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineEntry {
    pub rule_id: String,
    pub address: String,
    /// Attribute path; empty when the rule names none.
    #[serde(default)]
    pub path: String,
    /// The finding's status when the baseline was made (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The finding's message when the baseline was made: part of the key when `path` is empty, else
    /// informational.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl BaselineEntry {
    /// The matching key (rule id, address, path).
    pub fn key(&self) -> BaselineKey {
        BaselineKey::of(&self.rule_id, &self.address, &self.path, &self.message)
    }
}

/// The file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineFile {
    /// Always `dbpolicy.baseline/v1`.
    pub schema: String,
    /// When it was made, RFC 3339 (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub findings: Vec<BaselineEntry>,
}

/// A baseline read from a file, ready for the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The file as named by the caller.
    pub file: String,
    /// `sha256:` + hex of the file's bytes.
    pub sha256: String,
    pub entries: Vec<BaselineEntry>,
}

/// Why a baseline file cannot be used: each message names the file, the entry and the field, and the fix.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read baseline: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a valid baseline file: {message}; make one with `dbpolicy baseline create PLAN -o {path}`")]
    Parse { path: String, message: String },
    #[error("{path}: findings[{index}]: {message}")]
    Entry {
        path: String,
        index: usize,
        message: String,
    },
    #[error("{path}: cannot write baseline: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl Baseline {
    /// Reads and checks a baseline file.
    pub fn from_file(path: &Path) -> Result<Self, BaselineError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| BaselineError::Read {
            path: name.clone(),
            source,
        })?;
        Self::from_bytes(&name, &bytes, is_json(path))
    }

    /// Parses a baseline named `name` (for messages) from its bytes; `json` picks the JSON parser.
    pub fn from_bytes(name: &str, bytes: &[u8], json: bool) -> Result<Self, BaselineError> {
        let parse = |message: String| BaselineError::Parse {
            path: name.to_string(),
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| parse(format!("not UTF-8: {e}")))?;
        let doc: Value = if json {
            serde_json::from_str(text).map_err(|e| parse(e.to_string()))?
        } else {
            crate::yaml::to_json(text).map_err(|e| parse(e.to_string()))?
        };
        let obj = doc.as_object().ok_or_else(|| {
            parse("the document must be an object with `schema` and `findings`".into())
        })?;
        match obj.get("schema").and_then(Value::as_str) {
            Some(BASELINE_SCHEMA) => {}
            Some(other) => {
                return Err(parse(format!(
                    "`schema` is {other:?}; this dbpolicy reads {BASELINE_SCHEMA:?}"
                )))
            }
            None => {
                return Err(parse(format!(
                    "`schema` is missing; the first line should be `schema: {BASELINE_SCHEMA}`"
                )))
            }
        }
        let findings = obj
            .get("findings")
            .and_then(Value::as_array)
            .ok_or_else(|| parse("`findings` is missing or not a list".into()))?;
        let mut entries = Vec::with_capacity(findings.len());
        for (index, f) in findings.iter().enumerate() {
            entries.push(entry(name, index, f)?);
        }
        Ok(Baseline {
            file: name.to_string(),
            sha256: format!("sha256:{}", crate::hex::lower(&Sha256::digest(bytes))),
            entries,
        })
    }
}

/// Checks one entry, naming the field and the fix.
fn entry(name: &str, index: usize, f: &Value) -> Result<BaselineEntry, BaselineError> {
    let err = |message: String| BaselineError::Entry {
        path: name.to_string(),
        index,
        message,
    };
    let obj = f.as_object().ok_or_else(|| {
        err(
            "must be an object with rule_id, address and path (see `dbpolicy baseline create`)"
                .into(),
        )
    })?;
    let field = |key: &str, required: bool| -> Result<String, BaselineError> {
        match obj.get(key) {
            Some(Value::String(s)) if !(required && s.trim().is_empty()) => Ok(s.clone()),
            Some(Value::String(_)) => Err(err(format!(
                "`{key}` is empty; set it to the finding's {key} as `dbpolicy check --format json` shows it"
            ))),
            None if !required => Ok(String::new()),
            None => Err(err(format!(
                "`{key}` is missing; every entry needs rule_id, address and path (path may be \"\")"
            ))),
            Some(other) => Err(err(format!(
                "`{key}` must be a string, got {other}; quote it"
            ))),
        }
    };
    let rule_id = field("rule_id", true)?;
    let address = field("address", true)?;
    let path = field("path", false)?;
    let message = field("message", false)?;
    let status = match obj.get("status") {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value(v.clone()).map_err(|_| {
            err(format!(
                "`status` {v} is not a status; use fail, warn or unknown, or remove the field"
            ))
        })?),
    };
    if let Some(unknown) = obj
        .keys()
        .find(|k| !["rule_id", "address", "path", "status", "message"].contains(&k.as_str()))
    {
        return Err(err(format!(
            "unknown field `{unknown}`; an entry has rule_id, address, path, status and message"
        )));
    }
    Ok(BaselineEntry {
        rule_id,
        address,
        path,
        status,
        message,
    })
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The statuses a baseline accepts: findings that fail or need a reader (not exempted, overridden or skipped
/// ones, which are accounted for elsewhere).
pub fn baselinable(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Warn | Status::Unknown)
}

/// The baseline of a decision: every failing, warning or unknown finding, one entry per key, in decision order.
pub fn from_decision(d: &Decision) -> BaselineFile {
    let mut seen = std::collections::BTreeSet::new();
    let findings = d
        .results
        .iter()
        .filter(|r| baselinable(r.status))
        .filter(|r| seen.insert(BaselineKey::of(&r.rule_id, &r.address, &r.path, &r.message)))
        .map(|r| BaselineEntry {
            rule_id: r.rule_id.to_string(),
            address: r.address.to_string(),
            path: r.path.clone(),
            status: Some(r.status),
            message: r.message.clone(),
        })
        .collect();
    BaselineFile {
        schema: BASELINE_SCHEMA.into(),
        created: Some(d.timestamp.clone()),
        findings,
    }
}

/// Writes `file` to `path` (JSON for `.json`, YAML otherwise).
pub fn write(path: &Path, file: &BaselineFile) -> Result<(), BaselineError> {
    let name = path.display().to_string();
    let text = if is_json(path) {
        serde_json::to_string_pretty(file).map(|mut s| {
            s.push('\n');
            s
        })
    } else {
        crate::yaml::to_string(file).map_err(|e| serde::ser::Error::custom(e.to_string()))
    }
    .map_err(|e| BaselineError::Write {
        path: name.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(path, text).map_err(|source| BaselineError::Write { path: name, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_entries_name_index_field_and_fix() {
        let err = Baseline::from_bytes(
            "b.yaml",
            b"schema: dbpolicy.baseline/v1\nfindings:\n  - {rule_id: A, address: x}\n  - {rule_id: B}\n",
            false,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "b.yaml: findings[1]: `address` is missing; every entry needs rule_id, address and path (path may be \"\")"
        );
        let err = Baseline::from_bytes("b.json", br#"{"findings": []}"#, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`schema` is missing"), "{err}");
        let err = Baseline::from_bytes(
            "b.yaml",
            b"schema: dbpolicy.baseline/v1\nfindings:\n  - {rule_id: A, address: x, path: 3}\n",
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("findings[0]: `path` must be a string"),
            "{err}"
        );
    }

    #[test]
    fn a_good_file_is_hashed() {
        let b = Baseline::from_bytes(
            "b.yaml",
            b"schema: dbpolicy.baseline/v1\nfindings:\n  - {rule_id: A, address: x, path: p, status: fail}\n",
            false,
        )
        .unwrap();
        assert_eq!(b.entries[0].key().path, "p");
        assert!(b.sha256.starts_with("sha256:") && b.sha256.len() == 71);
    }
}
