//! The input document `dbplatform.input/v1`: one database-related resource as every rule sees it.
//!
//! Both adapters (plan JSON for CI, planned state for the provider) produce this type, so a rule written against it
//! gives the same answer in `dbpolicy check` and in `terraform plan`. The field meanings are fixed by
//! `docs/guides/policy-contract.md`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// The value of [`Input::schema`], so a rule or a reader can tell which shape it got.
pub const INPUT_SCHEMA: &str = "dbplatform.input/v1";

/// What sort of database object the resource is; rules select on it with `custom.applies_to`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A standalone database instance (`aws_db_instance`, `dbplatform_database`).
    Instance,
    /// An Aurora cluster (`aws_rds_cluster`).
    Cluster,
    /// An instance inside an Aurora cluster (`aws_rds_cluster_instance`).
    ClusterMember,
    /// A read replica (`aws_db_instance` with `replicate_source_db`).
    Replica,
    /// A DB parameter group (`aws_db_parameter_group`, `dbplatform_parameter_group`).
    ParameterGroup,
    /// A cluster parameter group (`aws_rds_cluster_parameter_group`).
    ClusterParameterGroup,
    /// A DB subnet group (`aws_db_subnet_group`).
    SubnetGroup,
    /// A database role (`dbplatform_role`, and the community PostgreSQL provider's `postgresql_role`).
    Role,
    /// A grant to a database role (`postgresql_grant`, `postgresql_grant_role`).
    Grant,
    /// Time-bounded access of a named person to a role (`dbplatform_break_glass`).
    BreakGlass,
    /// Any other `dbplatform_*` resource.
    Other,
    /// A SQL migration file (`dbpolicy migration check`); only rules that name it in `applies_to` see it.
    Migration,
}

impl Kind {
    /// The name rules use (`"cluster_member"`), for messages and METADATA matching.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Instance => "instance",
            Kind::Cluster => "cluster",
            Kind::ClusterMember => "cluster_member",
            Kind::Replica => "replica",
            Kind::ParameterGroup => "parameter_group",
            Kind::ClusterParameterGroup => "cluster_parameter_group",
            Kind::SubnetGroup => "subnet_group",
            Kind::Role => "role",
            Kind::Grant => "grant",
            Kind::BreakGlass => "break_glass",
            Kind::Other => "other",
            Kind::Migration => "migration",
        }
    }
}

/// What Terraform is going to do to the resource; rules select on it with `custom.actions`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    /// Delete then create, or create then delete (`create_before_destroy`).
    Replace,
    Delete,
    NoOp,
    Read,
}

impl Action {
    /// The name rules use (`"no-op"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
            Action::Read => "read",
        }
    }

    /// Maps a plan's `change.actions` list to one action; `None` for a list Terraform never emits.
    pub fn from_plan_actions(actions: &[&str]) -> Option<Action> {
        Some(match actions {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Delete,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            ["no-op"] => Action::NoOp,
            ["read"] => Action::Read,
            _ => return None,
        })
    }
}

/// Deserializes a present-but-null field as `Some(None)`, so "absent" and "null" stay different.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The normalized settings of a resource after (or before) the change, with the same names for every resource type.
///
/// A field is absent when the resource type has no such setting or when its value is unknown until apply (then
/// `settings.NAME` is listed in [`Input::unknown`]). Nullable settings are `Some(None)` when known to be null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_encrypted: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub kms_key_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_az: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_retention_days: Option<i64>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_window: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publicly_accessible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_database_authentication: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_exports: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance_insights: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub performance_insights_kms_key_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_interval_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_minor_version_upgrade: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_tags_to_snapshot: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_master_password: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext_password_set: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub master_username: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_class: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameter_group_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_final_snapshot: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub final_snapshot_identifier: Option<Option<String>>,
    /// Parameter groups only: the family (`postgres16`, `mysql8.0`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub family: Option<Option<String>>,
    /// Parameter groups only: parameter name -> value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    /// The AWS region the resource lives in (`region` attribute, else the provider configuration's constant
    /// region); for a replica, null means its source's region.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<Option<String>>,
    /// `dbplatform_database`: the region automated backups are replicated to; null or `""` when none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_replication_region: Option<Option<String>>,
    /// `dbplatform_database`: the KMS key (in `backup_replication_region`) encrypting the replicated backups.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_replication_kms_key_id: Option<Option<String>>,
    /// `dbplatform_database`: days after which the master password is rotated; null when never.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub master_password_rotation_days: Option<Option<i64>>,
}

/// A parameter group that applies to the resource, found in the same plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RelatedParameterGroup {
    /// Address of the group's resource in the plan; null when only its name is known.
    pub address: Option<String>,
    /// The group's name, when known.
    pub name: Option<String>,
    /// Parameter name -> value (as strings, as AWS stores them).
    pub parameters: BTreeMap<String, String>,
    /// False when the group or its parameters cannot be seen at plan time; rules then cannot decide.
    pub known: bool,
}

