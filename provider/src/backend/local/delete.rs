//! Destroying a database as resumable steps, and the retention of final backups.
//!
//! Steps (each a fault point `local.delete.<step>`): `marked` (metadata says `deleting` and names the final
//! backup, so a re-run keeps one backup, not two), `final_backup` (built inside the database's directory, then
//! moved complete into `final-backups/`), `stopped`, `detached` (the directory moved aside atomically), `removed`.
//! Final backups hold the cluster, `metadata.json` and the CA certificate, never the master password.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::backend::LocalBackend;
use super::identity;
use super::layout::{Metadata, Phase};
use super::pg::{self};
use super::recover::Found;
use crate::backend::{BackendError, BackupInfo, DatabaseStatus, DeleteOptions, DeleteOutcome};

impl LocalBackend {
    pub(super) async fn delete_database(
        &self,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, BackendError> {
        self.sweep(name).await;
        let layout = self.layout(name);
        let mut meta = match self.inspect(&layout) {
            Found::Absent => {
                // Gone already (never made, or its directory removed by hand): its OS user must not outlive it.
                self.remove_own_os_user(name);
                return Ok(DeleteOutcome { final_backup: None });
            }
            Found::Foreign(why) => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!("{why}; it is left alone"),
                })
            }
            Found::Creating { meta, .. } => {
                // Never complete, so it holds no data: remove what was made.
                self.discard(&layout, &meta).await?;
                self.remove_own_os_user(name);
                return Ok(DeleteOutcome { final_backup: None });
            }
            Found::Ready(meta) | Found::Deleting(meta) => *meta,
        };
        if meta.phase == Phase::Ready {
            if meta.spec.deletion_protection {
                return Err(BackendError::DeletionProtected {
                    name: name.to_string(),
                });
            }
            meta.final_backup_id = if opts.skip_final_backup {
                None
            } else {
                let id = opts
                    .final_backup_name
                    .clone()
                    .unwrap_or_else(|| format!("{name}-{}", Utc::now().format("%Y%m%dT%H%M%SZ")));
                let dest = self.final_backups_dir().join(&id);
                if dest.exists() {
                    return Err(BackendError::AlreadyExists {
                        name: id,
                        location: dest.display().to_string(),
                    });
                }
                Some(id)
            };
            meta.phase = Phase::Deleting;
            meta.owner_process = Some(crate::liveness::current());
            self.save(&layout, &meta)?;
        }
        crate::fault_points::reached("local.delete.marked");

        let bins = self.bins_for(&meta)?;
        let status = self.is_running(&bins, &layout.pgdata()).await?;
        let mut final_backup = None;
        if let Some(id) = meta.final_backup_id.clone() {
            let dest = self.final_backups_dir().join(&id);
            if dest.join("backup.json").exists() {
                final_backup = read_backup_info(&dest);
            } else if layout.pgdata().join("PG_VERSION").exists() {
                final_backup = Some(
                    self.final_backup(&layout, &meta, &id, status == DatabaseStatus::Available)
                        .await?,
                );
            }
        }
        if status == DatabaseStatus::Available {
            self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
        }
        crate::fault_points::reached("local.delete.stopped");
        self.discard(&layout, &meta).await?;
        self.remove_own_os_user(name);
        if let Err(e) = self.prune_final_backups() {
            tracing::warn!("pruning final backups failed: {e}");
        }
        crate::fault_points::reached("local.delete.removed");
        Ok(DeleteOutcome { final_backup })
    }

    /// Takes the final backup `id` into the database's own directory, then moves it, complete, into place.
    async fn final_backup(
        &self,
        layout: &super::layout::Layout,
        meta: &Metadata,
        id: &str,
        running: bool,
    ) -> Result<BackupInfo, BackendError> {
        let staging = layout.final_staging();
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(BackendError::io("removing", &staging))?;
        }
        let user = identity::owner_of(&layout.pgdata())?;
        let dir = staging.join(id);
        let mut info = if running {
            self.take_base_backup(layout, meta, &staging, Some(id.to_string()))
                .await?
        } else {
            // A stopped cluster is consistent on disk: a cold copy is a complete backup.
            pg::server_dir(&staging, user.as_ref(), 0o700)?;
            pg::server_dir(&dir, user.as_ref(), 0o700)?;
            let now = Utc::now();
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
            BackupInfo {
                id: id.to_string(),
                location: dir.display().to_string(),
                started_at: now,
                finished_at: Utc::now(),
                start_wal: None,
            }
        };
        for f in [layout.metadata(), layout.ca_cert()] {
            if let Some(file) = f.file_name() {
                std::fs::copy(&f, dir.join(file))
                    .map_err(BackendError::io("copying into the final backup", &f))?;
            }
        }
        let dest = self.final_backups_dir().join(id);
        info.location = dest.display().to_string();
        write_backup_info(&dir, &info)?;
        crate::fault_points::reached("local.delete.final_backup");
        let parent = self.final_backups_dir();
        std::fs::create_dir_all(&parent)
            .map_err(BackendError::io("creating directory", &parent))?;
        // Readable by the provider only: one database's server user must not read another's final backup.
        pg::chmod(&parent, 0o700)?;
        std::fs::rename(&dir, &dest)
            .map_err(BackendError::io("moving the final backup to", &dest))?;
        // Owned by the provider from now on: the server's OS user is removed with the database, and a later user
        // given the same uid must not own this backup.
        if identity::is_root() {
            chown_tree(&dest)?;
        }
        crate::fault_points::reached("local.delete.final_backup_kept");
        Ok(info)
    }

    /// Applies the final-backup retention: per database, at most `keep` newest, none older than `max_age_days`.
    /// Also drops a `master-password` copy that final backups of older versions kept.
    pub(super) fn prune_final_backups(&self) -> Result<(), BackendError> {
        let parent = self.final_backups_dir();
        let rd = match std::fs::read_dir(&parent) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(BackendError::io("listing", &parent)(e)),
        };
        let mut by_db: std::collections::BTreeMap<String, Vec<(DateTime<Utc>, PathBuf)>> =
            Default::default();
        for e in rd.flatten() {
            let dir = e.path();
            let _ = std::fs::remove_file(dir.join("master-password"));
            let Some(info) = read_backup_info(&dir) else {
                continue;
            };
            let db = std::fs::read_to_string(dir.join("metadata.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
                .unwrap_or_else(|| info.id.clone());
            by_db.entry(db).or_default().push((info.finished_at, dir));
        }
        let cutoff =
            Utc::now() - chrono::Duration::days(i64::from(self.final_retention.max_age_days));
        for (_, mut list) in by_db {
            list.sort_by_key(|b| std::cmp::Reverse(b.0));
            for (i, (finished, dir)) in list.iter().enumerate() {
                if i >= self.final_retention.keep.max(1) as usize || *finished < cutoff {
                    std::fs::remove_dir_all(dir)
                        .map_err(BackendError::io("removing expired final backup", dir))?;
                }
            }
        }
        Ok(())
    }
}

