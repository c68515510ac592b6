//! One database's directory on disk: where its cluster, WAL archive, backups, socket, password and log live
//! ([`Layout`]), and the metadata file that stands in for the RDS API ([`Metadata`]), read by the provider that
//! writes it and by dbpolicy, which restores scratch copies of it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::LocalPgError;

/// What the backend keeps about a database beside its data (the local stand-in for the RDS API). `S` is the
/// settings the provider asked for: its own `DatabaseSpec` there; [`SpecSummary`] for readers that need only
/// what a connection takes, so this crate does not depend on the provider's types.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metadata<S = SpecSummary> {
    /// Version of this file's format.
    pub format: u32,
    /// The database's identifier (its name on the local backend).
    pub id: String,
    /// The settings the database was made with.
    pub spec: S,
    /// The port in the name of its Unix socket.
    pub port: u16,
    /// The directory of its Unix socket (the server listens on no TCP address).
    pub socket_dir: PathBuf,
    /// The PostgreSQL version that runs it ("15.13"), whose major version picks the binaries.
    pub engine_version_actual: String,
    /// Where its binaries were found when it was made.
    pub bindir: PathBuf,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Where the database is in its life: a create or destroy that was interrupted leaves `creating` or
    /// `deleting` here, which the next apply resumes or cleans up (absent in files of older versions: ready).
    #[serde(default)]
    pub phase: Phase,
    /// The last create step whose effect is durable (see `create.rs`), for messages about an interrupted create.
    #[serde(default)]
    pub step: String,
    /// The provider process creating or destroying it (pid and start time), so a live one is never disturbed.
    #[serde(default)]
    pub owner_process: Option<(u32, u64)>,
    /// The administrative role the provider uses over the Unix socket; `None` in databases made by versions
    /// where the master user was the superuser.
    #[serde(default)]
    pub admin_role: Option<String>,
    /// The OS user the server runs as (when the provider is root).
    #[serde(default)]
    pub os_user: Option<String>,
    /// The final backup an interrupted destroy was taking, so a re-run keeps one, not two.
    #[serde(default)]
    pub final_backup_id: Option<String>,
}

/// The part of the provider's settings (`spec` in `metadata.json`) a reader outside the provider needs: the
/// database to connect to and as whom. Other settings in the file are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecSummary {
    /// The database's name (the resource's `name`).
    pub name: String,
    /// The database inside the cluster that the application uses.
    pub db_name: String,
    /// The application's master role, which owns that database.
    pub master_username: String,
    /// Days base backups are kept (0: no backups are taken), for messages about missing backups.
    #[serde(default)]
    pub backup_retention_days: u32,
}

/// The life phase recorded in `metadata.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Being created: not a database yet; never imported, removed and made again by the next create.
    Creating,
    /// Complete and usable.
    #[default]
    Ready,
    /// Being destroyed: the next destroy finishes it.
    Deleting,
}

/// `<data_dir>/databases`: one directory per database.
pub fn databases_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("databases")
}

/// Paths of one database's directory, so every reader and writer names its files the same way.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `<data_dir>/databases/<name>`.
    pub root: PathBuf,
}

impl Layout {
    /// The directory of database `name` under the backend's `data_dir`.
    pub fn of(data_dir: &Path, name: &str) -> Layout {
        Layout {
            root: databases_dir(data_dir).join(name),
        }
    }

    /// Reads `metadata.json`: `None` when the directory has none (not a database, or not one yet).
    pub fn read_metadata<S: serde::de::DeserializeOwned>(
        &self,
    ) -> Result<Option<Metadata<S>>, LocalPgError> {
        let path = self.metadata();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LocalPgError::io("reading", &path)(e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| LocalPgError::Metadata {
                path,
                message: e.to_string(),
            })
    }

    /// The master password (the file holds it alone, mode 0600).
    pub fn password(&self) -> Result<String, LocalPgError> {
        std::fs::read_to_string(self.secret())
            .map(|s| s.trim().to_string())
            .map_err(LocalPgError::io(
                "reading the master password file",
                self.secret(),
            ))
    }

