//! Backups: pg_basebackup tarballs, their listing and pruning after the retention period, the daily fresh
//! backup, and forcing a WAL switch so the archive holds the latest changes.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::backend::LocalBackend;
use super::layout::{Layout, Metadata};
use super::pg::{self};
use super::support::*;
use crate::backend::{BackendError, BackupInfo};

/// How often, at the latest, a running database gets a fresh base backup (checked on refresh and apply).
pub(super) const BASE_BACKUP_INTERVAL_HOURS: i64 = 24;

impl LocalBackend {
    /// `pg_basebackup` (tar, gzip, WAL streamed in) into `parent/<id>/`, recorded in `backup.json`.
    pub(super) async fn take_base_backup(
        &self,
        layout: &Layout,
        meta: &Metadata,
        parent: &Path,
        id: Option<String>,
    ) -> Result<BackupInfo, BackendError> {
        let bins = self.bins_for(meta)?;
        let user = super::identity::owner_of(&layout.pgdata())?;
        let conn = self.admin_conn(layout, meta, "postgres")?;
        let client = conn.connect().await?;
        let start_wal: String = client
            .query_one("SELECT pg_walfile_name(pg_current_wal_lsn())", &[])
            .await
            .map_err(|e| sql_err(&meta.spec.name, e))?
            .get(0);
        drop(client);
        let started_at = Utc::now();
        let id = id.unwrap_or_else(|| started_at.format("%Y%m%dT%H%M%S%.3fZ").to_string());
        pg::server_dir(parent, user.as_ref(), 0o700)?;
        let dir = parent.join(&id);
        pg::run(
            pg::command(&bins.tool("pg_basebackup"), user.as_ref())
                .env("PGPASSWORD", &conn.password)
                .arg("-h")
                .arg(&conn.host)
                .arg("-p")
                .arg(conn.port.to_string())
                .arg("-U")
                .arg(&conn.user)
                .arg("-D")
                .arg(&dir)
                .args([
                    "-Ft",
                    "-z",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-password",
                    "-l",
                ])
                .arg(format!("dbplatform {id}")),
            &format!("pg_basebackup of database {:?}", meta.spec.name),
        )
        .await?;
        let info = BackupInfo {
            id,
            location: dir.display().to_string(),
            started_at,
            finished_at: Utc::now(),
            start_wal: Some(start_wal),
        };
        let json = serde_json::to_string_pretty(&info).map_err(|e| BackendError::Metadata {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(dir.join("backup.json"), json)
            .map_err(BackendError::io("writing", dir.join("backup.json")))?;
        Ok(info)
    }

    pub(super) fn backups_in(&self, dir: &Path) -> Result<Vec<BackupInfo>, BackendError> {
        let mut out = Vec::new();
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(BackendError::io("listing", dir)(e)),
        };
        for e in rd.flatten() {
            let p = e.path().join("backup.json");
            if let Ok(t) = std::fs::read_to_string(&p) {
                match serde_json::from_str::<BackupInfo>(&t) {
                    Ok(b) => out.push(b),
                    Err(err) => {
                        tracing::warn!("ignoring unreadable backup record {}: {err}", p.display())
                    }
                }
            }
        }
        out.sort_by_key(|b| b.finished_at);
        Ok(out)
    }

    /// Removes base backups older than the retention period (always keeping the newest) and WAL they no longer need.
    pub(super) async fn prune(&self, layout: &Layout, meta: &Metadata) -> Result<(), BackendError> {
        let backups = self.backups_in(&layout.backups())?;
        let cutoff =
            Utc::now() - chrono::Duration::days(i64::from(meta.spec.backup_retention_days.max(1)));
        let keep_from = backups
            .iter()
            .position(|b| b.finished_at >= cutoff)
            .unwrap_or(backups.len().saturating_sub(1));
        for b in &backups[..keep_from] {
            std::fs::remove_dir_all(&b.location)
                .map_err(BackendError::io("removing expired backup", &b.location))?;
        }
        if let Some(oldest) = backups.get(keep_from).and_then(|b| b.start_wal.clone()) {
            let bins = self.bins_for(meta)?;
            if bins.has("pg_archivecleanup") {
                let user = super::identity::owner_of(&layout.pgdata())?;
                pg::run(
                    pg::command(&bins.tool("pg_archivecleanup"), user.as_ref())
                        .arg(layout.archive())
                        .arg(&oldest),
                    "removing WAL older than the oldest kept backup",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Takes a base backup when the newest is older than the interval (the local "backup window").
    pub(super) async fn ensure_recent_backup(
        &self,
        layout: &Layout,
        meta: &Metadata,
    ) -> Result<(), BackendError> {
        if meta.spec.backup_retention_days == 0 {
            return Ok(());
        }
        let newest = self
            .backups_in(&layout.backups())?
            .last()
            .map(|b| b.finished_at);
        if newest
            .is_none_or(|t| Utc::now() - t > chrono::Duration::hours(BASE_BACKUP_INTERVAL_HOURS))
        {
            self.take_base_backup(layout, meta, &layout.backups(), None)
                .await?;
            self.prune(layout, meta).await?;
        }
        Ok(())
    }

    /// Forces the current WAL segment into the archive and waits until it is there.
    pub(super) async fn archive_now(
        &self,
        client: &tokio_postgres::Client,
        name: &str,
    ) -> Result<(), BackendError> {
        let wal: String = client
            .query_one("SELECT pg_walfile_name(pg_switch_wal())", &[])
            .await
            .map_err(|e| sql_err(name, e))?
            .get(0);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let row = client
                .query_one(
                    "SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_wal, ''), failed_count FROM pg_stat_archiver",
                    &[],
                )
                .await
                .map_err(|e| sql_err(name, e))?;
            let archived: String = row.get(0);
            if archived.as_str() >= wal.as_str() && archived.len() == wal.len() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                let failed: String = row.get(1);
                return Err(BackendError::Restore(format!(
                    "WAL segment {wal} of database {name:?} was not archived within 60 s (last archived {archived:?}, last failed {failed:?}); check the server log and that the wal-archive directory is writable"
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