/// Gives `path` and everything under it to the provider's user.
fn chown_tree(path: &Path) -> Result<(), BackendError> {
    // SAFETY: geteuid/getegid have no preconditions and cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .map_err(BackendError::io("changing owner of", path))?;
    if path.is_dir() && !path.is_symlink() {
        for e in std::fs::read_dir(path)
            .map_err(BackendError::io("listing", path))?
            .flatten()
        {
            chown_tree(&e.path())?;
        }
    }
    Ok(())
}

fn read_backup_info(dir: &Path) -> Option<BackupInfo> {
    let text = std::fs::read_to_string(dir.join("backup.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_backup_info(dir: &Path, info: &BackupInfo) -> Result<(), BackendError> {
    let json = serde_json::to_string_pretty(info).map_err(|e| BackendError::Metadata {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(dir.join("backup.json"), json)
        .map_err(BackendError::io("writing", dir.join("backup.json")))
}

#[cfg(test)]
mod tests {
    use super::super::backend::{FinalBackupRetention, LocalBackend};
    use crate::backend::BackupInfo;
    use chrono::Utc;

    fn fake_final(root: &std::path::Path, id: &str, db: &str, age_days: i64) {
        let dir = root.join("final-backups").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let t = Utc::now() - chrono::Duration::days(age_days);
        let info = BackupInfo {
            id: id.into(),
            location: dir.display().to_string(),
            started_at: t,
            finished_at: t,
            start_wal: None,
        };
        super::write_backup_info(&dir, &info).unwrap();
        std::fs::write(dir.join("metadata.json"), format!("{{\"id\":\"{db}\"}}")).unwrap();
        std::fs::write(dir.join("master-password"), "secret").unwrap();
    }

    #[test]
    fn final_backups_are_kept_by_count_and_age_per_database() {
        let tmp = tempfile::tempdir().unwrap();
        for (id, age) in [
            ("a-1", 0),
            ("a-2", 1),
            ("a-3", 2),
            ("a-4", 3),
            ("b-old", 40),
        ] {
            let db = id.split('-').next().unwrap();
            fake_final(tmp.path(), id, db, age);
        }
        let b = LocalBackend::new(tmp.path()).with_final_backup_retention(FinalBackupRetention {
            keep: 2,
            max_age_days: 30,
        });
        b.prune_final_backups().unwrap();
        let mut left: Vec<String> = std::fs::read_dir(tmp.path().join("final-backups"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(left, vec!["a-1", "a-2"], "two newest of a; b past 30 days");
        assert!(!tmp
            .path()
            .join("final-backups/a-1/master-password")
            .exists());
    }
}
