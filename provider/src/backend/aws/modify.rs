//! Modifying an RDS instance in place: only what differs is sent; tags and the managed parameter group are
//! synced; the wait follows when the change applies immediately.

use super::client::AwsBackend;
use super::error::ApiFailure;
use super::instance::RdsInstance;
use super::spec;
use super::spec::instance_tags;
use super::spec::managed_parameter_group_name;
use super::spec::requested_major;
use super::spec::RdsInstanceSpec;
use crate::backend::version::compare_major;
use crate::backend::BackendError;
use aws_sdk_rds::types::CloudwatchLogsExportConfiguration;
use std::time::Duration;

impl AwsBackend {
    /// Modifies an instance in place to match `req` (only what differs is sent), syncs tags and the managed
    /// parameter group, and waits until it is available again when the change applies immediately.
    pub async fn modify_instance(
        &self,
        req: &RdsInstanceSpec,
        timeout: Option<Duration>,
    ) -> Result<RdsInstance, BackendError> {
        spec::validate(req)?;
        let spec = &req.spec;
        let o = &req.aws;
        let name = spec.name.as_str();
        let policy = timeout
            .map(|t| self.timeouts.update.with_timeout(t))
            .unwrap_or(self.timeouts.update);
        let cur = self
            .describe_instance(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })?;
        let c = &cur.info.spec;
        let replace = |field: &str, from: &str, to: &str| {
            BackendError::Invalid {
            field: field.to_string(),
            message: format!("RDS cannot change {field} of an existing instance ({from:?} -> {to:?}); this change needs the database replaced (plan shows -/+)"),
        }
        };
        if c.engine != spec.engine {
            return Err(replace("engine", &c.engine, &spec.engine));
        }
        if c.db_name != spec.db_name {
            return Err(replace("db_name", &c.db_name, &spec.db_name));
        }
        if c.master_username != spec.master_username {
            return Err(replace(
                "master_username",
                &c.master_username,
                &spec.master_username,
            ));
        }
        if cur.storage_encrypted != o.storage_encrypted {
            return Err(replace(
                "storage_encrypted",
                &cur.storage_encrypted.to_string(),
                &o.storage_encrypted.to_string(),
            ));
        }
        if let Some(k) = &o.kms_key_id {
            if cur.aws.kms_key_id.as_deref() != Some(k.as_str()) {
                return Err(replace(
                    "kms_key_id",
                    cur.aws.kms_key_id.as_deref().unwrap_or(""),
                    k,
                ));
            }
        }
        let want_major = requested_major(spec);
        let have_major = c.engine_version.clone().unwrap_or_default();
        let mut call = self
            .client
            .modify_db_instance()
            .db_instance_identifier(name)
            .apply_immediately(o.apply_immediately);
        let mut changed = false;
        match compare_major(&want_major, &have_major) {
            std::cmp::Ordering::Less => {
                return Err(BackendError::Invalid {
                    field: "engine_version".into(),
                    message: format!(
                        "{name:?} runs {} {} and RDS cannot downgrade to {want_major}; keep engine_version = {have_major:?}, or restore a snapshot into a new database",
                        spec.engine, cur.info.engine_version_actual
                    ),
                })
            }
            std::cmp::Ordering::Greater => {
                call = call.engine_version(&want_major).allow_major_version_upgrade(true);
                changed = true;
            }
            std::cmp::Ordering::Equal => {}
        }
        if c.instance_class != spec.instance_class {
            call = call.db_instance_class(&spec.instance_class);
            changed = true;
        }
        if c.multi_az != spec.multi_az {
            call = call.multi_az(spec.multi_az);
            changed = true;
        }
        if c.backup_retention_days != spec.backup_retention_days {
            call = call.backup_retention_period(spec.backup_retention_days as i32);
            changed = true;
        }
        if c.deletion_protection != spec.deletion_protection {
            call = call.deletion_protection(spec.deletion_protection);
            changed = true;
        }
        if cur.aws.allocated_storage_gb != o.allocated_storage_gb {
            if o.allocated_storage_gb < cur.aws.allocated_storage_gb {
                return Err(BackendError::Invalid {
                    field: "allocated_storage_gb".into(),
                    message: format!(
                        "RDS storage cannot shrink ({} -> {} GiB); keep {} or restore a snapshot into a new, smaller database",
                        cur.aws.allocated_storage_gb, o.allocated_storage_gb, cur.aws.allocated_storage_gb
                    ),
                });
            }
            call = call.allocated_storage(o.allocated_storage_gb as i32);
            changed = true;
        }
        if cur.aws.max_allocated_storage_gb != o.max_allocated_storage_gb {
            // RDS turns autoscaling off when the ceiling equals the allocated storage.
            call = call.max_allocated_storage(
                o.max_allocated_storage_gb.unwrap_or(o.allocated_storage_gb) as i32,
            );
            changed = true;
        }
        if cur.aws.storage_type != o.storage_type {
            call = call.storage_type(&o.storage_type);
            changed = true;
        }
        if o.backup_window.is_some() && cur.aws.backup_window != o.backup_window {
            call = call.set_preferred_backup_window(o.backup_window.clone());
            changed = true;
        }
        if o.maintenance_window.is_some() && cur.aws.maintenance_window != o.maintenance_window {
            call = call.set_preferred_maintenance_window(o.maintenance_window.clone());
            changed = true;
        }
        if o.db_subnet_group_name.is_some()
            && cur.aws.db_subnet_group_name != o.db_subnet_group_name
        {
            call = call.set_db_subnet_group_name(o.db_subnet_group_name.clone());
            changed = true;
        }
        if !o.vpc_security_group_ids.is_empty()
            && cur.aws.vpc_security_group_ids != o.vpc_security_group_ids
        {
            call = call.set_vpc_security_group_ids(Some(o.vpc_security_group_ids.clone()));
            changed = true;
        }
        if cur.aws.iam_database_authentication != o.iam_database_authentication {
            call = call.enable_iam_database_authentication(o.iam_database_authentication);
            changed = true;
        }
        if cur.aws.performance_insights != o.performance_insights {
            call = call.enable_performance_insights(o.performance_insights);
            changed = true;
        }
        if cur.aws.monitoring_interval_seconds != o.monitoring_interval_seconds
            || cur.aws.monitoring_role_arn != o.monitoring_role_arn
        {
            call = call
                .monitoring_interval(o.monitoring_interval_seconds as i32)
                .set_monitoring_role_arn(o.monitoring_role_arn.clone());
            changed = true;
        }
        let mut have_logs = cur.aws.log_exports.clone();
        have_logs.sort();
        let mut want_logs = o.log_exports.clone();
        want_logs.sort();
        if have_logs != want_logs {
            let enable: Vec<String> = want_logs
                .iter()
                .filter(|l| !have_logs.contains(l))
                .cloned()
                .collect();
            let disable: Vec<String> = have_logs
                .iter()
                .filter(|l| !want_logs.contains(l))
                .cloned()
                .collect();
            call = call.cloudwatch_logs_export_configuration(
                CloudwatchLogsExportConfiguration::builder()
                    .set_enable_log_types(Some(enable))
                    .set_disable_log_types(Some(disable))
                    .build(),
            );
            changed = true;
        }
        // Parameters: a managed group is brought up to date in place; a named group is switched to.
        let group_name = if o.parameter_group_name.is_none() && want_major == have_major {
            let g = self.ensure_own_parameter_group(req).await?;
            crate::fault_points::reached("aws.modify.parameter_group");
            g
        } else if o.parameter_group_name.is_none() {
            // A major upgrade needs a group of the new family; the managed group is recreated under the same name
            // only after the upgrade, so keep the engine default group for the upgrade itself.
            None
        } else {
            o.parameter_group_name.clone()
        };
        let current_group = cur
            .aws
            .parameter_group_name
            .clone()
            .unwrap_or_else(|| managed_parameter_group_name(name));
        if let Some(g) = &group_name {
            if *g != current_group {
                call = call.db_parameter_group_name(g);
                changed = true;
            }
        }
        if changed {
            call.send().await.map_err(|e| {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "InvalidDBInstanceState" {
                    BackendError::Command {
                        what: format!("modifying RDS instance {name:?}"),
                        status: f.code,
                        output: format!(
                            "{} (status {:?}); wait until it is available and run terraform apply again",
                            f.message, cur.rds_status
                        ),
                    }
                } else {
                    f.into_backend(format!("modifying RDS instance {name:?}"))
                }
            })?;
            crate::fault_points::reached("aws.modify.requested");
        }
        let mut want_tags = instance_tags(spec);
        let mut have_tags = cur.info.spec.tags.clone();
        if cur.managed {
            have_tags.insert(spec::MANAGED_TAG_KEY.into(), spec::MANAGED_TAG_VALUE.into());
        }
        want_tags.insert(spec::MANAGED_TAG_KEY.into(), spec::MANAGED_TAG_VALUE.into());
        self.sync_tags(&cur.arn, &have_tags, &want_tags).await?;
        crate::fault_points::reached("aws.modify.tagged");
        if changed && o.apply_immediately {
            // RDS flips to "modifying" shortly after the call; a first poll may still see "available".
            self.wait_ready(name, &policy).await.map_err(|w| BackendError::Command {
                what: format!("waiting for RDS instance {name:?} to finish modifying"),
                status: "not available".into(),
                output: format!(
                    "{w}; the change was accepted by RDS and continues; run terraform apply again later, or raise timeouts.update"
                ),
            })?;
            crate::fault_points::reached("aws.modify.available");
        }
        self.describe_instance(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })
    }
}
