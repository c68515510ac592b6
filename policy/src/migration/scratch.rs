//! `dbpolicy migration dry-run --scratch-copy NAME`: a copy of local database NAME restored from its latest base
//! backup plus archived WAL (the provider's restore machinery, from the `localpg` crate) to run a dry run on,
//! and removed afterwards whatever happened, so statements that cannot be rolled back can run for real.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use localpg::layout::{Metadata, Phase, SpecSummary};
use localpg::pg::{PgBinaries, PgEnv};
use localpg::restore::{self, RestoreRequest, ScratchCluster};
use serde::Serialize;

use super::{interrupt, MigrationError};

/// How long WAL replay may take before the restore is given up (as for the provider's restore tests).
const RECOVERY_LIMIT: Duration = Duration::from_secs(900);

/// Which database to copy, and where the local backend keeps it.
#[derive(Debug, Clone)]
pub struct ScratchSource {
    /// The database's name (the `dbplatform_database`'s `name`).
    pub name: String,
    /// The local backend's `data_dir`.
    pub data_dir: PathBuf,
    /// Where to find PostgreSQL, as the caller read it from its environment.
    pub pg: PgEnv,
}

/// What a report says about the copy a dry run ran on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScratchCopyInfo {
    /// The database the copy was restored from.
    pub database: String,
    /// The base backup it started from (its id, the directory name under `base-backups/`).
    pub base_backup: String,
    /// When that backup finished; the copy also holds the WAL archived after it.
    pub backup_finished_at: DateTime<Utc>,
    /// When the restored copy was ready.
    pub restored_at: DateTime<Utc>,
}

/// A running scratch copy. [`ScratchCopy::remove`] removes it and reports failures; dropping it without that
/// (an error or panic on the way) still stops and removes it, best effort.
pub struct ScratchCopy {
    info: ScratchCopyInfo,
    config: postgres::Config,
    copy: ScratchCluster,
    bins: PgBinaries,
    restores: PathBuf,
    removed: bool,
}

fn runtime(name: &str) -> Result<tokio::runtime::Runtime, MigrationError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| MigrationError::ScratchCopy {
            name: name.to_string(),
            message: format!("cannot start the runtime that drives the restore: {e}"),
        })
}

impl ScratchCopy {
    /// Restores `src`'s newest base backup plus its archived WAL into `<data_dir>/restores/` and starts it as
    /// the OS user that owns the source (no new OS user), on its own Unix socket and a free port.
    pub fn restore(src: &ScratchSource) -> Result<ScratchCopy, MigrationError> {
        let err = |message: String| MigrationError::ScratchCopy {
            name: src.name.clone(),
            message,
        };
        let layout =
            localpg::data_dir::existing_database(&src.data_dir, &src.name, "--scratch-copy")?;
        let meta: Metadata<SpecSummary> =
            layout
                .read_metadata()
                .map_err(|e| err(e.to_string()))?
                .ok_or_else(|| err(format!("{} disappeared", layout.metadata().display())))?;
        if meta.phase != Phase::Ready {
            return Err(err(format!(
                "the database is {} (an interrupted terraform apply or destroy); run terraform apply, then the dry run again",
                if meta.phase == Phase::Creating { "still being created" } else { "being destroyed" }
            )));
        }
        let backups = localpg::backups::list(&layout.backups()).map_err(|e| err(e.to_string()))?;
        let Some(base) = backups.last().cloned() else {
            return Err(err(format!(
                "the database has no base backup yet under {} (backup_retention_days = {}); the provider takes one \
                 with backup_retention_days > 0 on create and daily on apply or refresh, and a dbplatform_restore_test \
                 run takes one too: run terraform apply, then the dry run again",
                layout.backups().display(),
                meta.spec.backup_retention_days
            )));
        };
        let major = meta.engine_version_actual.split('.').next().unwrap_or("");
        let bins = PgBinaries::locate(Some(major), &src.pg).map_err(|e| err(e.to_string()))?;
        let password = layout.password().map_err(|e| err(e.to_string()))?;
        let restores = localpg::data_dir::restores_dir(&src.data_dir);
        std::fs::create_dir_all(&restores)
            .map_err(|e| err(format!("creating {}: {e}", restores.display())))?;
        let id = format!("dryrun-{}", restore::scratch_id(&src.name, Utc::now()));
        let request = RestoreRequest {
            source: &layout,
            bins: &bins,
            base: &base,
            dest: restores.join(id),
            recovery_target: None,
            recovery_limit: RECOVERY_LIMIT,
        };
        // Interrupted from here on, the copy is stopped and removed, whether it is half unpacked or running.
        let planned = ScratchCluster {
            socket_dir: localpg::server::socket_dir_for(&request.dest.join("run"), &request.dest),
            port: 0,
            root: request.dest.clone(),
        };
        let (b, r) = (bins.clone(), restores.clone());
        // Armed before the runtime exists: its threads, if any, must inherit the blocked signals.
        interrupt::arm(move || {
            if let Ok(rt) = runtime("") {
                let _ = rt.block_on(restore::discard(&b, &r, &planned));
            }
        });
        let restored = runtime(&src.name).and_then(|rt| {
            rt.block_on(restore::restore(&request))
                .map_err(|e| err(e.to_string()))
        });
        // A failed restore removed what it had made.
        let copy = restored.inspect_err(|_| interrupt::disarm_with(|| ()))?;
        let mut config = postgres::Config::new();
        config
            .host_path(&copy.socket_dir)
            .port(copy.port)
            .user(&meta.spec.master_username)
            .password(password)
            .dbname(&meta.spec.db_name)
            .application_name("dbpolicy dry-run")
            .connect_timeout(Duration::from_secs(10));
        Ok(ScratchCopy {
            info: ScratchCopyInfo {
                database: src.name.clone(),
                base_backup: base.id,
                backup_finished_at: base.finished_at,
                restored_at: Utc::now(),
            },
            config,
            copy,
            bins,
            restores,
            removed: false,
        })
    }

