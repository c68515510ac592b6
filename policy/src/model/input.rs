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
    /// Any other `dbplatform_*` resource.
    Other,
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
            Kind::Other => "other",
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
}

/// Other resources of the plan that a rule about this one needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Related {
    /// Parameter groups the resource uses (DB or cluster parameter groups).
    pub parameter_groups: Vec<RelatedParameterGroup>,
    /// For replicas and cluster members: the primary or the cluster; null when not found in the plan.
    pub source: Option<RelatedSource>,
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
    /// The declared tier: the `tier` attribute, else the `tier` tag.
    pub tier: Option<String>,
    /// Merged tags: `tags_all`, or provider default tags + `tags`.
    pub tags: BTreeMap<String, String>,
    /// Normalized settings after the change; null on delete.
    pub settings: Option<Settings>,
    /// Normalized settings before the change; null on create.
    pub settings_before: Option<Settings>,
    /// Raw attributes before (sensitive values redacted to null); null on create.
    pub before: Option<serde_json::Value>,
    /// Raw attributes after; unknown values are absent (object keys) or null (list elements), sensitive ones null.
    pub after: Option<serde_json::Value>,
    /// Normalized paths (`settings.kms_key_id`, `tags.owner`, `tier`) whose value is unknown until apply.
    pub unknown: Vec<String>,
    /// Raw attribute paths marked sensitive (their values are redacted to null).
    pub sensitive: Vec<String>,
    /// Normalized setting name -> raw attribute path, for diagnostics on the user's own attribute.
    pub paths: BTreeMap<String, String>,
    pub related: Related,
    pub context: PlanContext,
}

impl Input {
    /// The input as the JSON document handed to the engine.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
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
