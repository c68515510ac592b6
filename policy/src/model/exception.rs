//! Exceptions: time-boxed, approved waivers of one rule for matching resources.
//!
//! An exceptions file is YAML or JSON, either a list of exceptions or an object `{exceptions: [...]}`:
//!
//! ```yaml
//! exceptions:
//!   - id: EXC-42
//!     rule: DBP-BAK-001
//!     resource: module.legacy.aws_db_instance.*   # address glob: `*` any run of characters, `?` one character
//!     owner: payments
//!     reason: Migration to the golden path tracked in PAY-123
//!     ticket: PAY-123
//!     approved_by: jane.doe
//!     created: 2026-11-01   # when it was approved; lifetime = expires - created
//!     expires: 2026-12-01   # last day it applies, mandatory
//! ```
//!
//! An exception applies only while approved (non-empty `approved_by`), unexpired, and no longer-lived than the
//! `max_exception_days` of the resource's tier (the strictest tier when the resource has none). One that does not
//! apply is reported in the decision with the reason, never silently ignored.

use std::path::Path;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::TierCatalogue;

/// One exception as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Unique id, quoted in reports and audit records.
    pub id: String,
    /// The rule id (`DBP-...`) it waives.
    pub rule: String,
    /// Resource address glob (`*` any characters, `?` one character).
    pub resource: String,
    /// Team that owns the risk.
    pub owner: String,
    pub reason: String,
    /// Tracking ticket for removing the exception.
    pub ticket: String,
    /// Who approved it; empty means not approved, and it does not apply.
    #[serde(default)]
    pub approved_by: String,
    /// Day it was approved (`YYYY-MM-DD`); the lifetime is measured from here.
    pub created: NaiveDate,
    /// Last day it applies (`YYYY-MM-DD`), inclusive.
    pub expires: NaiveDate,
}

/// The file form: a list, or an object with an `exceptions` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExceptionsFile {
    Wrapped { exceptions: Vec<Exception> },
    List(Vec<Exception>),
}

/// Why an exceptions file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ExceptionError {
    #[error("cannot read exceptions file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("exceptions file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("exceptions file {path}: exception {id}: {message}")]
    Invalid {
        path: String,
        id: String,
        message: String,
    },
}

/// Whether an exception applies to one resource at a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    Applies,
    Expired,
    Unapproved,
    /// Lifetime in days and the tier's maximum.
    TooLong {
        days: i64,
        max: u32,
        tier: String,
    },
}

impl Exception {
    /// Whether `address` matches the resource glob.
    pub fn matches(&self, rule_id: &str, address: &str) -> bool {
        self.rule == rule_id && glob_match(self.resource.as_bytes(), address.as_bytes())
    }

    /// Whether it applies on `today` to a resource of `tier` (None = no tier: strictest limit).
    pub fn applicability(
        &self,
        today: NaiveDate,
        tier: Option<&str>,
        tiers: &TierCatalogue,
    ) -> Applicability {
        if self.approved_by.trim().is_empty() {
            return Applicability::Unapproved;
        }
        if today > self.expires {
            return Applicability::Expired;
        }
        let limit =
            match tier.and_then(|t| tiers.get(t).map(|x| (t.to_string(), x.max_exception_days))) {
                Some(l) => Some(l),
                None => tiers
                    .tiers
                    .iter()
                    .min_by_key(|(_, t)| t.max_exception_days)
                    .map(|(n, t)| (n.clone(), t.max_exception_days)),
            };
        let days = (self.expires - self.created).num_days();
        if let Some((tier, max)) = limit {
            if days > i64::from(max) {
                return Applicability::TooLong { days, max, tier };
            }
        }
        Applicability::Applies
    }
}

