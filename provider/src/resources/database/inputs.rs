//! Input checks a plan makes before asking the backend: every number in its range (whole numbers where whole
//! numbers are meant), arguments the backend does not use, and engine parameters against the engine's table. Each
//! problem is one diagnostic on its attribute; together with the backend's problems and the guardrails they are
//! reported in one round, so a user fixes everything after one plan.

use super::rds::AWS_ARGUMENTS;
use crate::backend::aws::spec::storage_range;
use crate::backend::engine_params;
use crate::framework::access::{get_string_map, Field};
use crate::framework::{AttributePath, Diagnostic, Value};

/// One numeric argument's allowed whole numbers.
struct Range {
    name: &'static str,
    min: i64,
    max: i64,
    unit: String,
}

fn ranges(planned: &Value, instance_settings: bool) -> Vec<Range> {
    let mut out = vec![
        Range {
            name: "backup_retention_days",
            min: 0,
            max: 35,
            unit: "days".into(),
        },
        Range {
            name: "monitoring_interval_seconds",
            min: 0,
            max: 60,
            unit: "seconds (0, 1, 5, 10, 15, 30 or 60)".into(),
        },
    ];
    if instance_settings {
        let storage_type = planned.get("storage_type").as_str().unwrap_or("gp3");
        let (min, max) = storage_range(storage_type).unwrap_or((20, 65_536));
        for name in ["allocated_storage_gb", "max_allocated_storage_gb"] {
            out.push(Range {
                name,
                min: i64::from(min),
                max: i64::from(max),
                unit: format!("GiB for {storage_type} storage"),
            });
        }
    }
    out
}

/// Checks `planned` (the configuration with the tier's values filled in). Returns the problems; `checked` (a copy
/// of `planned`) gets every refused number clamped into its range and every refused argument nulled, so the
/// backend's own checks run on the rest and do not report the same problem twice.
pub(super) fn check(
    planned: &Value,
    checked: &mut Value,
    instance_settings: bool,
    backend: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if !instance_settings {
        for name in AWS_ARGUMENTS {
            if !planned.get(name).is_null() {
                out.push(
                    Diagnostic::error(
                        "Argument not supported on this backend",
                        format!(
                            "{name} is a managed-instance (aws) setting; the {backend} backend does not use it. Remove \
                             it, or configure the provider with backend = \"aws\"."
                        ),
                    )
                    .at(AttributePath::attr(*name)),
                );
                checked.set(name, Value::Null);
            }
        }
    }
    for r in ranges(planned, instance_settings) {
        let Value::Number(n) = planned.get(r.name) else {
            continue;
        };
        let value = n.as_i64().filter(|v| (r.min..=r.max).contains(v));
        if value.is_some() {
            continue;
        }
        let why = if n.as_i64().is_none() && n.as_str().contains('.') {
            "not a whole number"
        } else {
            "out of range"
        };
        out.push(
            Diagnostic::error(
                "Invalid number",
                format!(
                    "{} must be a whole number from {} to {} {}, got {n} ({why}).",
                    r.name, r.min, r.max, r.unit
                ),
            )
            .at(AttributePath::attr(r.name)),
        );
        let clamped = match n.as_i64() {
            Some(v) => v.clamp(r.min, r.max),
            None if n.as_str().starts_with('-') => r.min,
            None => r.max,
        };
        checked.set(r.name, Value::int(clamped));
    }
    if let (Some(engine), Ok(Field::Known(params))) = (
        planned.get("engine").as_str(),
        get_string_map(planned, "parameters"),
    ) {
        for (k, v) in &params {
            if let Err(why) = engine_params::check(engine, k, v) {
                out.push(
                    Diagnostic::error(
                        "Invalid engine parameter",
                        format!("parameters.{k}: {why}."),
                    )
                    .at(AttributePath::attr("parameters").join_key(k.clone())),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::framework::Severity;

    fn planned(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::Object(BTreeMap::new());
        v.set("engine", Value::string("postgres"));
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    fn number(s: &str) -> Value {
        Value::Number(crate::framework::Number::parse(s).unwrap())
    }

    fn details(p: &Value, aws: bool) -> (Vec<String>, Value) {
        let mut checked = p.clone();
        let d = check(p, &mut checked, aws, if aws { "aws" } else { "local" });
        assert!(d.iter().all(|d| d.severity == Severity::Error));
        (d.into_iter().map(|d| d.detail).collect(), checked)
    }

    #[test]
    fn numbers_are_whole_and_in_range_with_the_real_range_named() {
        for bad in ["-5", "20.5", "1e20"] {
            let (d, checked) = details(&planned(&[("allocated_storage_gb", number(bad))]), true);
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert!(
                d[0].starts_with("allocated_storage_gb must be a whole number from 20 to 65536 GiB for gp3 storage"),
                "{d:?}"
            );
            let n = checked.get("allocated_storage_gb").as_i64().unwrap();
            assert!((20..=65_536).contains(&n));
        }
        let (d, _) = details(&planned(&[("backup_retention_days", number("1e30"))]), true);
        assert_eq!(
            d,
            vec!["backup_retention_days must be a whole number from 0 to 35 days, got 1000000000000000000000000000000 (out of range).".to_string()]
        );
        let (d, _) = details(&planned(&[("allocated_storage_gb", Value::int(100))]), true);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn instance_arguments_are_refused_where_unused() {
        let p = planned(&[
            ("allocated_storage_gb", number("-5")),
            ("kms_key_id", Value::string("k")),
        ]);
        let (d, checked) = details(&p, false);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(
            d.iter()
                .all(|d| d.contains("the local backend does not use it")),
            "{d:?}"
        );
        assert!(checked.get("allocated_storage_gb").is_null());
    }

    #[test]
    fn parameters_are_checked_against_the_engine() {
        let p = planned(&[(
            "parameters",
            Value::Map(BTreeMap::from([
                ("work_mem".to_string(), Value::string("abc")),
                ("log_connections".to_string(), Value::string("on")),
            ])),
        )]);
        let (d, _) = details(&p, true);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("parameters.work_mem: \"abc\" is not a whole number"),
            "{d:?}"
        );
    }
}
