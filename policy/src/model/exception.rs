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

use crate::model::input::Input;
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
    /// For migrations: only the finding on this line of the file (`resource` is the file glob); unset: every
    /// finding of the rule in matching files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
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
    /// Whether a finding at `path` is covered: any, unless `line` names one (migration findings' paths are
    /// `line:N`).
    pub fn matches_path(&self, path: &str) -> bool {
        self.line.is_none_or(|n| path == format!("line:{n}"))
    }

    /// Whether `address` matches the resource glob.
    pub fn matches(&self, rule_id: &str, address: &str) -> bool {
        self.rule == rule_id && glob_match(self.resource.as_bytes(), address.as_bytes())
    }

    /// Whether it matches a planned resource: by its address, or by its label (`dbplatform_database "orders"`,
    /// see [`resource_label`]), which is all a provider sees, so one entry works in the provider and in the CLI.
    pub fn matches_input(&self, rule_id: &str, input: &Input) -> bool {
        self.matches(rule_id, &input.address)
            || (self.rule == rule_id
                && input_label(input)
                    .is_some_and(|l| glob_match(self.resource.as_bytes(), l.as_bytes())))
    }

    /// Why the pattern can never match a resource as the dbplatform provider sees it (`dbplatform_database
    /// "orders"`), with the form to use; `None` when it can. A Terraform address such as
    /// `dbplatform_database.orders` or `module.db.dbplatform_database.orders` still works in `dbpolicy check` but
    /// never in the provider, which is not sent addresses.
    pub fn provider_mismatch(&self) -> Option<String> {
        let p = self.resource.trim();
        const PROVIDER_TYPES: [&str; 3] = [
            "dbplatform_database",
            "dbplatform_parameter_group",
            "dbplatform_restore_test",
        ];
        // A pattern about other resource types (aws_db_instance...) is for the CLI only: nothing to say.
        let ty = PROVIDER_TYPES.iter().find(|t| p.contains(*t))?;
        // Only the Terraform address form `type.name` is sure to miss: a label has `type "name"`.
        let address_form = format!("{ty}.");
        if !p.contains(&address_form)
            || PROVIDER_TYPES
                .iter()
                .any(|t| glob_match(p.as_bytes(), resource_label(t, "x").as_bytes()))
        {
            return None;
        }
        // The name after the type: `dbplatform_database.orders` -> orders; `module.m.dbplatform_database.x["a"]` -> x.
        let after = p
            .split_once(&format!("{ty}."))
            .map(|(_, rest)| rest)
            .unwrap_or("*");
        let name: String = after
            .chars()
            .take_while(|c| *c != '[' && *c != '.')
            .collect();
        let name = if name.is_empty() { "*".into() } else { name };
        Some(format!(
            "resource {p:?} is a Terraform address, which providers are never sent, so the provider can never \
             apply this exception; write the resource type and the database's name attribute instead: \
             resource: '{}' (this form also matches in dbpolicy check){}",
            resource_label(ty, &name),
            if name == "*" {
                String::new()
            } else {
                format!(
                    "; {name:?} is the Terraform resource name here: use the value of its `name` attribute if it differs"
                )
            }
        ))
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

    /// Parses exceptions from text; `origin` names the file in errors. An error names the exception (its id, else
    /// its position), the field and what was expected; unknown fields are refused by name.
    pub fn parse(text: &str, origin: &str, json: bool) -> Result<Vec<Exception>, ExceptionError> {
        let parse_err = |message: String| ExceptionError::Parse {
            path: origin.into(),
            message,
        };
        if text.trim().is_empty() {
            return Err(parse_err(
                "file is empty; write a list of exceptions or {exceptions: [...]}".into(),
            ));
        }
        let doc: serde_json::Value = if json {
            serde_json::from_str(text).map_err(|e| parse_err(e.to_string()))?
        } else {
            crate::yaml::to_json(text).map_err(|e| parse_err(e.to_string()))?
        };
        let entries = match doc {
            serde_json::Value::Array(l) => l,
            serde_json::Value::Object(mut m) => {
                if let Some(k) = m.keys().find(|k| k.as_str() != "exceptions") {
                    return Err(parse_err(format!(
                        "unknown top-level field `{k}`; expected only `exceptions` (a list of exceptions)"
                    )));
                }
                match m.remove("exceptions") {
                    Some(serde_json::Value::Array(l)) => l,
                    Some(other) => {
                        return Err(parse_err(format!(
                            "`exceptions` must be a list of exceptions, got {}",
                            kind(&other)
                        )))
                    }
                    None => {
                        return Err(parse_err(
                            "missing field `exceptions` (a list of exceptions)".into(),
                        ))
                    }
                }
            }
            other => {
                return Err(parse_err(format!(
                    "expected a list of exceptions or a mapping with an `exceptions` list, got {}",
                    kind(&other)
                )))
            }
        };
        let mut list = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            list.push(entry_from(entry, i, origin)?);
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &list {
            let bad = |message: String| ExceptionError::Invalid {
                path: origin.into(),
                id: e.id.clone(),
                message,
            };
            if !seen.insert(e.id.clone()) {
                return Err(bad("duplicate id; exception ids must be unique".into()));
            }
            if e.expires < e.created {
                return Err(bad(format!(
                    "field `expires`: {} is before created {}; expected a day on or after it",
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

/// The fields of an exception, in file order.
pub const FIELDS: [&str; 10] = [
    "id",
    "rule",
    "resource",
    "owner",
    "reason",
    "ticket",
    "approved_by",
    "created",
    "expires",
    "line",
];

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "nothing (null)",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// One entry of the list (`index` from 0), checked field by field so an error says which exception, which field
/// and what was expected.
fn entry_from(
    entry: serde_json::Value,
    index: usize,
    origin: &str,
) -> Result<Exception, ExceptionError> {
    let position = format!("#{} in the list", index + 1);
    let serde_json::Value::Object(m) = entry else {
        return Err(ExceptionError::Invalid {
            path: origin.into(),
            id: position,
            message: format!(
                "expected a mapping with fields {}, got {}",
                FIELDS.join(", "),
                kind(&entry)
            ),
        });
    };
    // Name it by its id when it has a usable one, else by its position.
    let id = match m.get("id") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => format!("{s} ({position})"),
        _ => position,
    };
    let bad = |message: String| ExceptionError::Invalid {
        path: origin.into(),
        id: id.clone(),
        message,
    };
    if let Some(k) = m.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown field `{k}`; expected one of {}",
            FIELDS.join(", ")
        )));
    }
    let text = |field: &str, required: bool| -> Result<String, ExceptionError> {
        match m.get(field) {
            Some(serde_json::Value::String(s)) => {
                let t = s.trim();
                if required && t.is_empty() {
                    Err(bad(format!(
                        "field `{field}` is empty; expected {}",
                        expected(field)
                    )))
                } else if t.len() > 2 && t.starts_with('<') && t.ends_with('>') && !t.contains(' ')
                {
                    // The provider's ready-to-paste entry leaves `<why>`, `<ticket>`, `<approver>` to fill in: a
                    // pasted entry must not count as approved before someone has.
                    Err(bad(format!(
                        "field `{field}` still holds the placeholder {t:?}; fill in {}",
                        expected(field)
                    )))
                } else {
                    Ok(s.clone())
                }
            }
            // Numbers and booleans written without quotes (`ticket: 123`) are taken as their text.
            Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                Ok(v.to_string())
            }
            None | Some(serde_json::Value::Null) if !required => Ok(String::new()),
            None => Err(bad(format!(
                "missing field `{field}`; expected {}",
                expected(field)
            ))),
            Some(v) => Err(bad(format!(
                "field `{field}`: expected {}, got {}",
                expected(field),
                kind(v)
            ))),
        }
    };
    let date = |field: &str| -> Result<NaiveDate, ExceptionError> {
        let t = text(field, true)?;
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| {
            bad(format!(
                "field `{field}`: expected a date YYYY-MM-DD, got {t:?}"
            ))
        })
    };
    Ok(Exception {
        id: text("id", true)?,
        rule: text("rule", true)?,
        resource: text("resource", true)?,
        owner: text("owner", true)?,
        reason: text("reason", true)?,
        ticket: text("ticket", true)?,
        approved_by: text("approved_by", false)?,
        created: date("created")?,
        expires: date("expires")?,
        line: match m.get("line") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        bad(format!(
                            "field `line`: expected {}, got {v}",
                            expected("line")
                        ))
                    })?,
            ),
        },
    })
}

