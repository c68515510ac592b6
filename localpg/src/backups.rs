//! The base backups of a database as their `backup.json` records describe them: listing, and choosing the one
//! a restore starts from.

use std::path::Path;

use chrono::{DateTime, Utc};

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
            start_wal: None,
        };
        std::fs::create_dir_all(dir.join(id)).unwrap();
        std::fs::write(
            dir.join(id).join("backup.json"),
            serde_json::to_string(&b).unwrap(),
        )
        .unwrap();
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
