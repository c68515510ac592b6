//! Settings and reports of a *managed* database instance (RDS today): what the resource may ask for beyond the
//! neutral spec, how long operations may wait, and what the service reports back. Neutral types, so resources
//! never name a backend; a backend says whether it uses them through [`Capabilities`].

use std::collections::BTreeMap;
use std::time::Duration;

/// Managed-instance settings of a database (storage, encryption, windows, network, parameter group, monitoring,
/// log exports): the `dbplatform_database` arguments only a managed service such as RDS uses. Their defaults
/// are the golden path's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstanceSettings {
    pub allocated_storage_gb: u32,
    /// Storage autoscaling ceiling; `None` turns autoscaling off.
    pub max_allocated_storage_gb: Option<u32>,
    pub storage_type: String,
    pub storage_encrypted: bool,
    /// Customer-managed KMS key; `None` means the AWS-managed `aws/rds` key.
    pub kms_key_id: Option<String>,
    /// Daily backup window "hh24:mi-hh24:mi" (UTC); `None` lets RDS choose.
    pub backup_window: Option<String>,
    /// Weekly maintenance window "ddd:hh24:mi-ddd:hh24:mi"; `None` lets RDS choose.
    pub maintenance_window: Option<String>,
    pub db_subnet_group_name: Option<String>,
    pub vpc_security_group_ids: Vec<String>,
    /// A `dbplatform_parameter_group`; `None` makes the backend manage a per-database group (TLS forced).
    pub parameter_group_name: Option<String>,
    pub iam_database_authentication: bool,
    pub performance_insights: bool,
    /// Enhanced monitoring interval: 0 (off), 1, 5, 10, 15, 30 or 60.
    pub monitoring_interval_seconds: u32,
    pub monitoring_role_arn: Option<String>,
    /// CloudWatch log exports ("postgresql", "upgrade"; "error", "general", "slowquery", "audit").
    pub log_exports: Vec<String>,
    /// Apply modifications now rather than in the next maintenance window.
    pub apply_immediately: bool,
    /// Automated backups replicated to another region (cross-region disaster recovery); `None`: not replicated.
    #[serde(default)]
    pub backup_replication: Option<BackupReplication>,
}

/// Where an instance's automated backups are replicated to, so a region loss leaves a restorable copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupReplication {
    /// The destination region.
    pub region: String,
    /// KMS key of the destination region encrypting the copy; `None` lets the service choose (unencrypted
    /// sources only).
    pub kms_key_id: Option<String>,
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self {
            allocated_storage_gb: 20,
            max_allocated_storage_gb: None,
            storage_type: "gp3".into(),
            storage_encrypted: true,
            kms_key_id: None,
            backup_window: None,
            maintenance_window: None,
            db_subnet_group_name: None,
            vpc_security_group_ids: Vec::new(),
            parameter_group_name: None,
            iam_database_authentication: true,
            performance_insights: false,
            monitoring_interval_seconds: 0,
            monitoring_role_arn: None,
            log_exports: Vec::new(),
            apply_immediately: true,
            backup_replication: None,
        }
    }
}

impl InstanceSettings {
    /// Defaults for a spec's tier: performance insights and monitoring follow the tier catalogue.
    pub fn for_tier(tier: Option<&policy::model::tiers::Tier>) -> Self {
        let mut o = Self::default();
        if let Some(t) = tier {
            o.performance_insights = t.performance_insights;
            o.monitoring_interval_seconds = t.monitoring_interval_seconds;
        }
        o
    }
}

/// Per-operation waits (the resource's `timeouts` block); `None` uses the backend default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OpTimeouts {
    pub create: Option<Duration>,
    pub update: Option<Duration>,
    pub delete: Option<Duration>,
}

/// What a managed service reports about an instance beyond [`super::DatabaseInfo`]'s neutral view.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDetails {
    /// Settings as observed (windows and KMS key as the service chose them when not requested).
    pub settings: InstanceSettings,
    /// The instance's ARN.
    pub arn: String,
    /// The service's stable resource id (`DbiResourceId` on RDS).
    pub resource_id: String,
    /// Modifications waiting for the maintenance window or a reboot (field -> new value).
    pub pending_modifications: BTreeMap<String, String>,
    /// A parameter change waits for a reboot.
    pub pending_reboot: bool,
    /// Settings the service did not report (their value in `settings` is a default, not an observation): the
    /// resource keeps the planned value for them.
    pub unreported: Vec<String>,
}

/// What a backend can do beyond the common trait, so resources adapt without naming the backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The backend uses [`InstanceSettings`] and [`OpTimeouts`] (a managed service); elsewhere those
    /// attributes stay null.
    pub instance_settings: bool,
    /// A new engine major version is applied in place; without it, changing `engine_version` replaces the
    /// database.
    pub major_upgrade_in_place: bool,
    /// The endpoint every new database gets, when it is known at plan time (a server on this machine).
    pub fixed_endpoint: Option<&'static str>,
}
