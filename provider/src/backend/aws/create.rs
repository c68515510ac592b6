//! Creating an RDS instance: the managed parameter group, the create call with an RDS-managed master password
//! and our management tag, adopting our own instance on a retried create, and waiting until it is available.

use super::client::AwsBackend;
use super::error::ApiFailure;
use super::instance::CreateFailure;
use super::instance::RdsInstance;
use super::parameter_group::ParameterGroupSpec;
use super::parameters::effective_parameters;
use super::spec;
use super::spec::instance_tags;
use super::spec::managed_parameter_group_name;
use super::spec::parameter_group_family;
use super::spec::requested_major;
use super::spec::RdsInstanceSpec;
use crate::backend::BackendError;
use aws_sdk_rds::types::Tag;
use std::collections::BTreeMap;
use std::time::Duration;

impl AwsBackend {
    /// Creates or updates the per-database parameter group when the request names none.
    pub(super) async fn ensure_own_parameter_group(
        &self,
        req: &RdsInstanceSpec,
    ) -> Result<Option<String>, BackendError> {
        if let Some(name) = &req.aws.parameter_group_name {
            return Ok(Some(name.clone()));
        }
        let spec = &req.spec;
        let family = parameter_group_family(&spec.engine, &requested_major(spec))?;
        let tls_min = if spec.min_tls_version.is_empty() {
            "1.2"
        } else {
            spec.min_tls_version.as_str()
        };
        let parameters = effective_parameters(&spec.engine, &spec.tier, tls_min, &spec.parameters)?;
        let group = ParameterGroupSpec {
            name: managed_parameter_group_name(&spec.name),
            family,
            engine: spec.engine.clone(),
            description: format!(
                "dbplatform parameters for database {} ({})",
                spec.name, spec.tier
            ),
            parameters,
            tags: BTreeMap::from([("dbplatform:database".to_string(), spec.name.clone())]),
        };
        Ok(Some(self.ensure_parameter_group(&group).await?.name))
    }

