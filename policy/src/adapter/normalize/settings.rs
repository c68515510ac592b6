//! Normalized settings of one side of a change, read through the table of the resource's family.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::access::{DBPLATFORM_ROLE, POSTGRESQL_ROLE};
use super::aws_cluster::{CLUSTER_INSTANCE, RDS_CLUSTER};
use super::aws_instance::{BACKUPS_REPLICATION, DB_INSTANCE};
use super::dbplatform_database::{DBPLATFORM_DATABASE, DBPLATFORM_REPLICA};
use super::parameter_group::{parameters_of, PARAMETER_GROUP};
use super::paths::{get_path, is_unknown};
use super::spec::{check, Spec, Src, Ty};
use crate::model::Settings;

/// The setting table of a resource type (empty for types with no settings).
fn specs(resource_type: &str) -> &'static [Spec] {
    match resource_type {
        "aws_db_instance" => DB_INSTANCE,
        "aws_rds_cluster" => RDS_CLUSTER,
        "aws_rds_cluster_instance" => CLUSTER_INSTANCE,
        "dbplatform_database" => DBPLATFORM_DATABASE,
        "dbplatform_replica" => DBPLATFORM_REPLICA,
        "dbplatform_role" => DBPLATFORM_ROLE,
        "postgresql_role" => POSTGRESQL_ROLE,
        "aws_db_instance_automated_backups_replication" => BACKUPS_REPLICATION,
        "aws_db_parameter_group"
        | "aws_rds_cluster_parameter_group"
        | "dbplatform_parameter_group" => PARAMETER_GROUP,
        _ => &[],
    }
}

/// Normalized settings of one side of a change, the settings unknown on that side, and normalized -> raw paths.
pub(super) struct SettingsOut {
    pub(super) settings: Settings,
    pub(super) unknown: Vec<String>,
    pub(super) paths: BTreeMap<String, String>,
}

/// Reads the settings of `resource_type` from one side of a change (`v`), `unknown` being that side's unknown
/// raw paths.
pub(super) fn settings_of(
    resource_type: &str,
    v: &Value,
    unknown: &[String],
    backend: &str,
    provider_region: Option<&str>,
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
            Src::Region => {
                paths.insert(name.to_string(), "region".to_string());
                if is_unknown("region", unknown) {
                    unk.push(format!("settings.{name}"));
                    continue;
                }
                match get_path(v, "region") {
                    Some(x @ Value::String(_)) => x.clone(),
                    Some(Value::Null) | None => provider_region.map_or(Value::Null, Value::from),
                    Some(x) => check("region", Ty::Str, x)?,
                }
            }
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
