//! A resource as an adapter found it, before normalization: the one shape both adapters fill in.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Action, Kind, PlanContext};

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
    /// The provider configuration's constant region (plan JSON, aws resources), for resources without a known
    /// `region` attribute of their own.
    pub provider_region: Option<String>,
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
        "dbplatform_replica" => Kind::Replica,
        // Access: roles and grants (also the community PostgreSQL provider's, which bypass the templates) and
        // break-glass grants.
        "dbplatform_role" | "postgresql_role" => Kind::Role,
        "postgresql_grant" | "postgresql_grant_role" => Kind::Grant,
        "dbplatform_break_glass" => Kind::BreakGlass,
        // Read for disaster recovery (a copy of an instance's backups in another region); no rule applies to it.
        "aws_db_instance_automated_backups_replication" => Kind::Other,
        t if t.starts_with("dbplatform_") => Kind::Other,
        _ => return None,
    })
}
