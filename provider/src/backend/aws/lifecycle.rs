//! [`DatabaseBackend`] for RDS: the neutral operations on top of the instance calls in [`super::create`],
//! [`super::modify`], [`super::delete`] and [`super::observe`]. Restore tests are not supported on RDS yet.

use super::client::AwsBackend;
use super::error::ApiFailure;
use super::instance::RdsInstance;
use super::parameters;
use super::spec;
use super::spec::AwsOptions;
use super::waiter::wait_for;
use super::waiter::Poll;
use crate::backend::{
    BackendError, BackupInfo, Capabilities, ConnectionInfo, CreateError, DatabaseBackend,
    DatabaseInfo, DatabaseSpec, DatabaseStatus, DeleteOptions, DeleteOutcome, IntegrityReport,
    RestoreTarget, RestoredInstance, UpdateOutcome,
};
use async_trait::async_trait;

pub(super) fn unsupported_restore() -> BackendError {
    BackendError::Unsupported(
        "restore tests on the aws backend are not supported yet (they need the master password from Secrets Manager); use backend = \"local\" for restore tests".into(),
    )
}

impl AwsBackend {
    /// Brings the backup replication of a just created or modified instance to `want`, and reads the instance
    /// again when it changed; on failure, the instance as it is and the error.
    async fn replicate_backups(
        &self,
        inst: RdsInstance,
        want: Option<&crate::backend::BackupReplication>,
    ) -> Result<RdsInstance, (RdsInstance, BackendError)> {
        let name = inst.info.id.clone();
        let changed = self
            .sync_backup_replication(
                &name,
                &inst.arn,
                inst.info.spec.backup_retention_days,
                inst.aws.backup_replication.as_ref(),
                want,
            )
            .await;
        match changed {
            Ok(false) => Ok(inst),
            Ok(true) => match self.describe_instance(&name).await {
                Ok(Some(after)) => Ok(after),
                Ok(None) => Ok(inst),
                Err(e) => Err((inst, e)),
            },
            Err(e) => Err((inst, e)),
        }
    }
}