/// The resource a replica or cluster member takes its storage (and encryption) from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RelatedSource {
    /// Address of the primary instance or cluster in the plan.
    pub address: String,
    /// Whether the source's storage is encrypted; null when unknown until apply.
    pub storage_encrypted: Option<bool>,
    /// The source's KMS key, when known.
    pub kms_key_id: Option<String>,
    /// The source's region, when known (absent when not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The source's declared tier, when known (absent when not): a `dbplatform_replica` declares none and
    /// is held to its source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The source's instance class, when known (absent when not): a `dbplatform_replica` without one of its own
    /// gets its source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_class: Option<String>,
}

/// A copy of an instance's data in the same plan, in this or another region: a read replica
/// (`aws_db_instance` with `replicate_source_db`, `dbplatform_replica`) or a replication of its automated backups
/// (`aws_db_instance_automated_backups_replication`). Rules about disaster recovery (DBP-DR-001) read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RelatedCopy {
    /// Address of the replica or backup replication in the plan.
    pub address: String,
    /// The region the copy lives in; null when unknown until apply or not set (then: the source's region).
    pub region: Option<String>,
    /// The KMS key encrypting the copy, when known.
    pub kms_key_id: Option<String>,
}

/// Other resources of the plan that a rule about this one needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Related {
    /// Parameter groups the resource uses (DB or cluster parameter groups).
    pub parameter_groups: Vec<RelatedParameterGroup>,
    /// For replicas and cluster members: the primary or the cluster; null when not found in the plan.
    pub source: Option<RelatedSource>,
    /// For instances: their read replicas found in the plan (absent when none; the provider, which sees one
    /// resource at a time, never fills it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<RelatedCopy>,
    /// For instances: replications of their automated backups found in the plan (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_replications: Vec<RelatedCopy>,
}

/// Where the input came from, for messages and audit records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanContext {
    /// `plan` (a plan JSON file) or `provider` (the provider at plan time).
    pub source: String,
    pub terraform_version: Option<String>,
    /// The plan JSON `format_version`; null from the provider.
    pub format_version: Option<String>,
}

/// One database-related resource, normalized: the document rules see as `input`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Input {
    /// Always [`INPUT_SCHEMA`].
    pub schema: String,
    /// Full resource address, e.g. `module.data.aws_db_instance.orders["eu"]`.
    pub address: String,
    /// Module address, `""` for the root module.
    pub module: String,
    /// Resource type as in the plan.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Resource name in its module.
    pub name: String,
    /// `count` index (number) or `for_each` key (string); null when neither is used.
    pub index: Option<serde_json::Value>,
    pub kind: Kind,
    pub action: Action,
    /// `aws` or `local`; `aws_*` resources are always `aws`.
    pub backend: String,
    /// `postgres`, `mysql`, `aurora-postgresql`, `aurora-mysql` (other engines as given); null when unknown.
    pub engine: Option<String>,
    /// Major version (`16`, `8.0`, `9.6`); null when unknown or not set.
    pub engine_major: Option<String>,
    /// The declared tier: the `tier` attribute, else the `tier` tag. For a resource that declares none, the engine
    /// evaluates the catalogue's `default_tier` here and sets `tier_assumed`.
    pub tier: Option<String>,
    /// True when `tier` is the catalogue's default, assumed because the resource declares no tier.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tier_assumed: bool,
    /// Merged tags: `tags_all`, or provider default tags + `tags`.
    pub tags: BTreeMap<String, String>,
    /// Normalized settings after the change; null on delete.
    pub settings: Option<Settings>,
    /// Normalized settings before the change; null on create.
    pub settings_before: Option<Settings>,
    /// Raw attributes before (sensitive values redacted to null); null on create.
    pub before: Option<RawJson>,
    /// Raw attributes after; unknown values are absent (object keys) or null (list elements), sensitive ones null.
    pub after: Option<RawJson>,
    /// Normalized paths (`settings.kms_key_id`, `tags.owner`, `tier`) whose value is unknown until apply.
    pub unknown: Vec<String>,
    /// Raw attribute paths marked sensitive (their values are redacted to null).
    pub sensitive: Vec<String>,
    /// Normalized setting name -> raw attribute path, for diagnostics on the user's own attribute. Shared:
    /// every resource of one type and shape has the same map, and a plan holds thousands of them.
    pub paths: std::sync::Arc<BTreeMap<String, String>>,
    pub related: Related,
    pub context: PlanContext,
    /// For `kind: migration`: the migration document (`dbplatform.migration/v1`); absent for resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<Box<crate::migration::Migration>>,
}

