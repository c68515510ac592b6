//! The base backups of a database: taking one (`pg_basebackup`, recorded in its `backup.json`), listing them as
//! their records describe them, and choosing the one a restore starts from.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::pg::{self, OsUser, PgBinaries};
use crate::LocalPgError;

/// One full (base) backup: a `pg_basebackup` tarball directory locally (its `backup.json`), a snapshot on RDS.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackupInfo {
    /// The backup's identifier (its directory name locally: the start time).
    pub id: String,
    /// Directory (local) or snapshot ARN (aws).
    pub location: String,
    /// When the backup started.
    pub started_at: DateTime<Utc>,
    /// When it finished: a restore to a moment needs a backup finished before it.
    pub finished_at: DateTime<Utc>,
    /// First WAL file the backup needs (local backend), for archive cleanup.
    #[serde(default)]
    pub start_wal: Option<String>,
}

/// Where and how to take a base backup of a running server.
pub struct BackupRequest<'a> {
    pub bins: &'a PgBinaries,
    /// The OS user `pg_basebackup` runs as (the server's, so the tarballs are its files).
    pub user: Option<&'a OsUser>,
    /// The server's host (a socket directory or an address), port, and a role allowed to replicate.
    pub host: &'a str,
    pub port: u16,
    pub role: &'a str,
    pub password: &'a str,
    /// The directory the backup goes into as `<id>/`.
    pub parent: &'a Path,
    /// The backup's id; default: its start time.
    pub id: Option<String>,
    /// The first WAL file the backup needs, read from the server by the caller just before.
    pub start_wal: Option<String>,
    /// The database, as messages name it.
    pub database: &'a str,
}

/// Takes a base backup (`pg_basebackup`: tar, gzip, WAL streamed in, fast checkpoint) into `parent/<id>/` and
/// records it in `backup.json`, so [`list`] and restores find it.
pub async fn take(req: BackupRequest<'_>) -> Result<BackupInfo, LocalPgError> {
    let started_at = Utc::now();
    let id = req
        .id
        .unwrap_or_else(|| started_at.format("%Y%m%dT%H%M%S%.3fZ").to_string());
    pg::server_dir(req.parent, req.user, 0o700)?;
    let dir = req.parent.join(&id);
    pg::run(
        pg::command(&req.bins.tool("pg_basebackup"), req.user)
            .env("PGPASSWORD", req.password)
            .arg("-h")
            .arg(req.host)
            .arg("-p")
            .arg(req.port.to_string())
            .arg("-U")
            .arg(req.role)
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
        &format!("pg_basebackup of database {:?}", req.database),
    )
    .await?;
    let info = BackupInfo {
        id,
        location: dir.display().to_string(),
        started_at,
        finished_at: Utc::now(),
        start_wal: req.start_wal,
    };
    write_record(&dir, &info)?;
    Ok(info)
}

/// Writes `info` as `dir/backup.json`, the record [`list`] reads.
fn write_record(dir: &Path, info: &BackupInfo) -> Result<(), LocalPgError> {
    let json = serde_json::to_string_pretty(info).map_err(|e| LocalPgError::Metadata {
        path: dir.join("backup.json"),
        message: e.to_string(),
    })?;
    std::fs::write(dir.join("backup.json"), json)
        .map_err(LocalPgError::io("writing", dir.join("backup.json")))
}

/// The backups in `dir` (each a directory with a `backup.json`), oldest first; none when `dir` does not exist.
/// A record that cannot be read is skipped with a warning (a backup being written has none yet).
pub fn list(dir: &Path) -> Result<Vec<BackupInfo>, LocalPgError> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(LocalPgError::io("listing", dir)(e)),
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

/// The newest of `backups` (oldest first, as [`list`] gives them) that finished by `until`.
pub fn newest_by(backups: &[BackupInfo], until: DateTime<Utc>) -> Option<&BackupInfo> {
    backups.iter().rev().find(|b| b.finished_at <= until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(dir: &Path, id: &str, finished: &str) {
        let b = BackupInfo {
            id: id.into(),
            location: dir.join(id).display().to_string(),
            started_at: finished.parse().unwrap(),
            finished_at: finished.parse().unwrap(),
            start_wal: Some("000000010000000000000002".into()),
        };
        std::fs::create_dir_all(dir.join(id)).unwrap();
        write_record(&dir.join(id), &b).unwrap();
    }

    #[test]
    fn a_written_record_lists_as_it_was_taken() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), "b1", "2026-01-01T00:00:00Z");
        let got = list(dir.path()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].start_wal.as_deref(),
            Some("000000010000000000000002")
        );
        assert_eq!(got[0].location, dir.path().join("b1").display().to_string());
    }

    #[test]
    fn backups_are_listed_oldest_first_and_unreadable_records_skipped() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), "b2", "2026-01-02T00:00:00Z");
        record(dir.path(), "b1", "2026-01-01T00:00:00Z");
        std::fs::create_dir_all(dir.path().join("writing")).unwrap();
        std::fs::write(dir.path().join("writing/backup.json"), "{").unwrap();
        let ids: Vec<String> = list(dir.path())
            .unwrap()
            .into_iter()
            .map(|b| b.id)
            .collect();
        assert_eq!(ids, ["b1", "b2"]);
        assert!(list(&dir.path().join("absent")).unwrap().is_empty());
    }

    #[test]
    fn the_newest_backup_finished_by_a_moment_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), "b1", "2026-01-01T00:00:00Z");
        record(dir.path(), "b2", "2026-01-02T00:00:00Z");
        let all = list(dir.path()).unwrap();
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            newest_by(&all, at("2026-01-01T12:00:00Z")).unwrap().id,
            "b1"
        );
        assert_eq!(
            newest_by(&all, at("2026-01-03T00:00:00Z")).unwrap().id,
            "b2"
        );
        assert!(newest_by(&all, at("2025-12-31T00:00:00Z")).is_none());
    }
}
