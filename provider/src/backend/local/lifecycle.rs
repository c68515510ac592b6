//! [`DatabaseBackend`] for the local backend: create, read, delete, start, stop and backups here; updates
//! ([`super::update`]) and restores ([`super::restore`]) have their own files.

use std::path::Path;

use async_trait::async_trait;
use chrono::Utc;

use super::backend::LocalBackend;
use super::conf::*;
use super::layout::BACKEND;
use super::pg::{self};
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
        if layout.root.exists() {
            return Err(BackendError::AlreadyExists {
                name: spec.name.clone(),
                location: layout.root.display().to_string(),
            });
        }
        std::fs::create_dir_all(&self.data_dir)
            .map_err(BackendError::io("creating data directory", &self.data_dir))?;
        match self.create_inner(spec, &layout).await {
            Ok(info) => Ok(info),
            Err(e) => {
                // Leave nothing half-made behind: a retry must be able to start from scratch.
                if let Ok(bins) = self.bins(spec.engine_version.as_deref()) {
                    if self.is_running(&bins, &layout.pgdata()).await.ok()
                        == Some(DatabaseStatus::Available)
                    {
                        let _ = self.pg_ctl_stop(&bins, &layout.pgdata(), "immediate").await;
                    }
                }
                let _ = std::fs::remove_dir_all(&layout.root);
                Err(e)
            }
        }
    }

    async fn read(&self, name: &str) -> Result<Option<DatabaseInfo>, BackendError> {
        let Some((layout, meta)) = self.load(name)? else {
            return Ok(None);
        };
        if !layout.pgdata().join("PG_VERSION").exists() {
            return Ok(None);
        }
        let info = self.info(&layout, &meta).await?;
        if info.status == DatabaseStatus::Available {
            if let Err(e) = self.ensure_recent_backup(&layout, &meta).await {
                tracing::warn!("scheduled base backup of {name} failed: {e}");
            }
        }
        Ok(Some(info))
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
        let Some((layout, meta)) = self.load(name)? else {
            return Ok(DeleteOutcome { final_backup: None });
        };
        if meta.spec.deletion_protection {
            return Err(BackendError::DeletionProtected {
                name: name.to_string(),
            });
        }
        let bins = self.bins_for(&meta)?;
        let user = self.os_user()?;
        let status = self.is_running(&bins, &layout.pgdata()).await?;
        let mut final_backup = None;
        if !opts.skip_final_backup && layout.pgdata().join("PG_VERSION").exists() {
            let now = Utc::now();
            let id = opts
                .final_backup_name
                .clone()
                .unwrap_or_else(|| format!("{name}-{}", now.format("%Y%m%dT%H%M%SZ")));
            let parent = self.final_backups_dir();
            pg::server_dir(&parent, user.as_ref(), 0o755)?;
            let dir = parent.join(&id);
            if dir.exists() {
                return Err(BackendError::AlreadyExists {
                    name: id,
                    location: dir.display().to_string(),
                });
            }
            let info = if status == DatabaseStatus::Available {
                self.take_base_backup(&layout, &meta, &parent, Some(id.clone()))
                    .await?
            } else {
                // A stopped cluster is consistent on disk: a cold copy is a complete backup.
                pg::server_dir(&dir, user.as_ref(), 0o700)?;
                pg::run(
                    pg::command(Path::new("tar"), user.as_ref())
                        .arg("-czf")
                        .arg(dir.join("base.tar.gz"))
                        .arg("-C")
                        .arg(layout.pgdata())
                        .arg("."),
                    "final (cold) backup",
                )
                .await?;
                let info = BackupInfo {
                    id: id.clone(),
                    location: dir.display().to_string(),
                    started_at: now,
                    finished_at: Utc::now(),
                    start_wal: None,
                };
                let json =
                    serde_json::to_string_pretty(&info).map_err(|e| BackendError::Metadata {
                        path: dir.clone(),
                        message: e.to_string(),
                    })?;
                std::fs::write(dir.join("backup.json"), json)
                    .map_err(BackendError::io("writing", dir.join("backup.json")))?;
                info
            };
            for f in [layout.metadata(), layout.secret(), layout.ca_cert()] {
                if let Some(file) = f.file_name() {
                    std::fs::copy(&f, dir.join(file))
                        .map_err(BackendError::io("copying into the final backup", &f))?;
                }
            }
            final_backup = Some(info);
        }
        if status == DatabaseStatus::Available {
            self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
        }
        std::fs::remove_dir_all(&layout.root)
            .map_err(BackendError::io("removing", &layout.root))?;
        if meta.socket_dir != layout.run() {
            let _ = std::fs::remove_dir_all(&meta.socket_dir);
        }
        Ok(DeleteOutcome { final_backup })
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
}
