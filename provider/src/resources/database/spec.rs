//! Between plan values and the backend's [`DatabaseSpec`]: tier expansion of what the configuration leaves
//! null, reading a spec out of a plan, recovering the user's tags, and backend errors as diagnostics on the
//! attribute they name.

use std::collections::BTreeMap;

use policy::model::tiers::{Tier, TierCatalogue};

use super::schema::MASTER_USERNAME_SUFFIX;
use crate::backend::{BackendError, DatabaseSpec, OpTimeouts};
use crate::framework::access::{get_bool, get_i64, get_string, get_string_map};
use crate::framework::{AttributePath, Diagnostic, Value};

/// `"parameters.work_mem"` -> `parameters["work_mem"]`; other names are top-level attributes.
pub(crate) fn field_path(field: &str) -> AttributePath {
    match field.split_once('.') {
        Some((map @ ("parameters" | "tags"), key)) => AttributePath::attr(map).join_key(key),
        _ => AttributePath::attr(field),
    }
}

/// Turns a backend error into a diagnostic, on the attribute it names when it names one.
pub fn backend_diagnostic(summary: &str, e: &BackendError) -> Diagnostic {
    match e {
        BackendError::Invalid { field, message }
            if !field.contains('.') || field.starts_with("parameters.") =>
        {
            Diagnostic::error(summary, format!("{field}: {message}")).at(field_path(field))
        }
        BackendError::DeletionProtected { .. } => {
            Diagnostic::error(summary, e.to_string()).at(AttributePath::attr("deletion_protection"))
        }
        _ => Diagnostic::error(summary, e.to_string()),
    }
}

pub(crate) fn tier_of<'a>(tiers: &'a TierCatalogue, name: &str) -> Result<&'a Tier, Diagnostic> {
    tiers.get(name).ok_or_else(|| {
        Diagnostic::error(
            "Unknown tier",
            format!(
                "tier {name:?} is not in the tier catalogue; valid tiers are {}.",
                tiers.names().join(", ")
            ),
        )
        .at(AttributePath::attr("tier"))
    })
}

/// The major version a database gets when neither its configuration nor its backend names one (aws): a
/// supported major, so the plan shows what will run and the version guardrails can decide at plan time.
pub(crate) fn golden_major(engine: &str) -> Option<&'static str> {
    match engine {
        "postgres" => Some("16"),
        "mysql" => Some("8.0"),
        _ => None,
    }
}

/// Fills the attributes the configuration leaves null from the tier (and other defaults) into `planned`.
pub(crate) fn expand(
    planned: &mut Value,
    config: &Value,
    prior: &Value,
    tier: &Tier,
    default_major: Option<&str>,
) {
    let set_if_null = |planned: &mut Value, name: &str, v: Value| {
        if config.get(name).is_null() {
            planned.set(name, v);
        }
    };
    set_if_null(planned, "multi_az", Value::Bool(tier.multi_az));
    set_if_null(
        planned,
        "backup_retention_days",
        Value::int(i64::from(tier.min_backup_retention_days)),
    );
    set_if_null(
        planned,
        "deletion_protection",
        Value::Bool(tier.deletion_protection),
    );
    set_if_null(
        planned,
        "instance_class",
        Value::string(&tier.default_instance_class),
    );
    set_if_null(
        planned,
        "performance_insights",
        Value::Bool(tier.performance_insights),
    );
    set_if_null(
        planned,
        "monitoring_interval_seconds",
        Value::int(i64::from(tier.monitoring_interval_seconds)),
    );
    if config.get("engine").is_null() {
        planned.set("engine", Value::string("postgres"));
    }
    if config.get("skip_final_snapshot").is_null() {
        planned.set("skip_final_snapshot", Value::Bool(false));
    }
    if config.get("db_name").is_null() {
        let v = match (prior.get("db_name"), config.get("name")) {
            (Value::String(p), _) => Value::string(p.clone()),
            (_, Value::String(n)) => Value::string(n.replace('-', "_")),
            _ => Value::Unknown,
        };
        planned.set("db_name", v);
    }
    if config.get("master_username").is_null() {
        // MySQL user names are at most 16 characters: the db_name part is shortened to fit.
        let limit = match planned.get("engine").as_str() {
            Some("mysql") => 16 - MASTER_USERNAME_SUFFIX.len(),
            _ => usize::MAX,
        };
        let v = match (prior.get("master_username"), planned.get("db_name")) {
            (Value::String(p), _) => Value::string(p.clone()),
            (_, Value::String(db)) => {
                let base: String = db.chars().take(limit).collect();
                Value::string(format!("{base}{MASTER_USERNAME_SUFFIX}"))
            }
            _ => Value::Unknown,
        };
        planned.set("master_username", v);
    }
    if config.get("engine_version").is_null() {
        let golden = planned.get("engine").as_str().and_then(golden_major);
        let v = match (prior.get("engine_version"), default_major.or(golden)) {
            (Value::String(p), _) => Value::string(p.clone()),
            (_, Some(m)) => Value::string(m),
            _ => Value::Unknown,
        };
        planned.set("engine_version", v);
    }
}

