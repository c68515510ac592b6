//! One resource's raw attributes -> the normalized [`Input`], shared by both adapters.
//!
//! The plan-JSON adapter and the provider adapter only differ in where the raw values, unknown paths and
//! sensitive paths come from; everything a rule sees is computed here, once, so the two cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::model::{
    Action, Input, Kind, PlanContext, Related, RelatedParameterGroup, Settings, INPUT_SCHEMA,
};

/// The `dbplatform_*` attribute holding the provider's plan-time decision; never part of an input.
pub const POLICY_DECISION_ATTRIBUTE: &str = "policy_decision";

/// A resource as an adapter found it, before normalization.
#[derive(Debug, Clone)]
pub struct RawResource {
    pub address: String,
    pub module: String,
    pub resource_type: String,
    pub name: String,
    pub index: Option<Value>,
    pub action: Action,
    /// Attributes before the change; `None` on create.
    pub before: Option<Value>,
    /// Attributes after the change, unknown values already omitted; `None` on delete.
    pub after: Option<Value>,
    /// Raw attribute paths (`endpoint`, `tags.owner`, `vpc_security_group_ids.0`) unknown until apply.
    pub unknown: Vec<String>,
    /// Raw attribute paths marked sensitive (before or after).
    pub sensitive: Vec<String>,
    pub backend: String,
    /// Provider-level default tags (constant values only).
    pub default_tags: BTreeMap<String, String>,
    pub context: PlanContext,
}

