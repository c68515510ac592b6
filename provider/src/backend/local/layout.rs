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
}