impl ExceptionsFile {
    /// Loads and checks an exceptions file (YAML, or JSON when named `*.json`).
    pub fn load(path: &Path) -> Result<Vec<Exception>, ExceptionError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ExceptionError::Read {
            path: origin.clone(),
            source,
        })?;
        Self::parse(
            &text,
            &origin,
            path.extension().is_some_and(|e| e == "json"),
        )
    }

    /// Parses exceptions from text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str, json: bool) -> Result<Vec<Exception>, ExceptionError> {
        if text.trim().is_empty() {
            return Err(ExceptionError::Parse {
                path: origin.into(),
                message: "file is empty; write a list of exceptions or {exceptions: [...]}".into(),
            });
        }
        let file: ExceptionsFile =
            if json {
                serde_json::from_str(text).map_err(|e| ExceptionError::Parse {
                    path: origin.into(),
                    message: e.to_string(),
                })?
            } else {
                // Look at the top-level shape first, then deserialize from the text so errors keep line and column.
                let v: serde_json::Value =
                    crate::yaml::to_json(text).map_err(|e| ExceptionError::Parse {
                        path: origin.into(),
                        message: e.to_string(),
                    })?;
                let parse_err = |e: crate::yaml::YamlError| ExceptionError::Parse {
                    path: origin.into(),
                    message: e.to_string(),
                };
                match v {
                    serde_json::Value::Object(_) => {
                        #[derive(Deserialize)]
                        #[serde(deny_unknown_fields)]
                        struct Wrapped {
                            exceptions: Vec<Exception>,
                        }
                        let w: Wrapped = crate::yaml::from_str(text).map_err(parse_err)?;
                        ExceptionsFile::List(w.exceptions)
                    }
                    serde_json::Value::Array(_) => {
                        ExceptionsFile::List(crate::yaml::from_str(text).map_err(parse_err)?)
                    }
                    _ => return Err(ExceptionError::Parse {
                        path: origin.into(),
                        message:
                            "expected a list of exceptions or a mapping with an `exceptions` list"
                                .into(),
                    }),
                }
            };
        let list = match file {
            ExceptionsFile::Wrapped { exceptions } => exceptions,
            ExceptionsFile::List(l) => l,
        };
        let mut seen = std::collections::BTreeSet::new();
        for e in &list {
            let bad = |message: String| ExceptionError::Invalid {
                path: origin.into(),
                id: e.id.clone(),
                message,
            };
            if e.id.trim().is_empty() {
                return Err(bad("id is empty; give every exception a unique id".into()));
            }
            if !seen.insert(e.id.clone()) {
                return Err(bad("duplicate id; exception ids must be unique".into()));
            }
            if e.rule.trim().is_empty() || e.resource.trim().is_empty() {
                return Err(bad("rule and resource must not be empty".into()));
            }
            if e.expires < e.created {
                return Err(bad(format!(
                    "expires {} is before created {}",
                    e.expires, e.created
                )));
            }
        }
        Ok(list)
    }

    /// JSON Schema of the exceptions file.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(ExceptionsFile))
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Glob over bytes: `*` any run (including empty), `?` exactly one byte, everything else literal.
pub fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const YAML: &str = "exceptions:\n  - id: E1\n    rule: DBP-X-001\n    resource: module.a.aws_db_instance.*\n    owner: team\n    reason: r\n    ticket: T-1\n    approved_by: jane\n    created: 2026-11-01\n    expires: 2026-11-20\n";

    #[test]
    fn glob_matches_addresses() {
        assert!(glob_match(
            b"module.a.*",
            b"module.a.aws_db_instance.x[\"eu\"]"
        ));
        assert!(glob_match(b"aws_db_instance.?", b"aws_db_instance.x"));
        assert!(!glob_match(b"aws_db_instance.x", b"aws_db_instance.xy"));
        assert!(glob_match(b"*", b""));
    }

    #[test]
    fn yaml_and_json_forms_load() {
        let l = ExceptionsFile::parse(YAML, "e.yaml", false).unwrap();
        assert_eq!(l[0].id, "E1");
        assert!(l[0].matches("DBP-X-001", "module.a.aws_db_instance.db"));
        let j = r#"[{"id":"E1","rule":"R","resource":"*","owner":"o","reason":"r","ticket":"t","approved_by":"a","created":"2026-01-01","expires":"2026-01-02"}]"#;
        assert_eq!(ExceptionsFile::parse(j, "e.json", true).unwrap().len(), 1);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let e = ExceptionsFile::parse("exceptions:\n  - id: E1\n", "e.yaml", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("e.yaml") && e.contains("missing field"), "{e}");
        let e = ExceptionsFile::parse(&YAML.replace("2026-11-20", "2026-10-01"), "e.yaml", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("before created"), "{e}");
        let e = ExceptionsFile::parse(&YAML.replace("2026-11-20", "tomorrow"), "e.yaml", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("e.yaml"), "{e}");
    }

    #[test]
    fn applicability_checks_approval_expiry_and_tier_limit() {
        let tiers = TierCatalogue::embedded();
        let mut e = ExceptionsFile::parse(YAML, "e.yaml", false)
            .unwrap()
            .remove(0);
        assert_eq!(
            e.applicability(d("2026-11-20"), Some("tier-0"), &tiers),
            Applicability::Applies
        );
        assert_eq!(
            e.applicability(d("2026-11-21"), Some("tier-0"), &tiers),
            Applicability::Expired
        );
        e.expires = d("2027-01-15");
        assert!(matches!(
            e.applicability(d("2026-11-21"), Some("tier-0"), &tiers),
            Applicability::TooLong { max: 30, .. }
        ));
        assert!(matches!(
            e.applicability(d("2026-11-21"), None, &tiers),
            Applicability::TooLong { max: 30, .. }
        ));
        assert_eq!(
            e.applicability(d("2026-11-21"), Some("tier-2"), &tiers),
            Applicability::Applies
        );
        e.approved_by.clear();
        assert_eq!(
            e.applicability(d("2026-11-21"), Some("tier-2"), &tiers),
            Applicability::Unapproved
        );
    }
}
