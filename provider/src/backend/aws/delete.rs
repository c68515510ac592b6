//! Deleting an RDS instance (deletion protection, the final snapshot, the wait, the managed parameter group)
//! and reading snapshots.

use super::client::AwsBackend;
use super::error::ApiFailure;
use super::observe::to_chrono;
use super::parameters;
use super::spec::managed_parameter_group_name;
use crate::backend::{BackendError, BackupInfo, DeleteOptions, DeleteOutcome};
use chrono::DateTime;
use chrono::Utc;
use std::time::Duration;

/// `name-final-YYYYMMDD-HHMMSS`, the default final snapshot identifier.
pub fn default_final_snapshot_id(name: &str, now: DateTime<Utc>) -> String {
    format!("{name}-final-{}", now.format("%Y%m%d-%H%M%S"))
}

impl AwsBackend {
    /// Deletes an instance: refuses under deletion protection, takes a final snapshot unless skipped, waits until
    /// it is gone, then removes the managed parameter group. An instance that is already gone is fine.
    pub async fn delete_instance(
        &self,
        name: &str,
        opts: &DeleteOptions,
        timeout: Option<Duration>,
    ) -> Result<DeleteOutcome, BackendError> {
        let policy = timeout
            .map(|t| self.timeouts.delete.with_timeout(t))
            .unwrap_or(self.timeouts.delete);
        let Some(cur) = self.describe_instance(name).await? else {
            return Ok(DeleteOutcome { final_backup: None });
        };
        if cur.info.spec.deletion_protection {
            return Err(BackendError::DeletionProtected {
                name: name.to_string(),
            });
        }
        let snapshot_id = if opts.skip_final_backup {
            None
        } else {
            Some(
                opts.final_backup_name
                    .clone()
                    .unwrap_or_else(|| default_final_snapshot_id(name, (self.clock)())),
            )
        };
        if let Some(id) = &snapshot_id {
            if !parameters::valid_group_name(id) {
                return Err(BackendError::Invalid {
                    field: "final_snapshot_identifier".into(),
                    message: format!("{id:?} is not a valid snapshot identifier: letters, digits and hyphens, starting with a letter, no \"--\", not ending with a hyphen"),
                });
            }
        }
        let started = (self.clock)();
        let res = self
            .client
            .delete_db_instance()
            .db_instance_identifier(name)
            .skip_final_snapshot(snapshot_id.is_none())
            .set_final_db_snapshot_identifier(snapshot_id.clone())
            .send()
            .await;
        if res.is_ok() {
            crate::fault_points::reached("aws.delete.requested");
        }
        if let Err(e) = res {
            let f = ApiFailure::from_sdk(&e);
            match f.code.as_str() {
                "DBInstanceNotFound" => {}
                "InvalidDBInstanceState"
                    if f.message
                        .to_ascii_lowercase()
                        .contains("deletion protection") =>
                {
                    return Err(BackendError::DeletionProtected {
                        name: name.to_string(),
                    })
                }
                "InvalidDBInstanceState"
                    if f.message
                        .to_ascii_lowercase()
                        .contains("already being deleted") => {}
                _ => return Err(f.into_backend(format!("deleting RDS instance {name:?}"))),
            }
        }
        self.wait_gone(name, &policy).await.map_err(|w| BackendError::Command {
            what: format!("waiting for RDS instance {name:?} to be deleted"),
            status: "still present".into(),
            output: format!("{w}; deletion continues in RDS; run terraform destroy again later, or raise timeouts.delete"),
        })?;
        crate::fault_points::reached("aws.delete.gone");
        if cur.aws.parameter_group_name.is_none() {
            if let Err(e) = self
                .delete_parameter_group(&managed_parameter_group_name(name))
                .await
            {
                tracing::warn!(
                    instance = name,
                    "could not delete the managed parameter group: {e}"
                );
            }
        }
        let final_backup = match snapshot_id {
            None => None,
            Some(id) => Some(self.snapshot_info(&id).await?.unwrap_or(BackupInfo {
                location: id.clone(),
                id,
                started_at: started,
                finished_at: (self.clock)(),
                start_wal: None,
            })),
        };
        Ok(DeleteOutcome { final_backup })
    }

    /// One snapshot by identifier.
    pub async fn snapshot_info(&self, id: &str) -> Result<Option<BackupInfo>, BackendError> {
        match self
            .client
            .describe_db_snapshots()
            .db_snapshot_identifier(id)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_snapshots().first().map(|s| self.backup_of(s))),
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "DBSnapshotNotFound" {
                    Ok(None)
                } else {
                    Err(f.into_backend(format!("reading DB snapshot {id:?}")))
                }
            }
        }
    }

    pub(super) fn backup_of(&self, s: &aws_sdk_rds::types::DbSnapshot) -> BackupInfo {
        let created = to_chrono(s.snapshot_create_time()).unwrap_or_else(|| (self.clock)());
        BackupInfo {
            id: s.db_snapshot_identifier().unwrap_or_default().to_string(),
            location: s.db_snapshot_arn().unwrap_or_default().to_string(),
            started_at: created,
            finished_at: created,
            start_wal: None,
        }
    }
}