    /// The cluster (initdb with data checksums), owned by the server's OS user.
    pub fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }
    /// The continuous WAL archive `archive_command` copies each finished segment into.
    pub fn archive(&self) -> PathBuf {
        self.root.join("wal-archive")
    }
    /// The `pg_basebackup` tarballs, one directory each with its `backup.json`.
    pub fn backups(&self) -> PathBuf {
        self.root.join("base-backups")
    }
    /// Where the server's Unix socket is, when the path is short enough (see `server::socket_dir_for`).
    pub fn run(&self) -> PathBuf {
        self.root.join("run")
    }
    /// The master password file (mode 0600; never in Terraform state).
    pub fn secret(&self) -> PathBuf {
        self.root.join("master-password")
    }
    /// `metadata.json`, whose presence proves the directory is a database the provider made.
    pub fn metadata(&self) -> PathBuf {
        self.root.join("metadata.json")
    }
    /// The server's log.
    pub fn log(&self) -> PathBuf {
        self.root.join("log").join("server.log")
    }
    /// The CA certificate clients verify the server's TLS certificate with.
    pub fn ca_cert(&self) -> PathBuf {
        self.root.join("server-ca.crt")
    }
    /// Where a destroy builds its final backup before moving it, complete, into `final-backups/`.
    pub fn final_staging(&self) -> PathBuf {
        self.root.join("final-backup")
    }
    /// The database name (the directory's name).
    pub fn name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    }
    /// A sibling directory name for a database being created or removed (`.creating-NAME-PID`): the rename into
    /// or out of place is atomic, so `databases/NAME` is either absent or has its metadata.
    pub fn sibling(&self, what: &str) -> PathBuf {
        let parent = self.root.parent().map(PathBuf::from).unwrap_or_default();
        parent.join(format!(".{what}-{}-{}", self.name(), std::process::id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `metadata.json` as the provider writes it: its full spec, of which [`SpecSummary`] reads four fields.
    const PROVIDER_METADATA: &str = r#"{
      "format": 1, "id": "orders",
      "spec": {"name": "orders", "engine": "postgres", "engine_version": null, "tier": "tier-3",
               "instance_class": "local", "db_name": "orders", "master_username": "orders_admin",
               "multi_az": false, "backup_retention_days": 7, "tags": {"owner": "x"}},
      "port": 54321, "socket_dir": "/d/databases/orders/run", "engine_version_actual": "15.13",
      "bindir": "/usr/lib/postgresql/15/bin", "created_at": "2026-12-01T00:00:00Z",
      "phase": "ready", "admin_role": "dbplatform_admin"
    }"#;

    #[test]
    fn a_reader_outside_the_provider_reads_what_it_needs_of_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::of(dir.path(), "orders");
        assert!(
            layout.read_metadata::<SpecSummary>().unwrap().is_none(),
            "no file yet"
        );
        std::fs::create_dir_all(&layout.root).unwrap();
        std::fs::write(layout.metadata(), PROVIDER_METADATA).unwrap();
        let meta: Metadata = layout.read_metadata().unwrap().unwrap();
        assert_eq!(meta.spec.master_username, "orders_admin");
        assert_eq!(meta.spec.db_name, "orders");
        assert_eq!(meta.spec.backup_retention_days, 7);
        assert_eq!(meta.phase, Phase::Ready);
        assert_eq!(meta.step, "", "fields older files lack take their defaults");
        assert_eq!(layout.root, dir.path().join("databases/orders"));
    }

    #[test]
    fn an_unreadable_metadata_file_names_itself_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::of(dir.path(), "orders");
        std::fs::create_dir_all(&layout.root).unwrap();
        std::fs::write(layout.metadata(), "{").unwrap();
        let e = layout
            .read_metadata::<SpecSummary>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("metadata.json is not valid") && e.contains("restore it"),
            "{e}"
        );
    }
}