fn expected(field: &str) -> &'static str {
    match field {
        "id" => "a unique id such as \"EXC-42\"",
        "rule" => "a rule id such as \"DBP-DEL-001\"",
        "resource" => "a resource pattern: a Terraform address glob (module.db.aws_db_instance.*) or, for \
                       dbplatform resources, the type and name as the provider shows them ('dbplatform_database \"orders\"')",
        "created" | "expires" => "a date YYYY-MM-DD",
        "line" => "a line number (1, 2, ...) of the migration file the resource glob names",
        _ => "a non-empty string",
    }
}

/// What providers call a resource, since Terraform never sends them addresses: its type and its `name`
/// attribute, `dbplatform_database "orders"`. `dbpolicy check` gives the same label to the same resource, so an
/// exception written with it matches in both.
pub fn resource_label(resource_type: &str, name: &str) -> String {
    format!("{resource_type} {name:?}")
}

/// The label of a planned resource (see [`resource_label`]): dbplatform resources by their `name` attribute.
pub fn input_label(input: &Input) -> Option<String> {
    if !input.resource_type.starts_with("dbplatform_") {
        return None;
    }
    let name = [input.after.as_ref(), input.before.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|v| v.get_str("name"))?;
    Some(resource_label(&input.resource_type, &name))
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
        assert!(
            e.contains("E1") && e.contains("`expires`") && e.contains("before created"),
            "{e}"
        );
        let e = ExceptionsFile::parse(&YAML.replace("2026-11-20", "tomorrow"), "e.yaml", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("e.yaml"), "{e}");
    }

    #[test]
    fn placeholders_left_in_a_pasted_entry_are_refused_by_field() {
        let y = "- {id: E1, rule: R, resource: '*', owner: team, reason: r, ticket: T-1, approved_by: <approver>, created: 2026-01-01, expires: 2026-01-02}\n";
        let e = ExceptionsFile::parse(y, "exc.yaml", false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("approved_by") && e.contains("still holds the placeholder \"<approver>\""),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_exception_the_field_and_what_was_expected() {
        let err = |text: &str| {
            ExceptionsFile::parse(text, "e.yaml", false)
                .unwrap_err()
                .to_string()
        };
        // A misspelt field is refused by name, for the exception by id.
        let e = err(&YAML.replace("resource:", "resorce:"));
        assert!(
            e.contains("e.yaml")
                && e.contains("exception E1 (#1 in the list)")
                && e.contains("unknown field `resorce`")
                && e.contains("expected one of id, rule, resource"),
            "{e}"
        );
        assert!(!e.contains("untagged"), "{e}");
        let e = err(&YAML.replace("2026-11-20", "tomorrow"));
        assert!(
            e.contains("E1")
                && e.contains("field `expires`: expected a date YYYY-MM-DD, got \"tomorrow\""),
            "{e}"
        );
        let e = err(&YAML.replace("    ticket: T-1\n", ""));
        assert!(
            e.contains("E1") && e.contains("missing field `ticket`"),
            "{e}"
        );
        // Without an id, by position.
        let e = err(&format!("{YAML}  - rule: R\n"));
        assert!(
            e.contains("exception #2 in the list") && e.contains("missing field `id`"),
            "{e}"
        );
        let e = err("exceptons: []\n");
        assert!(e.contains("unknown top-level field `exceptons`"), "{e}");
        let e = err("- just a string\n");
        assert!(
            e.contains("#1 in the list") && e.contains("got a string"),
            "{e}"
        );
        let e = ExceptionsFile::parse(r#"[{"id":"J1","rule":"R","resource":"*","owner":"o","reason":"r","ticket":"t","created":"2026-01-01","expires":"2026-01-02","extra":1}]"#, "e.json", true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("J1") && e.contains("unknown field `extra`"),
            "{e}"
        );
    }

    #[test]
    fn terraform_addresses_of_provider_resources_are_flagged_with_the_form_to_use() {
        let with = |resource: &str| {
            let mut e = ExceptionsFile::parse(YAML, "e.yaml", false)
                .unwrap()
                .remove(0);
            e.resource = resource.into();
            e
        };
        let why = with("dbplatform_database.bad2")
            .provider_mismatch()
            .unwrap();
        assert!(
            why.contains("resource: 'dbplatform_database \"bad2\"'"),
            "{why}"
        );
        let why = with("module.db.dbplatform_database.orders[\"eu\"]")
            .provider_mismatch()
            .unwrap();
        assert!(why.contains("'dbplatform_database \"orders\"'"), "{why}");
        for ok in [
            "dbplatform_database \"orders\"",
            "dbplatform_database*orders*",
            "*",
            "dbplatform_database *",
            "aws_db_instance.legacy",
            "module.a.*",
        ] {
            assert_eq!(with(ok).provider_mismatch(), None, "{ok}");
        }
        assert!(with("dbplatform_database \"orders\"")
            .matches("DBP-X-001", "dbplatform_database \"orders\""));
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