/// Reads a spec out of a (known) planned or state value.
pub(crate) fn spec_from(v: &Value, tiers: &TierCatalogue) -> Result<DatabaseSpec, Diagnostic> {
    let s = |n: &str| -> Result<String, Diagnostic> {
        get_string(v, n)?.known().ok_or_else(|| {
            Diagnostic::error("Missing value", format!("{n} must be known at apply"))
                .at(AttributePath::attr(n))
        })
    };
    let b = |n: &str| -> Result<bool, Diagnostic> { Ok(get_bool(v, n)?.known().unwrap_or(false)) };
    let tier_name = s("tier")?;
    let tier = tier_of(tiers, &tier_name)?;
    let retention = get_i64(v, "backup_retention_days")?
        .known()
        .unwrap_or(i64::from(tier.min_backup_retention_days));
    let retention = u32::try_from(retention).map_err(|_| {
        Diagnostic::error(
            "Invalid backup retention",
            format!("backup_retention_days must be 0 to 35, got {retention}."),
        )
        .at(AttributePath::attr("backup_retention_days"))
    })?;
    Ok(DatabaseSpec {
        name: s("name")?,
        engine: s("engine")?,
        engine_version: get_string(v, "engine_version")?.known(),
        tier: tier_name,
        instance_class: s("instance_class")?,
        db_name: s("db_name")?,
        master_username: s("master_username")?,
        multi_az: b("multi_az")?,
        backup_retention_days: retention,
        point_in_time_recovery: tier.point_in_time_recovery || retention > 0,
        deletion_protection: b("deletion_protection")?,
        tls_required: !tier.min_tls_version.is_empty(),
        min_tls_version: tier.min_tls_version.clone(),
        parameters: get_string_map(v, "parameters")?.known().unwrap_or_default(),
        tags: get_string_map(v, "tags_all")?
            .known()
            .or(get_string_map(v, "tags")?.known())
            .unwrap_or_default(),
        instance: None,
        timeouts: OpTimeouts::default(),
    })
}

pub(crate) fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

/// The tags a user configured, recovered from everything the backend holds: without the provider's default tags
/// and the automatic `tier` tag, unless the configuration (`configured`) sets them itself.
pub(crate) fn user_tags(
    spec: &DatabaseSpec,
    default_tags: &BTreeMap<String, String>,
    configured: &Value,
) -> BTreeMap<String, String> {
    spec.tags
        .iter()
        .filter(|(k, v)| {
            let explicit = !configured.get(k).is_null();
            explicit
                || (default_tags.get(*k) != Some(*v) && !(k.as_str() == "tier" && **v == spec.tier))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
