//! The state after apply, read and import: configuration-like attributes from the plan, everything else from
//! what the backend reports (with the managed-instance details where there are some).

use std::collections::BTreeMap;

use super::rds;
use super::spec::{string_map, user_tags};
use crate::backend::{DatabaseBackend, DatabaseInfo};
use crate::framework::Value;

/// Puts what only a managed service reports (ARN, storage, windows, pending modifications ...) into a state
/// value; nothing when `info` has no such details.
pub(crate) fn merge_instance(state: &mut Value, info: &DatabaseInfo, base: Option<&Value>) {
    if info.details.is_none() {
        return;
    }
    for (k, v) in rds::state_values(Some(info), base) {
        state.set(&k, v);
    }
}

/// A value with every unknown replaced by null (state can hold no unknowns).
pub(crate) fn unknowns_to_null(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(xs) => Value::List(xs.iter().map(unknowns_to_null).collect()),
        Value::Set(xs) => Value::Set(xs.iter().map(unknowns_to_null).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, x)| (k.clone(), unknowns_to_null(x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), unknowns_to_null(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `log_exports` as a list value: what the backend exports for this engine (see the aws backend).
pub(crate) fn log_exports_value(backend: &dyn DatabaseBackend, engine: &str) -> Value {
    Value::List(
        backend
            .log_exports(engine)
            .into_iter()
            .map(Value::string)
            .collect(),
    )
}

/// The state after apply/read/import: configuration-like attributes from `base` (the plan) where it has them,
/// everything the backend knows from `info`.
pub(crate) fn state_from(
    info: &DatabaseInfo,
    base: Option<&Value>,
    backend: &dyn DatabaseBackend,
    default_tags: &BTreeMap<String, String>,
) -> Value {
    let spec = &info.spec;
    let mut m = BTreeMap::new();
    let user_tags: BTreeMap<String, String> = match base.map(|b| b.get("tags")) {
        Some(Value::Map(t)) => t
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        Some(_) => BTreeMap::new(),
        // Import/read without a plan: tags are what the backend has beyond the defaults.
        None => user_tags(spec, default_tags, &Value::Null),
    };
    m.insert("id".into(), Value::string(&info.id));
    m.insert("name".into(), Value::string(&spec.name));
    m.insert("engine".into(), Value::string(&spec.engine));
    m.insert(
        "engine_version".into(),
        Value::string(spec.engine_version.clone().unwrap_or_else(|| {
            info.engine_version_actual
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string()
        })),
    );
    m.insert("tier".into(), Value::string(&spec.tier));
    m.insert("instance_class".into(), Value::string(&spec.instance_class));
    m.insert("db_name".into(), Value::string(&spec.db_name));
    m.insert(
        "master_username".into(),
        Value::string(&spec.master_username),
    );
    m.insert("multi_az".into(), Value::Bool(spec.multi_az));
    m.insert(
        "backup_retention_days".into(),
        Value::int(i64::from(spec.backup_retention_days)),
    );
    m.insert(
        "deletion_protection".into(),
        Value::Bool(spec.deletion_protection),
    );
    m.insert(
        "performance_insights".into(),
        base.map(|b| b.get("performance_insights").clone())
            .unwrap_or(Value::Bool(false)),
    );
    m.insert(
        "monitoring_interval_seconds".into(),
        base.map(|b| b.get("monitoring_interval_seconds").clone())
            .unwrap_or(Value::int(0)),
    );
    m.insert(
        "log_exports".into(),
        log_exports_value(backend, &spec.engine),
    );
    m.insert(
        "skip_final_snapshot".into(),
        base.map(|b| b.get("skip_final_snapshot").clone())
            .unwrap_or(Value::Bool(false)),
    );
    m.insert(
        "final_snapshot_identifier".into(),
        base.map(|b| b.get("final_snapshot_identifier").clone())
            .unwrap_or(Value::Null),
    );
    m.insert(
        "parameters".into(),
        if spec.parameters.is_empty() && base.is_none_or(|b| b.get("parameters").is_null()) {
            Value::Null
        } else {
            string_map(&spec.parameters)
        },
    );
    m.insert(
        "tags".into(),
        if user_tags.is_empty() && base.is_none_or(|b| b.get("tags").is_null()) {
            Value::Null
        } else {
            string_map(&user_tags)
        },
    );
    m.insert("tags_all".into(), string_map(&spec.tags));
    m.insert("endpoint".into(), Value::string(&info.endpoint));
    m.insert("port".into(), Value::int(i64::from(info.port)));
    m.insert("status".into(), Value::string(info.status.as_str()));
    m.insert(
        "connection_string".into(),
        Value::string(&info.connection_string),
    );
    m.insert(
        "master_user_secret_path".into(),
        Value::string(&info.master_user_secret),
    );
    m.insert(
        "timeouts".into(),
        base.map(|b| b.get("timeouts").clone())
            .unwrap_or(Value::Null),
    );
    m.extend(rds::state_values(None, base));
    m.insert(
        "data_dir".into(),
        info.data_dir
            .as_ref()
            .map(|d| Value::string(d.display().to_string()))
            .unwrap_or(Value::Null),
    );
    m.insert(
        "engine_version_actual".into(),
        Value::string(&info.engine_version_actual),
    );
    m.insert("backend".into(), Value::string(backend.kind()));
    m.insert(
        super::rotation::DAYS.into(),
        base.map(|b| b.get(super::rotation::DAYS).clone())
            .unwrap_or(Value::Null),
    );
    m.insert(
        super::rotation::ROTATED_AT.into(),
        super::rotation::rotated_at_value(info),
    );
    m.insert(
        "policy_decision".into(),
        match base.map(|b| b.get("policy_decision")) {
            Some(v) if !v.is_unknown() => v.clone(),
            _ => Value::Null,
        },
    );
    Value::Object(m)
}

/// The plan with everything but `policy_decision` and `status`, to tell a real change from a no-op.
pub(crate) fn substance(v: &Value) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.remove("policy_decision");
        m.remove("status");
    }
    v
}

/// The attribute paths of `v` unknown until apply: top-level names, and `name.key` for the unknown elements of a
/// map that is otherwise known (a provider `default_tags` value from another resource leaves only that tag unknown).
pub(crate) fn json_unknown_paths(v: &Value) -> Vec<String> {
    let Value::Object(m) = v else {
        return vec![];
    };
    let mut out = Vec::new();
    for (k, x) in m {
        match x {
            Value::Map(items) if !x.is_wholly_known() => out.extend(
                items
                    .iter()
                    .filter(|(_, item)| !item.is_wholly_known())
                    .map(|(key, _)| format!("{k}.{key}")),
            ),
            x if !x.is_wholly_known() => out.push(k.clone()),
            _ => {}
        }
    }
    out
}
