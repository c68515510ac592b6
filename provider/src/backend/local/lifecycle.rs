//! [`DatabaseBackend`] for the local backend: create, read, delete, start, stop and backups here; updates
//! ([`super::update`]) and restores ([`super::restore`]) have their own files.

use async_trait::async_trait;

use super::backend::LocalBackend;
use super::conf::*;
use super::layout::{Phase, BACKEND};
use super::recover::Found;
use super::validate::validate_spec;
use crate::backend::{
    BackendError, BackupInfo, Capabilities, ConnectionInfo, DatabaseBackend, DatabaseInfo,
    DatabaseSpec, DatabaseStatus, DeleteOptions, DeleteOutcome, IntegrityReport, RestoreTarget,
    RestoredInstance, UpdateOutcome,
};

#[async_trait]
impl DatabaseBackend for LocalBackend {
    fn kind(&self) -> &'static str {
        BACKEND
    }

    /// Servers listen on this machine; a new major version needs a new cluster (no pg_upgrade in place).
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            instance_settings: false,
            major_upgrade_in_place: false,
            fixed_endpoint: Some("127.0.0.1"),
        }
    }

    /// The newest PostgreSQL installed here, what a database without `engine_version` is created with.
    fn default_engine_major(&self) -> Option<String> {
        self.bins(None).ok().map(|b| b.major)
    }

    fn validate_spec(&self, spec: &DatabaseSpec) -> Result<(), BackendError> {
        validate_spec(spec)
    }

    /// The spec's problem, and an engine version that is not installed on this machine (named with what is).
    fn plan_problems(&self, spec: &DatabaseSpec) -> Vec<BackendError> {
        if let Err(e) = validate_spec(spec) {
            return vec![e];
        }
        match spec.engine_version.as_deref().map(|v| self.bins(Some(v))) {
            Some(Err(e)) => vec![BackendError::Invalid {
                field: "engine_version".into(),
                message: e.to_string(),
            }],
            _ => Vec::new(),
        }
    }

    fn restart_required(&self, current: &DatabaseSpec, desired: &DatabaseSpec) -> Vec<String> {
        let mut out = Vec::new();
        if sizing(&current.instance_class) != sizing(&desired.instance_class) {
            let (a, b) = (
                sizing(&current.instance_class),
                sizing(&desired.instance_class),
            );
            out.push(format!(
                "instance_class {:?} -> {:?} (shared_buffers {}MB -> {}MB, max_connections {} -> {})",
                current.instance_class, desired.instance_class, a.0, b.0, a.1, b.1
            ));
        }
        let keys: std::collections::BTreeSet<&String> = current
            .parameters
            .keys()
            .chain(desired.parameters.keys())
            .collect();
        for k in keys {
            if current.parameters.get(k) != desired.parameters.get(k)
                && RESTART_PARAMETERS.contains(&k.as_str())
            {
                out.push(format!("parameters.{k}"));
            }
        }
        out
    }

    async fn create(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, BackendError> {
        validate_spec(spec)?;
        let layout = self.layout(&spec.name);
        let databases = self.data_dir.join("databases");
        std::fs::create_dir_all(&databases)
            .map_err(BackendError::io("creating data directory", &databases))?;
        self.sweep(&spec.name).await;
        match self.inspect(&layout) {
            Found::Absent => {}
            Found::Ready(_) => {
                return Err(BackendError::AlreadyExists {
                    name: spec.name.clone(),
                    location: layout.root.display().to_string(),
                })
            }
            Found::Foreign(why) => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "{why}; it is left alone: move it away if it is not needed, or choose another name"
                    ),
                })
            }
            Found::Deleting(_) => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "database {:?} is still being destroyed (an interrupted destroy); run terraform destroy to finish it, then apply",
                        spec.name
                    ),
                })
            }
            Found::Creating { meta, live: true } => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "database {:?} is being created right now by provider process {}; wait for that apply to finish",
                        spec.name,
                        meta.owner_process.map(|p| p.0).unwrap_or_default()
                    ),
                })
            }
            // An interrupted create of ours holds no data yet: remove it and start again.
            Found::Creating { meta, live: false } => {
                tracing::info!(
                    "removing the interrupted create of {} (stopped after step {:?})",
                    spec.name,
                    meta.step
                );
                self.discard(&layout, &meta).await?;
            }
        }
        match self.create_inner(spec, &layout).await {
            Ok(info) => Ok(info),
            Err(e) => {
                // Leave nothing half-made behind: a retry must be able to start from scratch.
                if let Found::Creating { meta, .. } = self.inspect(&layout) {
                    if let Err(d) = self.discard(&layout, &meta).await {
                        tracing::warn!("cleaning up the failed create of {}: {d}", spec.name);
                    }
                }
                let _ = std::fs::remove_dir_all(layout.sibling("creating"));
                Err(e)
            }
        }
    }

    async fn read(&self, name: &str) -> Result<Option<DatabaseInfo>, BackendError> {
        self.sweep(name).await;
        // A failover drill killed midway is finished first, so what is read is the original topology.
        self.finish_interrupted_drill(name).await;
        let Some((layout, meta)) = self.load(name)? else {
            return Ok(None);
        };
        // A create that never finished is not a database (the next apply removes and remakes it).
        if meta.phase == Phase::Creating || !layout.pgdata().join("PG_VERSION").exists() {
            return Ok(None);
        }
        let info = self.info(&layout, &meta).await?;
        if info.status == DatabaseStatus::Available && meta.phase == Phase::Ready {
            if let Err(e) = self.ensure_recent_backup(&layout, &meta).await {
                tracing::warn!("scheduled base backup of {name} failed: {e}");
            }
        }
        Ok(Some(info))
    }

    async fn import(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        self.import_checked(name).await
    }

    async fn update(
        &self,
        name: &str,
        desired: &DatabaseSpec,
    ) -> Result<UpdateOutcome, BackendError> {
        self.update_database(name, desired).await
    }

    async fn delete(
        &self,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, BackendError> {
        self.delete_database(name, opts).await
    }

    async fn start(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let bins = self.bins_for(&meta)?;
        if self.is_running(&bins, &layout.pgdata()).await? != DatabaseStatus::Available {
            self.pg_ctl_start(
                &bins,
                &layout.pgdata(),
                &layout.log(),
                &format!("starting database {name:?}"),
            )
            .await?;
        }
        self.info(&layout, &meta).await
    }

    async fn stop(&self, name: &str) -> Result<(), BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let bins = self.bins_for(&meta)?;
        if self.is_running(&bins, &layout.pgdata()).await? == DatabaseStatus::Available {
            self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
        }
        Ok(())
    }

    async fn backup(&self, name: &str) -> Result<BackupInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let info = self
            .take_base_backup(&layout, &meta, &layout.backups(), None)
            .await?;
        self.prune(&layout, &meta).await?;
        Ok(info)
    }

    async fn list_backups(&self, name: &str) -> Result<Vec<BackupInfo>, BackendError> {
        let (layout, _) = self.load_existing(name)?;
        self.backups_in(&layout.backups())
    }

    async fn connection(&self, name: &str) -> Result<ConnectionInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        self.conn(&layout, &meta, &meta.spec.db_name)
    }

    async fn rotate_master_password(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let staged = layout.root.join("master-password.new");
        // A rotation killed between setting the password and replacing the file left the new password staged:
        // when it is the one the server has, finish that rotation first, else drop the stale file.
        if let Ok(pending) = std::fs::read_to_string(&staged) {
            let mut conn = self.conn(&layout, &meta, &meta.spec.db_name)?;
            conn.password = pending.trim().to_string();
            if conn.connect().await.is_ok() {
                std::fs::rename(&staged, layout.secret())
                    .map_err(BackendError::io("replacing", layout.secret()))?;
            } else {
                std::fs::remove_file(&staged)
                    .map_err(BackendError::io("removing", staged.clone()))?;
            }
        }
        // The master user changes its own password (always allowed), over its current login. The new password
        // is written beside the old file first, so a crash between the two steps leaves it on disk.
        let client = self
            .conn(&layout, &meta, &meta.spec.db_name)?
            .connect()
            .await?;
        let password = crate::backend::roles::credentials::random_password();
        super::support::write_private(&staged, &password)?;
        crate::fault_points::reached("local.rotate.staged");
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        client
            .batch_execute(&format!(
                "ALTER ROLE CURRENT_USER PASSWORD '{}'",
                verifier.replace('\'', "''")
            ))
            .await
            .map_err(|e| super::support::sql_err(name, e))?;
        crate::fault_points::reached("local.rotate.password_set");
        std::fs::rename(&staged, layout.secret())
            .map_err(BackendError::io("replacing", layout.secret()))?;
        crate::fault_points::reached("local.rotate.file_replaced");
        self.info(&layout, &meta).await
    }

    async fn admin_connection(&self, name: &str) -> Result<ConnectionInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        if meta.admin_role.is_none() {
            return Err(BackendError::Unsupported(format!(
                "database {name:?} was made before this provider had an administrative role (its master user cannot create roles); recreate it, or restore it into a new database, to manage roles on it"
            )));
        }
        self.admin_conn(&layout, &meta, &meta.spec.db_name)
    }

    async fn restore(
        &self,
        name: &str,
        target: RestoreTarget,
    ) -> Result<RestoredInstance, BackendError> {
        self.restore_copy(name, target).await
    }

    async fn check_integrity(
        &self,
        restored: &RestoredInstance,
    ) -> Result<IntegrityReport, BackendError> {
        self.check_copy(restored).await
    }

    async fn discard_restored(&self, restored: &RestoredInstance) -> Result<(), BackendError> {
        self.discard_copy(restored).await
    }

    fn replicas(&self) -> Option<&dyn crate::backend::replica::ReplicaBackend> {
        Some(self)
    }
}
