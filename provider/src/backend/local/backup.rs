//! Backups: pg_basebackup tarballs, their listing and pruning after the retention period, a fresh base backup
//! daily or once the WAL archived since the last one outweighs a share of the database, and forcing a WAL switch
//! so the archive holds the latest changes.

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

/// WAL below this volume never triggers a base backup on its own: replaying it takes seconds, and each base
/// backup itself archives a segment or two, which on a small database would exceed the share every time.
const MIN_WAL_FOR_BACKUP: u64 = 256 << 20;

/// Bytes of the WAL segment files in `archive` from `start_wal` on (names of 24 hex digits: timeline, log,
/// segment, so later segments sort after it).
fn wal_bytes_since(archive: &Path, start_wal: &str) -> u64 {
    let Ok(rd) = std::fs::read_dir(archive) else {
        return 0;
    };
    rd.flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.len() == 24 && n.bytes().all(|b| b.is_ascii_hexdigit()) && *n >= *start_wal
        })
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Bytes of the files under `dir` (recursively; unreadable entries count as empty).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// Whether the WAL archived since `newest` outweighs `share` of the database's data files (`pgdata/base`).
fn wal_outweighs(layout: &Layout, newest: &BackupInfo, share: f64) -> bool {
    let Some(start) = newest.start_wal.as_deref() else {
        return false;
    };
    if share <= 0.0 {
        return false;
    }
    let wal = wal_bytes_since(&layout.archive(), start);
    wal >= MIN_WAL_FOR_BACKUP
        && wal as f64 > share * dir_bytes(&layout.pgdata().join("base")) as f64
}

impl LocalBackend {
    /// Sets the share of the database's size that WAL archived since the newest base backup may reach before
    /// a new base backup is taken (`local.base_backup_wal_percent` / 100; 0 = by age only).
    pub fn with_base_backup_wal_share(mut self, share: f64) -> Self {
        self.base_backup_wal_share = share;
        self
    }

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
        Ok(localpg::backups::take(localpg::backups::BackupRequest {
            bins: &bins,
            user: user.as_ref(),
            host: &conn.host,
            port: conn.port,
            role: &conn.user,
            password: &conn.password,
            parent,
            id,
            start_wal: Some(start_wal),
            database: &meta.spec.name,
        })
        .await?)
    }

    /// The base backups in `dir`, oldest first (see `localpg::backups::list`).
    pub(super) fn backups_in(&self, dir: &Path) -> Result<Vec<BackupInfo>, BackendError> {
        Ok(localpg::backups::list(dir)?)
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

    /// Takes a base backup when the newest is older than the interval (the local "backup window") or the WAL
    /// archived since it outweighs the configured share of the database.
    pub(super) async fn ensure_recent_backup(
        &self,
        layout: &Layout,
        meta: &Metadata,
    ) -> Result<(), BackendError> {
        if meta.spec.backup_retention_days == 0 {
            return Ok(());
        }
        let backups = self.backups_in(&layout.backups())?;
        let due = backups.last().is_none_or(|b| {
            Utc::now() - b.finished_at > chrono::Duration::hours(BASE_BACKUP_INTERVAL_HOURS)
                || wal_outweighs(layout, b, self.base_backup_wal_share)
        });
        if due {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(start_wal: &str) -> BackupInfo {
        BackupInfo {
            id: "b".into(),
            location: String::new(),
            started_at: Utc::now(),
            finished_at: Utc::now(),
            start_wal: Some(start_wal.into()),
        }
    }

    /// A layout with `data` bytes of data files and the given WAL segment files (name, bytes) in the archive.
    fn layout(dir: &Path, data: u64, wal: &[(&str, u64)]) -> Layout {
        let layout = Layout {
            root: dir.to_path_buf(),
        };
        let base = layout.pgdata().join("base").join("5");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::File::create(base.join("16384"))
            .unwrap()
            .set_len(data)
            .unwrap();
        std::fs::create_dir_all(layout.archive()).unwrap();
        for (name, len) in wal {
            std::fs::File::create(layout.archive().join(name))
                .unwrap()
                .set_len(*len)
                .unwrap();
        }
        layout
    }

    const SEG: u64 = 16 << 20;

    #[test]
    fn wal_since_the_newest_backup_counts_only_later_segments() {
        let dir = tempfile::tempdir().unwrap();
        let l = layout(
            dir.path(),
            0,
            &[
                ("000000010000000000000001", SEG),
                ("000000010000000000000002", SEG),
                ("000000010000000000000003", SEG),
                ("000000010000000000000002.00000028.backup", 300),
            ],
        );
        assert_eq!(
            wal_bytes_since(&l.archive(), "000000010000000000000002"),
            2 * SEG
        );
    }

    #[test]
    fn a_base_backup_is_due_once_wal_outweighs_the_share_of_the_data() {
        let dir = tempfile::tempdir().unwrap();
        // 1 GiB of data files, 40 segments (640 MiB) of WAL since the backup: more than half the data.
        let names: Vec<String> = (1..=40)
            .map(|i| format!("0000000100000000000000{i:02X}"))
            .collect();
        let wal: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), SEG)).collect();
        let l = layout(dir.path(), 1 << 30, &wal);
        let b = backup("000000010000000000000001");
        assert!(wal_outweighs(&l, &b, 0.5));
        assert!(
            !wal_outweighs(&l, &b, 0.75),
            "640 MiB is less than 0.75 of 1 GiB"
        );
        assert!(
            !wal_outweighs(&l, &b, 0.0),
            "a share of 0 schedules by age only"
        );
        assert!(
            !wal_outweighs(&l, &backup("000000010000000000000018"), 0.5),
            "17 segments since the backup: 272 MiB, less than half"
        );
    }

    #[test]
    fn a_little_wal_on_a_small_database_does_not_trigger_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        // 8 MiB of data, 2 segments of WAL: 4x the data, but only 32 MiB to replay.
        let l = layout(
            dir.path(),
            8 << 20,
            &[
                ("000000010000000000000001", SEG),
                ("000000010000000000000002", SEG),
            ],
        );
        assert!(!wal_outweighs(&l, &backup("000000010000000000000001"), 0.5));
    }
}
