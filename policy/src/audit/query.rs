//! Reading records back and filtering them (`dbpolicy audit query`): the exact lines are returned, so every
//! selected record can still be checked against its own hash.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use globset::{Glob, GlobMatcher};
use serde_json::Value;

use super::error::AuditError;
use super::log::segments;

/// A record as read from the log: its parsed form and its exact line.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub value: Value,
    pub line: String,
}

impl StoredRecord {
    /// `kind` of the record.
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    /// When the record was appended.
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        let t = self.value.get("timestamp").and_then(Value::as_str)?;
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// Resource addresses this record is about (decision resources, restore-test database, applied address).
    pub fn resources(&self) -> Vec<&str> {
        let v = &self.value;
        match self.kind() {
            "decision" => v
                .pointer("/result/resources")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.get("address").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default(),
            "restore_test" | "failover_drill" | "break_glass" | "password_rotation" => v
                .get("database")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
            "apply" => v
                .get("address")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `pass`/`fail` for decisions, `succeeded`/`failed` for restore tests and applies, `repaired` for repairs,
    /// `granted`/`renewed`/`revoked` for break-glass events, `rotated` for password rotations.
    pub fn outcome(&self) -> &str {
        match self.kind() {
            "decision" => self
                .value
                .get("outcome")
                .and_then(Value::as_str)
                .unwrap_or(""),
            "restore_test" | "apply" | "failover_drill" => {
                if self
                    .value
                    .get("succeeded")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    "succeeded"
                } else {
                    "failed"
                }
            }
            "repair" => "repaired",
            // What happened to the access: granted, renewed or revoked.
            "break_glass" => match self.value.get("event").and_then(Value::as_str) {
                Some("grant") => "granted",
                Some("renew") => "renewed",
                Some("revoke") => "revoked",
                _ => "",
            },
            "password_rotation" => "rotated",
            _ => "",
        }
    }
}

/// Every parseable record of the log (all rotated files, in order); lines that are not JSON are skipped here
/// (`verify` reports them).
pub fn read_records(path: &Path) -> Result<Vec<StoredRecord>, AuditError> {
    let files = segments(path)?;
    if files.is_empty() {
        return Err(AuditError::io(
            path,
            "open",
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such audit log"),
        ));
    }
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| AuditError::io(&f, "read", e))?;
        for line in text.split_inclusive('\n') {
            let Some(line) = line.strip_suffix('\n') else {
                continue; // torn last line
            };
            if let Ok(value) = serde_json::from_str::<Value>(line) {
                out.push(StoredRecord {
                    value,
                    line: line.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Parses `YYYY-MM-DD` or RFC 3339. A bare date means the start of that day (`end_of_day = false`) or its end.
pub fn parse_date(s: &str, end_of_day: bool, flag: &str) -> Result<DateTime<Utc>, AuditError> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AuditError::Config(format!(
            "{flag} {s:?}: expected a date YYYY-MM-DD or an RFC 3339 timestamp"
        ))
    })?;
    let t = if end_of_day {
        d.and_hms_nano_opt(23, 59, 59, 999_999_999)
    } else {
        d.and_hms_opt(0, 0, 0)
    };
    t.map(|t| t.and_utc())
        .ok_or_else(|| AuditError::Config(format!("{flag} {s:?}: not a valid date")))
}

/// Filters for `query` (all given filters must match).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Set with [`Filter::with_resource`].
    pub resource: Option<GlobMatcher>,
    pub rule: Option<String>,
    pub outcome: Option<String>,
    pub kind: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Filter {
    /// Sets the resource glob (`*` matches within and across address parts, e.g. `module.data.*`).
    pub fn with_resource(mut self, glob: &str) -> Result<Self, AuditError> {
        let g = Glob::new(glob).map_err(|e| {
            AuditError::Config(format!("--resource {glob:?} is not a valid glob: {e}"))
        })?;
        self.resource = Some(g.compile_matcher());
        Ok(self)
    }

    /// True when the record passes every filter.
    pub fn matches(&self, r: &StoredRecord) -> bool {
        if let Some(k) = &self.kind {
            if r.kind() != k {
                return false;
            }
        }
        if self.from.is_some() || self.to.is_some() {
            let Some(t) = r.timestamp() else { return false };
            if self.from.is_some_and(|f| t < f) || self.to.is_some_and(|to| t > to) {
                return false;
            }
        }
        if let Some(o) = &self.outcome {
            if r.outcome() != o {
                return false;
            }
        }
        if let Some(g) = &self.resource {
            if !r.resources().iter().any(|a| g.is_match(a)) {
                return false;
            }
        }
        if let Some(rule) = &self.rule {
            let has = r
                .value
                .pointer("/result/resources")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .any(|res| res.pointer(&format!("/rules/{}", escape(rule))).is_some())
                });
            if !has {
                return false;
            }
        }
        true
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> StoredRecord {
        StoredRecord {
            line: v.to_string(),
            value: v,
        }
    }

    #[test]
    fn filters_by_resource_rule_outcome_and_time() {
        let d = rec(
            json!({"kind": "decision", "timestamp": "2026-11-20T10:00:00Z", "outcome": "fail",
            "result": {"resources": [{"address": "module.data.aws_db_instance.orders", "rules": {"DBP-ENC-001": "fail"}}]}}),
        );
        let f = Filter::default().with_resource("module.data.*").unwrap();
        assert!(f.matches(&d));
        let f = Filter::default()
            .with_resource("aws_db_instance.*")
            .unwrap();
        assert!(!f.matches(&d));
        let f = Filter {
            rule: Some("DBP-ENC-001".into()),
            outcome: Some("fail".into()),
            from: Some(parse_date("2026-11-20", false, "--from").unwrap()),
            to: Some(parse_date("2026-11-20", true, "--to").unwrap()),
            ..Default::default()
        };
        assert!(f.matches(&d));
        let f = Filter {
            rule: Some("DBP-X".into()),
            ..Default::default()
        };
        assert!(!f.matches(&d));
        assert!(parse_date("20-11-2026", false, "--from")
            .unwrap_err()
            .to_string()
            .contains("--from"));
    }
}
