//! Cross-region replication of an instance's automated backups (tier-0 disaster recovery): started, read back and
//! stopped through the RDS API of the *destination* region, as AWS requires
//! (`StartDBInstanceAutomatedBackupsReplication`, `DescribeDBInstanceAutomatedBackups`,
//! `StopDBInstanceAutomatedBackupsReplication`). The source instance lists its replications
//! (`DBInstanceAutomatedBackupsReplications`, one ARN each, whose region is the destination), so a refresh and an
//! import find them without being told where to look.

use aws_sdk_rds::types::DbInstance;

use super::client::AwsBackend;
use super::error::ApiFailure;
use crate::backend::{BackendError, BackupReplication};

/// The region of an ARN (`arn:aws:rds:us-west-2:123456789012:auto-backup:ab-...`).
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

impl AwsBackend {
    /// The region this backend's client talks to.
    pub fn client_region(&self) -> Option<String> {
        self.client.config().region().map(|r| r.to_string())
    }

    /// A client for another region with the same credentials, retries, timeouts and endpoint override.
    fn regional_client(&self, region: &str) -> aws_sdk_rds::Client {
        let conf = self
            .client
            .config()
            .to_builder()
            .region(aws_config::Region::new(region.to_string()))
            .build();
        aws_sdk_rds::Client::from_conf(conf)
    }

    /// The replication of `db`'s automated backups, read in its destination region; `None` when there is none.
    pub(super) async fn observe_backup_replication(
        &self,
        db: &DbInstance,
    ) -> Result<Option<BackupReplication>, BackendError> {
        let Some(arn) = db
            .db_instance_automated_backups_replications()
            .iter()
            .find_map(|r| r.db_instance_automated_backups_arn())
        else {
            return Ok(None);
        };
        let Some(region) = arn_region(arn) else {
            return Ok(None);
        };
        let name = db.db_instance_identifier().unwrap_or_default();
        let out = self
            .regional_client(region)
            .describe_db_instance_automated_backups()
            .db_instance_automated_backups_arn(arn)
            .send()
            .await
            .map_err(|e| {
                ApiFailure::from_sdk(&e).into_backend(format!(
                    "reading the replicated automated backups of {name:?} in {region}"
                ))
            })?;
        Ok(out
            .db_instance_automated_backups()
            .iter()
            .find(|b| b.db_instance_automated_backups_arn() == Some(arn))
            .map(|b| BackupReplication {
                region: region.to_string(),
                kms_key_id: b.kms_key_id().map(str::to_string),
            }))
    }

    /// Starts replicating the automated backups of the instance `source_arn` into `want.region`, kept
    /// `retention_days` days there.
    pub(super) async fn start_backup_replication(
        &self,
        name: &str,
        source_arn: &str,
        retention_days: u32,
        want: &BackupReplication,
    ) -> Result<(), BackendError> {
        let mut call = self
            .regional_client(&want.region)
            .start_db_instance_automated_backups_replication()
            .source_db_instance_arn(source_arn)
            .set_kms_key_id(want.kms_key_id.clone());
        if retention_days > 0 {
            call = call.backup_retention_period(i32::try_from(retention_days).unwrap_or(i32::MAX));
        }
        call.send().await.map_err(|e| {
            ApiFailure::from_sdk(&e).into_backend(format!(
                "starting the replication of {name:?}'s automated backups to {}",
                want.region
            ))
        })?;
        crate::fault_points::reached("aws.backup_replication.started");
        Ok(())
    }

    /// Stops replicating the automated backups of `source_arn` into `region` (the copies already made are kept
    /// for their retention period, as AWS does); a replication that is already gone is fine.
    pub(super) async fn stop_backup_replication(
        &self,
        name: &str,
        source_arn: &str,
        region: &str,
    ) -> Result<(), BackendError> {
        let res = self
            .regional_client(region)
            .stop_db_instance_automated_backups_replication()
            .source_db_instance_arn(source_arn)
            .send()
            .await;
        if let Err(e) = res {
            let f = ApiFailure::from_sdk(&e);
            if !matches!(
                f.code.as_str(),
                "DBInstanceAutomatedBackupNotFound" | "DBInstanceAutomatedBackupNotFoundFault"
            ) {
                return Err(f.into_backend(format!(
                    "stopping the replication of {name:?}'s automated backups to {region}"
                )));
            }
        }
        crate::fault_points::reached("aws.backup_replication.stopped");
        Ok(())
    }

    /// Makes the replication of instance `name` (ARN `arn`, now `current`) what `want` says: started, stopped, or
    /// moved (stopped in the old region, then started in the new one). A different key alone restarts it too, as
    /// AWS cannot change the key of a running replication.
    pub(super) async fn sync_backup_replication(
        &self,
        name: &str,
        arn: &str,
        retention_days: u32,
        current: Option<&BackupReplication>,
        want: Option<&BackupReplication>,
    ) -> Result<bool, BackendError> {
        if current == want {
            return Ok(false);
        }
        if let Some(cur) = current {
            self.stop_backup_replication(name, arn, &cur.region).await?;
        }
        if let Some(w) = want {
            self.start_backup_replication(name, arn, retention_days, w)
                .await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::arn_region;

    #[test]
    fn the_destination_region_comes_from_the_replication_arn() {
        assert_eq!(
            arn_region("arn:aws:rds:us-west-2:123456789012:auto-backup:ab-abc"),
            Some("us-west-2")
        );
        assert_eq!(arn_region("not-an-arn"), None);
    }
}