    /// Creates an instance with an RDS-managed master password, tags and our management tag, and waits until it
    /// is available (or `timeout`). An instance of the same name carrying our tag is adopted.
    pub async fn create_instance(
        &self,
        req: &RdsInstanceSpec,
        timeout: Option<Duration>,
    ) -> Result<RdsInstance, CreateFailure> {
        spec::validate(req)?;
        let spec = &req.spec;
        let o = &req.aws;
        let name = spec.name.as_str();
        let policy = timeout
            .map(|t| self.timeouts.create.with_timeout(t))
            .unwrap_or(self.timeouts.create);
        let existing = self.describe_instance(name).await?;
        let mut adopted = false;
        match existing {
            Some(inst) if inst.managed => {
                // Ours, from a create whose provider died before Terraform recorded it: adopt it when it is the
                // same database (what RDS cannot change in place matches), then bring the rest up to the request.
                check_adoptable(req, &inst)?;
                tracing::info!(
                    instance = name,
                    "adopting an instance carrying the dbplatform management tag"
                );
                adopted = true;
            }
            Some(inst) => return Err(foreign(name, &inst).into()),
            None => {}
        }
        if !adopted {
            let group = self.ensure_own_parameter_group(req).await?;
            crate::fault_points::reached("aws.create.parameter_group");
            let tags: Vec<Tag> = instance_tags(spec)
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect();
            let mut call = self
                .client
                .create_db_instance()
                .db_instance_identifier(name)
                .engine(&spec.engine)
                .engine_version(requested_major(spec))
                .db_instance_class(&spec.instance_class)
                .allocated_storage(o.allocated_storage_gb as i32)
                .storage_type(&o.storage_type)
                .storage_encrypted(o.storage_encrypted)
                .db_name(&spec.db_name)
                .master_username(&spec.master_username)
                .manage_master_user_password(true)
                .multi_az(spec.multi_az)
                .backup_retention_period(spec.backup_retention_days as i32)
                .deletion_protection(spec.deletion_protection)
                .enable_iam_database_authentication(o.iam_database_authentication)
                .enable_performance_insights(o.performance_insights)
                .monitoring_interval(o.monitoring_interval_seconds as i32)
                .auto_minor_version_upgrade(true)
                .copy_tags_to_snapshot(true)
                .publicly_accessible(false)
                .set_max_allocated_storage(o.max_allocated_storage_gb.map(|v| v as i32))
                .set_kms_key_id(o.kms_key_id.clone())
                .set_preferred_backup_window(o.backup_window.clone())
                .set_preferred_maintenance_window(o.maintenance_window.clone())
                .set_db_subnet_group_name(o.db_subnet_group_name.clone())
                .set_db_parameter_group_name(group)
                .set_monitoring_role_arn(o.monitoring_role_arn.clone())
                .set_tags(Some(tags));
            if !o.vpc_security_group_ids.is_empty() {
                call = call.set_vpc_security_group_ids(Some(o.vpc_security_group_ids.clone()));
            }
            if !o.log_exports.is_empty() {
                call = call.set_enable_cloudwatch_logs_exports(Some(o.log_exports.clone()));
            }
            let sent = call.send().await;
            if sent.is_ok() {
                crate::fault_points::reached("aws.create.requested");
            }
            if let Err(e) = sent {
                let f = ApiFailure::from_sdk(&e);
                // The call may have gone through even though we saw an error (a dropped response, then a retry
                // that hit DBInstanceAlreadyExists): if an instance with our tag is there now, it is ours.
                match self.describe_instance(name).await {
                    Ok(Some(inst)) if inst.managed => {
                        check_adoptable(req, &inst)?;
                        tracing::info!(instance = name, code = %f.code, "create reported an error but our instance exists; adopting it");
                        adopted = true;
                    }
                    Ok(Some(inst)) => return Err(foreign(name, &inst).into()),
                    Ok(None) => {
                        return Err(f
                            .into_backend(format!("creating RDS instance {name:?}"))
                            .into())
                    }
                    // Cannot tell whether the create went through: keep the id so nothing is orphaned.
                    Err(_) => {
                        return Err(CreateFailure {
                            id: f.transient.then(|| name.to_string()),
                            instance: None,
                            error: f.into_backend(format!("creating RDS instance {name:?}")),
                        })
                    }
                }
            }
        }
        match self.wait_ready(name, &policy).await {
            Ok(db) => {
                crate::fault_points::reached("aws.create.available");
                let failed = |error| CreateFailure {
                    id: Some(name.to_string()),
                    instance: None,
                    error,
                };
                if adopted {
                    // The adopted instance was created from an earlier request: apply this one (only what
                    // differs is sent), tags and the managed parameter group included.
                    return self.modify_instance(req, timeout).await.map_err(failed);
                }
                self.observe(&db).await.map_err(failed)
            }
            Err(w) => {
                let instance = self
                    .describe_instance(name)
                    .await
                    .ok()
                    .flatten()
                    .map(Box::new);
                let error = BackendError::Command {
                    what: format!("waiting for RDS instance {name:?} to become available"),
                    status: "not available".into(),
                    output: format!(
                        "{w}; the instance exists and is kept in state (tainted), so the next apply replaces or keeps it; raise timeouts.create if it is still creating"
                    ),
                };
                Err(CreateFailure {
                    id: Some(name.to_string()),
                    instance,
                    error,
                })
            }
        }
    }
}

/// The error for an instance of the requested name that dbplatform did not create: it is never adopted.
fn foreign(name: &str, inst: &RdsInstance) -> BackendError {
    BackendError::AlreadyExists {
        name: name.to_string(),
        location: format!(
            "RDS instance {} (not created by dbplatform: it has no {}={} tag, so it is not adopted)",
            inst.arn,
            spec::MANAGED_TAG_KEY,
            spec::MANAGED_TAG_VALUE
        ),
    }
}

/// An instance carrying our tag is adopted only when it is the requested database: same engine, database name and
/// master user (what RDS cannot change in place). Anything else is a different database under the same name.
pub(super) fn check_adoptable(
    req: &RdsInstanceSpec,
    inst: &RdsInstance,
) -> Result<(), BackendError> {
    let have = &inst.info.spec;
    let want = &req.spec;
    let mut differs = Vec::new();
    for (field, h, w) in [
        ("engine", &have.engine, &want.engine),
        ("db_name", &have.db_name, &want.db_name),
        (
            "master_username",
            &have.master_username,
            &want.master_username,
        ),
    ] {
        if h != w {
            differs.push(format!("{field} {h:?} (requested {w:?})"));
        }
    }
    if differs.is_empty() {
        return Ok(());
    }
    Err(BackendError::AlreadyExists {
        name: want.name.clone(),
        location: format!(
            "RDS instance {}, created by dbplatform for a different database ({}), so it is not adopted; delete it \
             or import it and align the configuration",
            inst.arn,
            differs.join(", ")
        ),
    })
}