impl Input {
    /// The input as the JSON document handed to the engine.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// A JSON value kept as its compact text: a big plan holds thousands of raw `before`/`after` attribute maps,
/// and as text they take a fraction of the memory of a `serde_json::Value` tree. It serializes as the
/// embedded JSON (the same bytes the tree would give in compact form; a pretty printer keeps the compact text,
/// so pretty output goes through [`RawJson::to_value`] or `serde_json::to_value`) and is parsed only where a
/// value is read.
#[derive(Debug, Clone)]
pub struct RawJson(Box<serde_json::value::RawValue>);

impl RawJson {
    /// The compact JSON text of `v`.
    pub fn from_value(v: &serde_json::Value) -> Self {
        // A `Value` always serializes; written by serde_json itself, the text needs no second parse to check.
        match serde_json::value::to_raw_value(v) {
            Ok(raw) => RawJson(raw),
            Err(_) => RawJson(null_raw()),
        }
    }

    /// The value as a `serde_json::Value` tree (parsed on each call: keep the result if it is read often).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }

    /// The member `key` of an object value; `None` when absent or when the value is not an object.
    pub fn get(&self, key: &str) -> Option<serde_json::Value> {
        // Borrow the members as raw text and parse only the one asked for.
        let map: BTreeMap<&str, &serde_json::value::RawValue> =
            serde_json::from_str(self.0.get()).ok()?;
        serde_json::from_str(map.get(key)?.get()).ok()
    }

    /// The member `key` when it is a string.
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            serde_json::Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

fn null_raw() -> Box<serde_json::value::RawValue> {
    // `null` is valid JSON; the fallback only guards the impossible.
    serde_json::value::RawValue::from_string("null".to_string())
        .unwrap_or_else(|_| unreachable!("null is valid JSON"))
}

impl From<serde_json::Value> for RawJson {
    fn from(v: serde_json::Value) -> Self {
        RawJson::from_value(&v)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get() || self.to_value() == other.to_value()
    }
}

impl Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through a `Value`, so any deserializer works (a `RawValue` only reads from JSON text).
        let v = serde_json::Value::deserialize(d)?;
        Ok(RawJson::from_value(&v))
    }
}

impl JsonSchema for RawJson {
    fn inline_schema() -> bool {
        <serde_json::Value as JsonSchema>::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        <serde_json::Value as JsonSchema>::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        <serde_json::Value as JsonSchema>::schema_id()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <serde_json::Value as JsonSchema>::json_schema(g)
    }
}

/// The JSON Schema of [`Input`], published in the docs and used to check hand-written inputs.
pub fn input_schema() -> schemars::Schema {
    schemars::schema_for!(Input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_map_like_terraform() {
        assert_eq!(
            Action::from_plan_actions(&["delete", "create"]),
            Some(Action::Replace)
        );
        assert_eq!(
            Action::from_plan_actions(&["create", "delete"]),
            Some(Action::Replace)
        );
        assert_eq!(Action::from_plan_actions(&["no-op"]), Some(Action::NoOp));
        assert_eq!(Action::from_plan_actions(&["create", "create"]), None);
        assert_eq!(serde_json::to_value(Action::NoOp).unwrap(), "no-op");
        assert_eq!(
            serde_json::to_value(Kind::ClusterMember).unwrap(),
            "cluster_member"
        );
    }

    #[test]
    fn settings_keep_absent_and_null_apart() {
        let s: Settings =
            serde_json::from_str(r#"{"kms_key_id": null, "multi_az": true}"#).unwrap();
        assert_eq!(s.kms_key_id, Some(None));
        assert_eq!(s.backup_window, None);
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"kms_key_id": null, "multi_az": true})
        );
        let e = serde_json::from_str::<Settings>(r#"{"multi_az": "yes"}"#).unwrap_err();
        assert!(e.to_string().contains("expected a boolean"), "{e}");
    }

    #[test]
    fn raw_json_serializes_as_the_value_and_reads_members() {
        let v = serde_json::json!({"name": "pg", "port": 5432, "tags": {"b": "2", "a": null}, "gone": null});
        let raw = RawJson::from_value(&v);
        assert_eq!(raw.as_str(), serde_json::to_string(&v).unwrap());
        assert_eq!(serde_json::to_value(&raw).unwrap(), v);
        assert_eq!(
            serde_json::to_string(&Some(raw.clone())).unwrap(),
            serde_json::to_string(&Some(v.clone())).unwrap()
        );
        assert_eq!(raw.get_str("name").as_deref(), Some("pg"));
        assert_eq!(raw.get_str("port"), None);
        assert_eq!(raw.get("gone"), Some(serde_json::Value::Null));
        assert_eq!(raw.get("absent"), None);
        assert_eq!(RawJson::from_value(&serde_json::json!([1])).get("x"), None);
        let back: RawJson = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(back, raw);
        assert_eq!(back.to_value(), v);
    }

    #[test]
    fn schema_names_the_fields() {
        let s = serde_json::to_value(input_schema()).unwrap();
        let props = &s["properties"];
        for f in [
            "schema", "address", "type", "kind", "action", "settings", "unknown", "related",
            "context",
        ] {
            assert!(props.get(f).is_some(), "missing {f} in {s}");
        }
    }
}