    /// How to connect to the copy: as the database's master user over its Unix socket.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// What the report says about the copy.
    pub fn info(&self) -> &ScratchCopyInfo {
        &self.info
    }

    /// Stops the copy and removes its directories.
    pub fn remove(mut self) -> Result<(), MigrationError> {
        self.removed = true;
        self.discard()
    }

    fn discard(&self) -> Result<(), MigrationError> {
        let name = &self.info.database;
        let rt = runtime(name)?;
        interrupt::disarm_with(|| {
            rt.block_on(restore::discard(&self.bins, &self.restores, &self.copy))
        })
            .map_err(|e| MigrationError::ScratchCopy {
                name: name.clone(),
                message: format!(
                    "removing the scratch copy failed: {e}; stop it with `pg_ctl stop -D {}` and remove {}",
                    self.copy.pgdata().display(),
                    self.copy.root.display()
                ),
            })
    }
}

impl Drop for ScratchCopy {
    fn drop(&mut self) {
        if !self.removed {
            if let Err(e) = self.discard() {
                eprintln!("dbpolicy: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data directory holding database `orders` in `phase`, made by the provider, without any base backup.
    fn data_dir_with(phase: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("databases/orders");
        std::fs::create_dir_all(&root).unwrap();
        let meta = format!(
            r#"{{"format": 1, "id": "orders", "port": 5433, "socket_dir": "/nonexistent",
               "spec": {{"name": "orders", "db_name": "orders", "master_username": "orders_admin",
                        "backup_retention_days": 0, "tier": "tier-3"}},
               "engine_version_actual": "15.13", "bindir": "/nonexistent",
               "created_at": "2026-12-01T00:00:00Z", "phase": "{phase}"}}"#
        );
        std::fs::write(root.join("metadata.json"), meta).unwrap();
        dir
    }

    fn restore_error(dir: &tempfile::TempDir) -> String {
        let src = ScratchSource {
            name: "orders".into(),
            data_dir: dir.path().to_path_buf(),
            pg: PgEnv::default(),
        };
        match ScratchCopy::restore(&src) {
            Ok(_) => panic!("a copy was made"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_database_without_a_base_backup_says_how_to_get_one() {
        let dir = data_dir_with("ready");
        let e = restore_error(&dir);
        assert!(
            e.starts_with("--scratch-copy orders: the database has no base backup yet"),
            "{e}"
        );
        assert!(
            e.contains("backup_retention_days = 0") && e.contains("run terraform apply"),
            "{e}"
        );
        assert!(!dir.path().join("restores").exists(), "nothing was made");
    }

    #[test]
    fn a_database_being_created_is_not_copied() {
        let e = restore_error(&data_dir_with("creating"));
        assert!(e.contains("still being created"), "{e}");
    }
}
