//! One database's directory on disk: where its cluster, WAL archive, backups, socket, password and log live
//! ([`Layout`]), and the metadata file that stands in for the RDS API ([`Metadata`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::DatabaseSpec;

/// The backend name in errors and `kind()`.
pub(super) const BACKEND: &str = "local";

/// What the backend keeps about a database beside its data (the local stand-in for the RDS API).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Metadata {
    pub(super) format: u32,
    pub(super) id: String,
    pub(super) spec: DatabaseSpec,
    pub(super) port: u16,
    pub(super) socket_dir: PathBuf,
    pub(super) engine_version_actual: String,
    pub(super) bindir: PathBuf,
    pub(super) created_at: DateTime<Utc>,
    /// Where the database is in its life: a create or destroy that was interrupted leaves `creating` or
    /// `deleting` here, which the next apply resumes or cleans up (absent in files of older versions: ready).
    #[serde(default)]
    pub(super) phase: Phase,
    /// The last create step whose effect is durable (see `create.rs`), for messages about an interrupted create.
    #[serde(default)]
    pub(super) step: String,
    /// The provider process creating or destroying it (pid and start time), so a live one is never disturbed.
    #[serde(default)]
    pub(super) owner_process: Option<(u32, u64)>,
    /// The administrative role the provider uses over the Unix socket; `None` in databases made by versions
    /// where the master user was the superuser.
    #[serde(default)]
    pub(super) admin_role: Option<String>,
    /// The OS user the server runs as (when the provider is root).
    #[serde(default)]
    pub(super) os_user: Option<String>,
    /// The final backup an interrupted destroy was taking, so a re-run keeps one, not two.
    #[serde(default)]
    pub(super) final_backup_id: Option<String>,
}

/// The life phase recorded in `metadata.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Phase {
    /// Being created: not a database yet; never imported, removed and made again by the next create.
    Creating,
    /// Complete and usable.
    #[default]
    Ready,
    /// Being destroyed: the next destroy finishes it.
    Deleting,
}

/// Paths of one database's directory.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub(super) root: PathBuf,
}

impl Layout {
    pub(super) fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }
    pub(super) fn archive(&self) -> PathBuf {
        self.root.join("wal-archive")
    }
    pub(super) fn backups(&self) -> PathBuf {
        self.root.join("base-backups")
    }
    pub(super) fn run(&self) -> PathBuf {
        self.root.join("run")
    }
    pub(super) fn secret(&self) -> PathBuf {
        self.root.join("master-password")
    }
    pub(super) fn metadata(&self) -> PathBuf {
        self.root.join("metadata.json")
    }
    pub(super) fn log(&self) -> PathBuf {
        self.root.join("log").join("server.log")
    }
    pub(super) fn ca_cert(&self) -> PathBuf {
        self.root.join("server-ca.crt")
    }
    /// Where a destroy builds its final backup before moving it, complete, into `final-backups/`.
    pub(super) fn final_staging(&self) -> PathBuf {
        self.root.join("final-backup")
    }
    /// The database name (the directory's name).
    pub(super) fn name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    }
    /// A sibling directory name for a database being created or removed (`.creating-NAME-PID`): the rename into
    /// or out of place is atomic, so `databases/NAME` is either absent or has its metadata.
    pub(super) fn sibling(&self, what: &str) -> PathBuf {
        let parent = self.root.parent().map(PathBuf::from).unwrap_or_default();
        parent.join(format!(".{what}-{}-{}", self.name(), std::process::id()))
    }
}