/// The kind a resource type has before looking at its attributes; `None` for types the policy does not read.
pub fn base_kind(resource_type: &str) -> Option<Kind> {
    Some(match resource_type {
        "aws_db_instance" | "dbplatform_database" => Kind::Instance,
        "aws_rds_cluster" => Kind::Cluster,
        "aws_rds_cluster_instance" => Kind::ClusterMember,
        "aws_db_parameter_group" | "dbplatform_parameter_group" => Kind::ParameterGroup,
        "aws_rds_cluster_parameter_group" => Kind::ClusterParameterGroup,
        "aws_db_subnet_group" => Kind::SubnetGroup,
        t if t.starts_with("dbplatform_") => Kind::Other,
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug)]
enum Ty {
    Bool,
    Int,
    Str,
    StrList,
}

#[derive(Clone, Copy, Debug)]
enum Dv {
    B(bool),
    I(i64),
    EmptyList,
}

impl Dv {
    fn value(self) -> Value {
        match self {
            Dv::B(b) => Value::Bool(b),
            Dv::I(i) => Value::from(i),
            Dv::EmptyList => Value::Array(Vec::new()),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Src {
    /// A raw attribute; null stays null.
    Attr(&'static str),
    /// A raw attribute; null means the provider's default.
    AttrOr(&'static str, Dv),
    /// A value fixed by the resource type (the golden path).
    Const(Dv),
    /// `dbplatform_database`: always encrypted on aws, never on local.
    EncryptedOnAws,
    /// `aws_rds_cluster`: more than one availability zone, or a Multi-AZ DB cluster class.
    ClusterMultiAz,
    /// Whether a plaintext password attribute is set (known or unknown).
    PasswordSet(&'static str),
    /// Parameter groups: the `parameter` set (aws) or `parameters` map (dbplatform).
    Parameters,
}

type Spec = (&'static str, Ty, Src);

const DB_INSTANCE: &[Spec] = &[
    (
        "storage_encrypted",
        Ty::Bool,
        Src::AttrOr("storage_encrypted", Dv::B(false)),
    ),
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("multi_az", Ty::Bool, Src::AttrOr("multi_az", Dv::B(false))),
    (
        "backup_retention_days",
        Ty::Int,
        Src::Attr("backup_retention_period"),
    ),
    ("backup_window", Ty::Str, Src::Attr("backup_window")),
    (
        "deletion_protection",
        Ty::Bool,
        Src::AttrOr("deletion_protection", Dv::B(false)),
    ),
    (
        "publicly_accessible",
        Ty::Bool,
        Src::AttrOr("publicly_accessible", Dv::B(false)),
    ),
    (
        "iam_database_authentication",
        Ty::Bool,
        Src::AttrOr("iam_database_authentication_enabled", Dv::B(false)),
    ),
    (
        "log_exports",
        Ty::StrList,
        Src::AttrOr("enabled_cloudwatch_logs_exports", Dv::EmptyList),
    ),
    (
        "performance_insights",
        Ty::Bool,
        Src::AttrOr("performance_insights_enabled", Dv::B(false)),
    ),
    (
        "performance_insights_kms_key_id",
        Ty::Str,
        Src::Attr("performance_insights_kms_key_id"),
    ),
    (
        "monitoring_interval_seconds",
        Ty::Int,
        Src::AttrOr("monitoring_interval", Dv::I(0)),
    ),
    (
        "auto_minor_version_upgrade",
        Ty::Bool,
        Src::AttrOr("auto_minor_version_upgrade", Dv::B(true)),
    ),
    (
        "copy_tags_to_snapshot",
        Ty::Bool,
        Src::AttrOr("copy_tags_to_snapshot", Dv::B(false)),
    ),
    (
        "managed_master_password",
        Ty::Bool,
        Src::AttrOr("manage_master_user_password", Dv::B(false)),
    ),
    (
        "plaintext_password_set",
        Ty::Bool,
        Src::PasswordSet("password"),
    ),
    ("master_username", Ty::Str, Src::Attr("username")),
    ("instance_class", Ty::Str, Src::Attr("instance_class")),
    (
        "parameter_group_name",
        Ty::Str,
        Src::Attr("parameter_group_name"),
    ),
    (
        "skip_final_snapshot",
        Ty::Bool,
        Src::AttrOr("skip_final_snapshot", Dv::B(false)),
    ),
    (
        "final_snapshot_identifier",
        Ty::Str,
        Src::Attr("final_snapshot_identifier"),
    ),
];

const RDS_CLUSTER: &[Spec] = &[
    (
        "storage_encrypted",
        Ty::Bool,
        Src::AttrOr("storage_encrypted", Dv::B(false)),
    ),
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("multi_az", Ty::Bool, Src::ClusterMultiAz),
    (
        "backup_retention_days",
        Ty::Int,
        Src::AttrOr("backup_retention_period", Dv::I(1)),
    ),
    (
        "backup_window",
        Ty::Str,
        Src::Attr("preferred_backup_window"),
    ),
    (
        "deletion_protection",
        Ty::Bool,
        Src::AttrOr("deletion_protection", Dv::B(false)),
    ),
    ("publicly_accessible", Ty::Bool, Src::Const(Dv::B(false))),
    (
        "iam_database_authentication",
        Ty::Bool,
        Src::AttrOr("iam_database_authentication_enabled", Dv::B(false)),
    ),
    (
        "log_exports",
        Ty::StrList,
        Src::AttrOr("enabled_cloudwatch_logs_exports", Dv::EmptyList),
    ),
    (
        "performance_insights",
        Ty::Bool,
        Src::AttrOr("performance_insights_enabled", Dv::B(false)),
    ),
    (
        "performance_insights_kms_key_id",
        Ty::Str,
        Src::Attr("performance_insights_kms_key_id"),
    ),
    (
        "monitoring_interval_seconds",
        Ty::Int,
        Src::AttrOr("monitoring_interval", Dv::I(0)),
    ),
    (
        "auto_minor_version_upgrade",
        Ty::Bool,
        Src::Const(Dv::B(true)),
    ),
    (
        "copy_tags_to_snapshot",
        Ty::Bool,
        Src::AttrOr("copy_tags_to_snapshot", Dv::B(false)),
    ),
    (
        "managed_master_password",
        Ty::Bool,
        Src::AttrOr("manage_master_user_password", Dv::B(false)),
    ),
    (
        "plaintext_password_set",
        Ty::Bool,
        Src::PasswordSet("master_password"),
    ),
    ("master_username", Ty::Str, Src::Attr("master_username")),
    (
        "instance_class",
        Ty::Str,
        Src::Attr("db_cluster_instance_class"),
    ),
    (
        "parameter_group_name",
        Ty::Str,
        Src::Attr("db_cluster_parameter_group_name"),
    ),
    (
        "skip_final_snapshot",
        Ty::Bool,
        Src::AttrOr("skip_final_snapshot", Dv::B(false)),
    ),
    (
        "final_snapshot_identifier",
        Ty::Str,
        Src::Attr("final_snapshot_identifier"),
    ),
];

const CLUSTER_INSTANCE: &[Spec] = &[
    (
        "publicly_accessible",
        Ty::Bool,
        Src::AttrOr("publicly_accessible", Dv::B(false)),
    ),
    (
        "performance_insights",
        Ty::Bool,
        Src::AttrOr("performance_insights_enabled", Dv::B(false)),
    ),
    (
        "performance_insights_kms_key_id",
        Ty::Str,
        Src::Attr("performance_insights_kms_key_id"),
    ),
    (
        "monitoring_interval_seconds",
        Ty::Int,
        Src::AttrOr("monitoring_interval", Dv::I(0)),
    ),
    (
        "auto_minor_version_upgrade",
        Ty::Bool,
        Src::AttrOr("auto_minor_version_upgrade", Dv::B(true)),
    ),
    (
        "copy_tags_to_snapshot",
        Ty::Bool,
        Src::AttrOr("copy_tags_to_snapshot", Dv::B(false)),
    ),
    ("instance_class", Ty::Str, Src::Attr("instance_class")),
    (
        "parameter_group_name",
        Ty::Str,
        Src::Attr("db_parameter_group_name"),
    ),
];

const DBPLATFORM_DATABASE: &[Spec] = &[
    ("storage_encrypted", Ty::Bool, Src::EncryptedOnAws),
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("multi_az", Ty::Bool, Src::AttrOr("multi_az", Dv::B(false))),
    (
        "backup_retention_days",
        Ty::Int,
        Src::Attr("backup_retention_days"),
    ),
    ("backup_window", Ty::Str, Src::Attr("backup_window")),
    (
        "deletion_protection",
        Ty::Bool,
        Src::AttrOr("deletion_protection", Dv::B(false)),
    ),
    ("publicly_accessible", Ty::Bool, Src::Const(Dv::B(false))),
    (
        "iam_database_authentication",
        Ty::Bool,
        Src::AttrOr("iam_database_authentication", Dv::B(false)),
    ),
    (
        "log_exports",
        Ty::StrList,
        Src::AttrOr("log_exports", Dv::EmptyList),
    ),
    (
        "performance_insights",
        Ty::Bool,
        Src::AttrOr("performance_insights", Dv::B(false)),
    ),
    (
        "performance_insights_kms_key_id",
        Ty::Str,
        Src::Attr("kms_key_id"),
    ),
    (
        "monitoring_interval_seconds",
        Ty::Int,
        Src::AttrOr("monitoring_interval_seconds", Dv::I(0)),
    ),
    (
        "auto_minor_version_upgrade",
        Ty::Bool,
        Src::Const(Dv::B(true)),
    ),
    ("copy_tags_to_snapshot", Ty::Bool, Src::Const(Dv::B(true))),
    ("managed_master_password", Ty::Bool, Src::Const(Dv::B(true))),
    ("plaintext_password_set", Ty::Bool, Src::Const(Dv::B(false))),
    ("master_username", Ty::Str, Src::Attr("master_username")),
    ("instance_class", Ty::Str, Src::Attr("instance_class")),
    (
        "parameter_group_name",
        Ty::Str,
        Src::Attr("parameter_group_name"),
    ),
    (
        "skip_final_snapshot",
        Ty::Bool,
        Src::AttrOr("skip_final_snapshot", Dv::B(false)),
    ),
    (
        "final_snapshot_identifier",
        Ty::Str,
        Src::Attr("final_snapshot_identifier"),
    ),
];

const PARAMETER_GROUP: &[Spec] = &[
    ("family", Ty::Str, Src::Attr("family")),
    ("parameters", Ty::StrList, Src::Parameters),
];

fn specs(resource_type: &str) -> &'static [Spec] {
    match resource_type {
        "aws_db_instance" => DB_INSTANCE,
        "aws_rds_cluster" => RDS_CLUSTER,
        "aws_rds_cluster_instance" => CLUSTER_INSTANCE,
        "dbplatform_database" => DBPLATFORM_DATABASE,
        "aws_db_parameter_group"
        | "aws_rds_cluster_parameter_group"
        | "dbplatform_parameter_group" => PARAMETER_GROUP,
        _ => &[],
    }
}

/// Whether `raw` (or a part of it, or a parent of it) is unknown.
pub fn is_unknown(raw: &str, unknown: &[String]) -> bool {
    unknown.iter().any(|u| {
        u.is_empty()
            || u == raw
            || (raw.len() > u.len()
                && raw.starts_with(u.as_str())
                && raw.as_bytes()[u.len()] == b'.')
            || (u.len() > raw.len() && u.starts_with(raw) && u.as_bytes()[raw.len()] == b'.')
    })
}

/// The value at a dotted raw path (`tags.owner`, `list.0`); `None` when absent.
pub fn get_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for step in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(step)?,
            Value::Array(a) => a.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Removes (object keys) or nulls (list elements) the value at `path`, the way Terraform's plan JSON omits
/// unknown values and the adapters redact sensitive ones (`remove` false: always set to null).
pub fn clear_path(v: &mut Value, path: &str, remove: bool) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let target = match parent {
        None => Some(v),
        Some(p) => {
            let mut cur = Some(v);
            for step in p.split('.') {
                cur = match cur {
                    Some(Value::Object(m)) => m.get_mut(step),
                    Some(Value::Array(a)) => step.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                    _ => None,
                };
            }
            cur
        }
    };
    match target {
        Some(Value::Object(m)) => {
            if remove {
                m.remove(last);
            } else if let Some(x) = m.get_mut(last) {
                *x = Value::Null;
            }
        }
        Some(Value::Array(a)) => {
            if let Some(x) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *x = Value::Null;
            }
        }
        _ => {}
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Checks a raw value against the setting's type; `Err` names the attribute and what it should be.
fn check(raw: &str, ty: Ty, v: &Value) -> Result<Value, String> {
    let ok = match (ty, v) {
        (_, Value::Null) => true,
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Int, Value::Number(n)) => n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        (Ty::Str, Value::String(_)) => true,
        (Ty::StrList, Value::Array(a)) => a.iter().all(|x| x.is_string() || x.is_null()),
        _ => false,
    };
    if !ok {
        let want = match ty {
            Ty::Bool => "a boolean",
            Ty::Int => "a whole number",
            Ty::Str => "a string",
            Ty::StrList => "a list of strings",
        };
        return Err(format!(
            "attribute {raw} must be {want}, got {} {v}",
            type_name(v)
        ));
    }
    Ok(match (ty, v) {
        (Ty::Int, Value::Number(n)) if !n.is_i64() => Value::from(n.as_f64().unwrap_or(0.0) as i64),
        _ => v.clone(),
    })
}

fn param_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parameter name -> value from an aws `parameter` set or a dbplatform `parameters` map.
fn parameters_of(v: &Value) -> Result<Option<BTreeMap<String, String>>, String> {
    if let Some(Value::Object(m)) = v.get("parameters") {
        return Ok(Some(
            m.iter()
                .filter_map(|(k, x)| param_value(x).map(|s| (k.clone(), s)))
                .collect(),
        ));
    }
    match v.get("parameter") {
        None | Some(Value::Null) => Ok(Some(BTreeMap::new())),
        Some(Value::Array(items)) => {
            let mut out = BTreeMap::new();
            for it in items {
                let name = it.get("name").and_then(Value::as_str);
                let value = it.get("value").and_then(param_value);
                match (name, value) {
                    (Some(n), Some(val)) => {
                        out.insert(n.to_string(), val);
                    }
                    (Some(_), None) => {}
                    _ => {
                        return Err(format!(
                        "attribute parameter must be a set of {{name, value}} objects, got {it}"
                    ))
                    }
                }
            }
            Ok(Some(out))
        }
        Some(other) => Err(format!(
            "attribute parameter must be a set of {{name, value}} objects, got {other}"
        )),
    }
}

/// Normalized settings of one side of a change, the settings unknown on that side, and normalized -> raw paths.
struct SettingsOut {
    settings: Settings,
    unknown: Vec<String>,
    paths: BTreeMap<String, String>,
}

fn settings_of(
    resource_type: &str,
    v: &Value,
    unknown: &[String],
    backend: &str,
) -> Result<SettingsOut, String> {
    let mut map = Map::new();
    let mut unk = Vec::new();
    let mut paths = BTreeMap::new();
    for &(name, ty, src) in specs(resource_type) {
        let value = match src {
            Src::Attr(raw) | Src::AttrOr(raw, _) => {
                if is_unknown(raw, unknown) {
                    paths.insert(name.to_string(), raw.to_string());
                    unk.push(format!("settings.{name}"));
                    continue;
                }
                // Neither known nor unknown: the resource's schema has no such attribute, so no such setting.
                let Some(x) = get_path(v, raw) else { continue };
                paths.insert(name.to_string(), raw.to_string());
                match (x, src) {
                    (Value::Null, Src::AttrOr(_, d)) => d.value(),
                    _ => check(raw, ty, x)?,
                }
            }
            Src::Const(d) => d.value(),
            Src::EncryptedOnAws => Value::Bool(backend == "aws"),
            Src::ClusterMultiAz => {
                paths.insert(name.to_string(), "availability_zones".to_string());
                if is_unknown("db_cluster_instance_class", unknown) {
                    unk.push(format!("settings.{name}"));
                    continue;
                }
                if v.get("db_cluster_instance_class")
                    .is_some_and(Value::is_string)
                {
                    Value::Bool(true)
                } else if is_unknown("availability_zones", unknown) {
                    unk.push(format!("settings.{name}"));
                    continue;
                } else {
                    let n = v
                        .get("availability_zones")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    Value::Bool(n > 1)
                }
            }
            Src::PasswordSet(raw) => {
                paths.insert(name.to_string(), raw.to_string());
                Value::Bool(
                    is_unknown(raw, unknown) || get_path(v, raw).is_some_and(|x| !x.is_null()),
                )
            }
            Src::Parameters => {
                let raw = if v.get("parameters").is_some() {
                    "parameters"
                } else {
                    "parameter"
                };
                paths.insert(name.to_string(), raw.to_string());
                if is_unknown(raw, unknown) {
                    unk.push(format!("settings.{name}"));
                    continue;
                }
                match parameters_of(v)? {
                    Some(p) => serde_json::to_value(p).unwrap_or(Value::Null),
                    None => continue,
                }
            }
        };
        map.insert(name.to_string(), value);
    }
    let settings: Settings =
        serde_json::from_value(Value::Object(map)).map_err(|e| format!("settings: {e}"))?;
    Ok(SettingsOut {
        settings,
        unknown: unk,
        paths,
    })
}

/// `postgres` for `postgres`/`postgresql`, other engines lower-cased as given.
pub fn normalize_engine(engine: &str) -> String {
    let e = engine.trim().to_ascii_lowercase();
    match e.as_str() {
        "postgresql" => "postgres".to_string(),
        _ => e,
    }
}

/// The major version of an engine version: `16.3` -> `16`, `9.6.24` -> `9.6`, `8.0.35` -> `8.0`,
/// `8.0.mysql_aurora.3.04.0` -> `8.0`.
pub fn engine_major(engine: &str, version: &str) -> Option<String> {
    let parts: Vec<&str> = version
        .trim()
        .split('.')
        .filter(|p| !p.is_empty())
        .collect();
    let first = *parts.first()?;
    let first_num: u32 = first.parse().ok()?;
    let two = |parts: &[&str]| match parts.get(1) {
        Some(p) if p.chars().all(|c| c.is_ascii_digit()) => format!("{first}.{p}"),
        _ => first.to_string(),
    };
    Some(match engine {
        "postgres" | "aurora-postgresql" if first_num < 10 => two(&parts),
        "postgres" | "aurora-postgresql" => first.to_string(),
        "mysql" | "mariadb" | "aurora-mysql" | "aurora" => two(&parts),
        _ => first.to_string(),
    })
}

/// Engine and major version from a parameter group family (`postgres16`, `mysql8.0`, `aurora-postgresql15`).
pub fn family_engine(family: &str) -> (Option<String>, Option<String>) {
    match family.find(|c: char| c.is_ascii_digit()) {
        Some(i) if i > 0 => {
            let engine = normalize_engine(&family[..i]);
            let major = engine_major(&engine, &family[i..]);
            (Some(engine), major)
        }
        _ => (None, None),
    }
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Merged tags of one state and the tag paths unknown until apply.
fn tags_of(
    v: &Value,
    unknown: &[String],
    default_tags: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    if let Some(all) = v.get("tags_all") {
        if all.is_object() && !is_unknown("tags_all", unknown) {
            return (string_map(all), Vec::new());
        }
    }
    let mut tags = default_tags.clone();
    let mut unk = Vec::new();
    if unknown.iter().any(|u| u.is_empty() || u == "tags") {
        unk.push("tags".to_string());
        return (tags, unk);
    }
    if let Some(t) = v.get("tags") {
        tags.extend(string_map(t));
    }
    for u in unknown {
        if let Some(key) = u.strip_prefix("tags.") {
            let key = key.split('.').next().unwrap_or(key);
            tags.remove(key);
            unk.push(format!("tags.{key}"));
        }
    }
    (tags, unk)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Builds the input for one resource; `related` is filled later by [`finish_related`]. `Err` is a message
/// naming the attribute that has the wrong type (callers prefix the file and address).
pub fn build(raw: RawResource) -> Result<Input, String> {
    let RawResource {
        address,
        module,
        resource_type,
        name,
        index,
        action,
        mut before,
        mut after,
        unknown,
        sensitive,
        backend,
        default_tags,
        context,
    } = raw;
    if matches!(before, Some(Value::Null)) {
        before = None;
    }
    if matches!(after, Some(Value::Null)) {
        after = None;
    }
    // The provider's own decision is an output of the policy, not an input to it: the provider cannot know it
    // while it builds the input, so drop it on both paths to keep them equal.
    for v in [before.as_mut(), after.as_mut()].into_iter().flatten() {
        if let Value::Object(m) = v {
            m.remove(POLICY_DECISION_ATTRIBUTE);
        }
    }
    let base = base_kind(&resource_type).unwrap_or(Kind::Other);
    // The state rules look at: after the change, or before it on delete.
    let empty = Value::Object(Map::new());
    let (state, state_unknown): (&Value, &[String]) = match (&after, &before) {
        (Some(a), _) => (a, &unknown),
        (None, Some(b)) => (b, &[]),
        (None, None) => (&empty, &[]),
    };

    // aws_* resources always live on aws; dbplatform resources say which backend they use (trusted over the
    // provider configuration the adapter was given).
    let backend = if resource_type.starts_with("aws_") {
        "aws".to_string()
    } else {
        state
            .get("backend")
            .and_then(Value::as_str)
            .map_or(backend, str::to_string)
    };
    let mut unk: Vec<String> = Vec::new();
    let mut paths = BTreeMap::new();
    let settings = match &after {
        Some(a) => {
            let s = settings_of(&resource_type, a, &unknown, &backend)?;
            unk.extend(s.unknown);
            paths = s.paths;
            Some(s.settings)
        }
        None => None,
    };
    let settings_before = match &before {
        Some(b) => {
            let s = settings_of(&resource_type, b, &[], &backend)
                .map_err(|e| format!("before: {e}"))?;
            if paths.is_empty() {
                paths = s.paths;
            }
            Some(s.settings)
        }
        None => None,
    };

    let kind = if resource_type == "aws_db_instance"
        && (is_unknown("replicate_source_db", state_unknown)
            || state
                .get("replicate_source_db")
                .is_some_and(|x| x.as_str().is_some_and(|s| !s.is_empty())))
    {
        Kind::Replica
    } else {
        base
    };

    let (tags, tag_unknown) = tags_of(state, state_unknown, &default_tags);
    unk.extend(tag_unknown);

    let tier = if state.get("tier").is_some() || is_unknown("tier", state_unknown) {
        paths.insert("tier".into(), "tier".into());
        if is_unknown("tier", state_unknown) {
            unk.push("tier".into());
            None
        } else {
            match state.get("tier") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Null) | None => tags.get("tier").cloned(),
                Some(other) => return Err(format!("attribute tier must be a string, got {other}")),
            }
        }
    } else {
        paths.insert("tier".into(), "tags.tier".into());
        if unk.iter().any(|u| u == "tags" || u == "tags.tier") {
            unk.push("tier".into());
        }
        tags.get("tier").cloned()
    };

    let (mut engine, mut major) = (None, None);
    if matches!(base, Kind::ParameterGroup | Kind::ClusterParameterGroup) {
        paths.insert("engine".into(), "family".into());
        paths.insert("engine_major".into(), "family".into());
        if let Some(f) = state.get("family").and_then(Value::as_str) {
            (engine, major) = family_engine(f);
        } else if is_unknown("family", state_unknown) {
            unk.push("engine".into());
            unk.push("engine_major".into());
        }
    } else if state.get("engine").is_some() || is_unknown("engine", state_unknown) {
        paths.insert("engine".into(), "engine".into());
        paths.insert("engine_major".into(), "engine_version".into());
        if is_unknown("engine", state_unknown) {
            unk.push("engine".into());
        } else {
            engine = state
                .get("engine")
                .and_then(Value::as_str)
                .map(normalize_engine);
        }
        if is_unknown("engine_version", state_unknown) {
            unk.push("engine_major".into());
        } else if let (Some(e), Some(v)) =
            (&engine, state.get("engine_version").and_then(Value::as_str))
        {
            major = engine_major(e, v);
        }
    }

    // Redact sensitive values, after the settings that depend on them were computed.
    for p in &sensitive {
        if let Some(b) = before.as_mut() {
            clear_path(b, p, false);
        }
        if let Some(a) = after.as_mut() {
            clear_path(a, p, false);
        }
    }

    Ok(Input {
        schema: INPUT_SCHEMA.to_string(),
        address,
        module,
        resource_type,
        name,
        index,
        kind,
        action,
        backend,
        engine,
        engine_major: major,
        tier,
        tags,
        settings,
        settings_before,
        before: before
            .as_ref()
            .map(crate::model::input::RawJson::from_value),
        after: after.as_ref().map(crate::model::input::RawJson::from_value),
        unknown: sorted(unk),
        sensitive: sorted(sensitive),
        paths: std::sync::Arc::new(paths),
        related: Related::default(),
        context,
    })
}

/// Whether the resource takes its storage from another one (so `related.source` matters).
pub fn needs_source(input: &Input) -> bool {
    matches!(input.kind, Kind::Replica | Kind::ClusterMember)
}

/// The parameter group name the resource asks for: `Some(Some(name))`, `Some(None)` when unknown, `None` when unset
/// or an AWS default group.
pub fn wanted_parameter_group(input: &Input) -> Option<Option<String>> {
    if input
        .unknown
        .iter()
        .any(|u| u == "settings.parameter_group_name")
    {
        return Some(None);
    }
    match input
        .settings
        .as_ref()
        .and_then(|s| s.parameter_group_name.clone())
    {
        // AWS default groups (`default.postgres16`) behave like no group at all.
        Some(Some(n)) if !n.is_empty() && !n.starts_with("default.") => Some(Some(n)),
        _ => None,
    }
}

/// Sets `related` and lists what could not be resolved in `unknown`, the same way for both adapters.
pub fn finish_related(input: &mut Input, related: Related) {
    let mut unk = std::mem::take(&mut input.unknown);
    if related.parameter_groups.iter().any(|g| !g.known) {
        unk.push("related.parameter_groups".into());
    }
    if needs_source(input) && input.action != Action::Delete {
        match &related.source {
            None => unk.push("related.source".into()),
            Some(s) if s.storage_encrypted.is_none() => {
                unk.push("related.source.storage_encrypted".into())
            }
            Some(_) => {}
        }
    }
    input.unknown = sorted(unk);
    input.related = related;
}

/// A parameter group the resource names but that is not visible (not in the plan, or seen by the provider).
pub fn unresolved_group(name: Option<String>) -> RelatedParameterGroup {
    RelatedParameterGroup {
        address: None,
        name,
        parameters: BTreeMap::new(),
        known: false,
    }
}

/// The raw paths below `prefix` marked `true` in an `after_unknown`/`after_sensitive` tree.
pub fn true_paths(tree: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match tree {
        Value::Bool(true) => {
            out.insert(prefix.to_string());
        }
        Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                true_paths(v, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let p = if prefix.is_empty() {
                    i.to_string()
                } else {
                    format!("{prefix}.{i}")
                };
                true_paths(v, &p, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn majors() {
        assert_eq!(engine_major("postgres", "16.3").as_deref(), Some("16"));
        assert_eq!(engine_major("postgres", "9.6.24").as_deref(), Some("9.6"));
        assert_eq!(engine_major("mysql", "8.0.35").as_deref(), Some("8.0"));
        assert_eq!(
            engine_major("aurora-mysql", "8.0.mysql_aurora.3.04.0").as_deref(),
            Some("8.0")
        );
        assert_eq!(
            engine_major("aurora-postgresql", "15.4").as_deref(),
            Some("15")
        );
        assert_eq!(engine_major("postgres", "x"), None);
        assert_eq!(
            family_engine("aurora-postgresql15"),
            (Some("aurora-postgresql".into()), Some("15".into()))
        );
        assert_eq!(
            family_engine("mysql8.0"),
            (Some("mysql".into()), Some("8.0".into()))
        );
    }

    #[test]
    fn unknown_prefixes() {
        let u = vec!["tags.owner".to_string(), "availability_zones".to_string()];
        assert!(is_unknown("tags", &u));
        assert!(is_unknown("availability_zones.1", &u));
        assert!(!is_unknown("tags_all", &u));
    }

    #[test]
    fn clear_path_removes_keys_and_nulls_elements() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        clear_path(&mut v, "a.b", true);
        clear_path(&mut v, "l.1", true);
        clear_path(&mut v, "a.c", false);
        assert_eq!(v, json!({"a": {"c": null}, "l": [1, null]}));
    }

    #[test]
    fn wrong_type_names_the_attribute() {
        let raw = RawResource {
            address: "aws_db_instance.x".into(),
            module: String::new(),
            resource_type: "aws_db_instance".into(),
            name: "x".into(),
            index: None,
            action: Action::Create,
            before: None,
            after: Some(json!({"multi_az": "yes"})),
            unknown: vec![],
            sensitive: vec![],
            backend: "aws".into(),
            default_tags: BTreeMap::new(),
            context: PlanContext {
                source: "plan".into(),
                terraform_version: None,
                format_version: None,
            },
        };
        let e = build(raw).unwrap_err();
        assert_eq!(
            e,
            "attribute multi_az must be a boolean, got a string \"yes\""
        );
    }
}
