//! An RDS instance as observed ([`RdsInstance`]) and a create that did not finish ([`CreateFailure`]).

use super::spec::AwsOptions;
use crate::backend::{BackendError, DatabaseInfo, InstanceDetails};
use std::collections::BTreeMap;

/// An RDS instance as it is now: the backend-neutral view plus what only RDS has.
#[derive(Debug, Clone, PartialEq)]
pub struct RdsInstance {
    pub info: DatabaseInfo,
    /// RDS-only settings as observed (windows and KMS key as RDS chose them when not requested).
    pub aws: AwsOptions,
    pub arn: String,
    /// `DbiResourceId`, stable across renames.
    pub resource_id: String,
    /// RDS status text ("available", "backing-up", "modifying", ...).
    pub rds_status: String,
    pub storage_encrypted: bool,
    /// Modifications waiting for the maintenance window or a reboot (field -> new value).
    pub pending_modifications: BTreeMap<String, String>,
    /// A parameter group change waits for a reboot.
    pub pending_reboot: bool,
    /// The instance carries dbplatform's management tag.
    pub managed: bool,
    /// Settings RDS did not report (e.g. moto omits PerformanceInsightsEnabled); see
    /// [`InstanceDetails::unreported`].
    pub unreported: Vec<String>,
}

impl RdsInstance {
    /// The neutral view with what only RDS reports in [`DatabaseInfo::details`].
    pub fn into_info(self) -> DatabaseInfo {
        DatabaseInfo {
            details: Some(InstanceDetails {
                settings: self.aws,
                arn: self.arn,
                resource_id: self.resource_id,
                pending_modifications: self.pending_modifications,
                pending_reboot: self.pending_reboot,
                unreported: self.unreported,
            }),
            ..self.info
        }
    }
}

/// A create that did not finish: the error, and what may exist. When `id` is set the instance exists or may
/// exist (the create call went through, or its outcome is unknown): save state with that id so Terraform marks
/// it tainted and the next refresh settles it; never drop it. `instance` is its description when one could be read.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct CreateFailure {
    pub id: Option<String>,
    pub instance: Option<Box<RdsInstance>>,
    pub error: BackendError,
}

impl From<BackendError> for CreateFailure {
    fn from(error: BackendError) -> Self {
        Self {
            id: None,
            instance: None,
            error,
        }
    }
}