#[async_trait]
impl DatabaseBackend for AwsBackend {
    fn kind(&self) -> &'static str {
        "aws"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            instance_settings: true,
            major_upgrade_in_place: true,
            fixed_endpoint: None,
        }
    }

    fn log_exports(&self, engine: &str) -> Vec<String> {
        spec::required_log_exports("aws", engine)
    }

    fn region(&self) -> Option<String> {
        self.client_region()
    }

    /// The neutral settings first (with default instance settings), then the requested instance settings.
    fn validate_spec(&self, spec: &DatabaseSpec) -> Result<(), BackendError> {
        spec::validate(&self.request_from(spec, AwsOptions::default()))?;
        match &spec.instance {
            Some(settings) => spec::validate(&self.request_from(spec, settings.clone())),
            None => Ok(()),
        }
    }

    /// Every problem with the neutral settings, then every problem with the requested instance settings that the
    /// neutral pass did not already name.
    fn plan_problems(&self, spec: &DatabaseSpec) -> Vec<BackendError> {
        let mut out = spec::validate_all(&self.request_from(spec, AwsOptions::default()));
        if let Some(settings) = &spec.instance {
            for e in spec::validate_all(&self.request_from(spec, settings.clone())) {
                if !out.iter().any(|o| o.to_string() == e.to_string()) {
                    out.push(e);
                }
            }
        }
        out
    }

    fn restart_required(&self, current: &DatabaseSpec, desired: &DatabaseSpec) -> Vec<String> {
        let mut out = Vec::new();
        if current.instance_class != desired.instance_class {
            out.push(format!(
                "instance_class ({} -> {}): the instance restarts during the change",
                current.instance_class, desired.instance_class
            ));
        }
        if current.engine_version != desired.engine_version {
            out.push("engine_version: a major version upgrade restarts the instance".into());
        }
        for (k, v) in &desired.parameters {
            if current.parameters.get(k) != Some(v)
                && parameters::apply_method(&desired.engine, k) == "pending-reboot"
            {
                out.push(format!(
                    "parameters.{k}: a static parameter, applied at the next reboot (pending_reboot = true until then)"
                ));
            }
        }
        out
    }

    async fn create(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, BackendError> {
        self.create_tracked(spec).await.map_err(|f| f.error)
    }

    /// With `spec.instance` set, exactly those settings and `spec.timeouts.create`; without, the tier's defaults.
    async fn create_tracked(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, CreateError> {
        let aws = match &spec.instance {
            Some(settings) => settings.clone(),
            None => {
                let tier = policy::model::tiers::TierCatalogue::embedded()
                    .get(&spec.tier)
                    .cloned();
                let mut aws = AwsOptions::for_tier(tier.as_ref());
                // Enhanced monitoring needs an IAM role the tier defaults cannot name.
                aws.monitoring_interval_seconds = 0;
                aws.log_exports = spec::required_log_exports("aws", &spec.engine);
                aws
            }
        };
        let want = aws.backup_replication.clone();
        let inst = self
            .create_instance(&self.request_from(spec, aws), spec.timeouts.create)
            .await
            .map_err(|f| CreateError {
                id: f.id,
                instance: f.instance.map(|i| Box::new(i.into_info())),
                error: f.error,
            })?;
        // Backups are replicated once the instance exists; a failure here leaves a recorded instance that the
        // next apply finishes (its update starts the replication).
        match self.replicate_backups(inst, want.as_ref()).await {
            Ok(inst) => Ok(inst.into_info()),
            Err((inst, error)) => Err(CreateError {
                id: Some(inst.info.id.clone()),
                instance: Some(Box::new(inst.into_info())),
                error,
            }),
        }
    }

    async fn read(&self, name: &str) -> Result<Option<DatabaseInfo>, BackendError> {
        Ok(self
            .describe_instance(name)
            .await?
            .map(RdsInstance::into_info))
    }

    /// Only a complete instance is imported: one still being created, failed or being deleted is refused with
    /// what is missing and how to finish.
    async fn import(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        let inst = self
            .describe_instance(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })?;
        let status = inst.rds_status.as_str();
        let missing = match inst.info.status {
            DatabaseStatus::Creating => Some(format!(
                "it is still being created (RDS status {status:?}); wait until it is available, then import again (or run terraform apply: an instance dbplatform created is adopted)"
            )),
            DatabaseStatus::Failed => Some(format!(
                "it is in RDS status {status:?} and does not accept connections; repair or delete it in RDS first"
            )),
            _ if status == "deleting" => Some("it is being deleted".to_string()),
            _ => None,
        };
        match missing {
            Some(why) => Err(BackendError::Invalid {
                field: "id".into(),
                message: format!(
                    "RDS instance {name:?} ({}) is not complete: {why}",
                    inst.arn
                ),
            }),
            None => Ok(inst.into_info()),
        }
    }

    async fn update(
        &self,
        name: &str,
        desired: &DatabaseSpec,
    ) -> Result<UpdateOutcome, BackendError> {
        if let Some(settings) = &desired.instance {
            // The resource's update: exactly these settings, as RDS applies them (a static parameter waits for
            // a reboot, reported as pending_reboot); a stopped instance is not started.
            let after = self
                .modify_instance(
                    &self.request_from(desired, settings.clone()),
                    desired.timeouts.update,
                )
                .await?;
            let after = self
                .replicate_backups(after, settings.backup_replication.as_ref())
                .await
                .map_err(|(_, e)| e)?;
            return Ok(UpdateOutcome {
                info: after.into_info(),
                restarted: false,
                started: false,
            });
        }
        let cur = self
            .describe_instance(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })?;
        let was_stopped = cur.info.status == DatabaseStatus::Stopped;
        if was_stopped {
            self.start(name).await?;
        }
        let restarted = !self.restart_required(&cur.info.spec, desired).is_empty();
        let mut aws = cur.aws.clone();
        aws.apply_immediately = true;
        let after = self
            .modify_instance(&self.request_from(desired, aws), None)
            .await?;
        Ok(UpdateOutcome {
            info: after.into_info(),
            restarted,
            started: was_stopped,
        })
    }

    async fn delete(
        &self,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, BackendError> {
        // Replication stops first (AWS keeps the copies made for their retention period); a protected instance
        // is left as it is, so the refusal below changes nothing.
        if let Some(cur) = self.describe_instance(name).await? {
            if let Some(r) = cur
                .aws
                .backup_replication
                .as_ref()
                .filter(|_| !cur.info.spec.deletion_protection)
            {
                self.stop_backup_replication(name, &cur.arn, &r.region)
                    .await?;
            }
        }
        self.delete_instance(name, opts, opts.timeout).await
    }

    async fn start(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        if let Err(e) = self
            .client
            .start_db_instance()
            .db_instance_identifier(name)
            .send()
            .await
        {
            let f = ApiFailure::from_sdk(&e);
            if f.code != "InvalidDBInstanceState" {
                return Err(f.into_backend(format!("starting RDS instance {name:?}")));
            }
        }
        let db = self
            .wait_ready(name, &self.timeouts.update)
            .await
            .map_err(|w| BackendError::Command {
                what: format!("waiting for RDS instance {name:?} to start"),
                status: "not available".into(),
                output: w.to_string(),
            })?;
        Ok(self.observe(&db).await?.info)
    }

    async fn stop(&self, name: &str) -> Result<(), BackendError> {
        self.client
            .stop_db_instance()
            .db_instance_identifier(name)
            .send()
            .await
            .map_err(|e| {
                ApiFailure::from_sdk(&e).into_backend(format!("stopping RDS instance {name:?}"))
            })?;
        let policy = self.timeouts.update;
        wait_for(&policy, self.jitter_seed, || async {
            match self.describe_raw(name).await? {
                None => Ok(Poll::Failed(format!(
                    "RDS instance {name:?} disappeared while stopping"
                ))),
                Some(db) if db.db_instance_status() == Some("stopped") => Ok(Poll::Done(())),
                Some(db) => Ok(Poll::Pending(
                    db.db_instance_status().unwrap_or("unknown").to_string(),
                )),
            }
        })
        .await
        .map_err(|w| BackendError::Command {
            what: format!("waiting for RDS instance {name:?} to stop"),
            status: "not stopped".into(),
            output: w.to_string(),
        })
    }

    async fn backup(&self, name: &str) -> Result<BackupInfo, BackendError> {
        let now = (self.clock)();
        let id = format!("{name}-backup-{}", now.format("%Y%m%d-%H%M%S"));
        self.client
            .create_db_snapshot()
            .db_instance_identifier(name)
            .db_snapshot_identifier(&id)
            .send()
            .await
            .map_err(|e| {
                ApiFailure::from_sdk(&e)
                    .into_backend(format!("creating DB snapshot {id:?} of {name:?}"))
            })?;
        let info = wait_for(&self.timeouts.update, self.jitter_seed, || async {
            let out = self
                .client
                .describe_db_snapshots()
                .db_snapshot_identifier(&id)
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e))?;
            match out.db_snapshots().first() {
                Some(s) if s.status() == Some("available") => Ok(Poll::Done(self.backup_of(s))),
                Some(s) => Ok(Poll::Pending(s.status().unwrap_or("unknown").to_string())),
                None => Ok(Poll::Pending("not found yet".into())),
            }
        })
        .await
        .map_err(|w| BackendError::Command {
            what: format!("waiting for DB snapshot {id:?}"),
            status: "not available".into(),
            output: w.to_string(),
        })?;
        // Prune our own manual backups older than the retention period (RDS prunes its automated ones).
        if let Some(cur) = self.describe_instance(name).await? {
            let keep_days = i64::from(cur.info.spec.backup_retention_days.max(1));
            for b in self.list_backups(name).await? {
                if b.id.starts_with(&format!("{name}-backup-"))
                    && b.id != info.id
                    && (now - b.finished_at).num_days() >= keep_days
                {
                    if let Err(e) = self
                        .client
                        .delete_db_snapshot()
                        .db_snapshot_identifier(&b.id)
                        .send()
                        .await
                    {
                        tracing::warn!(snapshot = %b.id, "could not prune an old backup: {}", ApiFailure::from_sdk(&e).message);
                    }
                }
            }
        }
        Ok(info)
    }

    async fn list_backups(&self, name: &str) -> Result<Vec<BackupInfo>, BackendError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_db_snapshots()
                .db_instance_identifier(name)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e)
                        .into_backend(format!("listing DB snapshots of {name:?}"))
                })?;
            out.extend(
                page.db_snapshots()
                    .iter()
                    .filter(|s| s.status() == Some("available"))
                    .map(|s| self.backup_of(s)),
            );
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        out.sort_by_key(|b| b.finished_at);
        Ok(out)
    }

    async fn connection(&self, _name: &str) -> Result<ConnectionInfo, BackendError> {
        Err(unsupported_restore())
    }

    async fn admin_connection(&self, name: &str) -> Result<ConnectionInfo, BackendError> {
        // Roles are the same SQL as locally (backend::roles), run over the instance endpoint as the master user.
        // That needs the master password, which RDS keeps in Secrets Manager (ManageMasterUserPassword); this
        // provider does not read Secrets Manager yet, and the emulator the tests use has no SQL engine at all.
        Err(BackendError::Unsupported(format!(
            "dbplatform_role on the aws backend needs the master password of {name:?} from Secrets Manager to connect to the instance endpoint, which this provider does not read yet; manage roles on aws databases with backend = \"local\" for now (see docs/guides/access.md)"
        )))
    }

    async fn open_login(
        &self,
        name: &str,
        role: &str,
        ttl: std::time::Duration,
    ) -> Result<crate::backend::roles::credentials::Login, BackendError> {
        self.iam_login(name, role, ttl).await
    }

    async fn renew_login(
        &self,
        _name: &str,
        username: &str,
        _ttl: std::time::Duration,
    ) -> Result<chrono::DateTime<chrono::Utc>, BackendError> {
        Err(BackendError::Unsupported(format!(
            "IAM tokens cannot be extended (login {username:?}): connections opened with the token stay open; run Terraform again for a new one"
        )))
    }

    async fn close_login(
        &self,
        _name: &str,
        _username: &str,
        _role: &str,
    ) -> Result<(), BackendError> {
        // Nothing was created in the database: the token simply expires.
        Ok(())
    }

    async fn restore(
        &self,
        _name: &str,
        _target: RestoreTarget,
    ) -> Result<RestoredInstance, BackendError> {
        Err(unsupported_restore())
    }

    async fn check_integrity(
        &self,
        _restored: &RestoredInstance,
    ) -> Result<IntegrityReport, BackendError> {
        Err(unsupported_restore())
    }

    async fn discard_restored(&self, _restored: &RestoredInstance) -> Result<(), BackendError> {
        Err(unsupported_restore())
    }

    fn replicas(&self) -> Option<&dyn crate::backend::replica::ReplicaBackend> {
        Some(self)
    }
}
