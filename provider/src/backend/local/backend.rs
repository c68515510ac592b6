//! The local backend's handle: where its databases live, the server user and binaries it found, and reading and
//! writing one database's records (metadata, password, connection details).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::conf::connection_string;
use super::identity;
use super::layout::{Layout, Metadata, BACKEND};
use super::pg::{OsUser, PgBinaries, PgEnv};
use super::support::major_of;
use crate::backend::{BackendError, ConnectionInfo, DatabaseInfo};
use chrono::{DateTime, Utc};

/// The local PostgreSQL backend. Cheap to construct; all state is on disk under `data_dir`.
#[derive(Debug)]
pub struct LocalBackend {
    pub(super) data_dir: PathBuf,
    pub(super) binaries: Mutex<HashMap<Option<String>, PgBinaries>>,
    /// Where to look for PostgreSQL and which OS user runs it.
    pub(super) pg_env: PgEnv,
    /// How many final backups of a database are kept, and for how long.
    pub(super) final_retention: FinalBackupRetention,
    /// See [`LocalBackend::with_base_backup_wal_share`] (backup.rs).
    pub(super) base_backup_wal_share: f64,
}

/// Final backups (taken on destroy) kept per database: at most `keep`, none older than `max_age_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalBackupRetention {
    /// Most final backups kept per database name (newest first); at least 1.
    pub keep: u32,
    /// Final backups older than this many days are removed.
    pub max_age_days: u32,
}

/// Default of `local.final_backup_retention_count`.
pub const DEFAULT_FINAL_BACKUP_KEEP: u32 = 3;
/// A fresh base backup is also taken once the WAL archived since the newest one exceeds this percentage of the
/// database's data files: a restore replays all of that WAL, and past about half the data (the default, 50), restoring a new base
/// backup is faster than replaying (a database loaded after create otherwise replays every byte since create).
pub const DEFAULT_BASE_BACKUP_WAL_PERCENT: u32 = 50;
/// Default of `local.final_backup_retention_days`.
pub const DEFAULT_FINAL_BACKUP_MAX_AGE_DAYS: u32 = 30;

impl Default for FinalBackupRetention {
    fn default() -> Self {
        Self {
            keep: DEFAULT_FINAL_BACKUP_KEEP,
            max_age_days: DEFAULT_FINAL_BACKUP_MAX_AGE_DAYS,
        }
    }
}

impl LocalBackend {
    /// A backend keeping its databases under `data_dir` (created on first use).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            binaries: Mutex::new(HashMap::new()),
            pg_env: PgEnv::default(),
            final_retention: FinalBackupRetention::default(),
            base_backup_wal_share: f64::from(DEFAULT_BASE_BACKUP_WAL_PERCENT) / 100.0,
        }
    }

    /// Keeps final backups as `retention` says (the provider passes its `local` block's settings).
    pub fn with_final_backup_retention(mut self, retention: FinalBackupRetention) -> Self {
        self.final_retention = retention;
        self
    }

    /// Searches for PostgreSQL and picks the server user as `env` says (the provider passes what
    /// `crate::config::ConfigEnv` read from its environment).
    pub fn with_pg_env(mut self, env: PgEnv) -> Self {
        self.pg_env = env;
        self
    }

    /// The directory databases live under.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where final backups taken on destroy are kept.
    pub fn final_backups_dir(&self) -> PathBuf {
        self.data_dir.join("final-backups")
    }

    /// Where scratch restores are made.
    pub fn restores_dir(&self) -> PathBuf {
        localpg::data_dir::restores_dir(&self.data_dir)
    }

    pub(super) fn layout(&self, name: &str) -> Layout {
        Layout::of(&self.data_dir, name)
    }

    /// The OS user database `name`'s server runs as (created when missing; `None` when not root).
    pub(super) fn server_user(&self, name: &str) -> Result<Option<OsUser>, BackendError> {
        Ok(identity::server_user_for(
            &self.pg_env,
            &self.data_dir,
            name,
        )?)
    }

    pub(super) fn bins(&self, major: Option<&str>) -> Result<PgBinaries, BackendError> {
        let key = major.map(str::to_string);
        if let Ok(g) = self.binaries.lock() {
            if let Some(b) = g.get(&key) {
                return Ok(b.clone());
            }
        }
        let b = PgBinaries::locate(major, &self.pg_env)?;
        if let Ok(mut g) = self.binaries.lock() {
            g.insert(key, b.clone());
        }
        Ok(b)
    }

    pub(super) fn bins_for(&self, meta: &Metadata) -> Result<PgBinaries, BackendError> {
        self.bins(
            meta.spec
                .engine_version
                .as_deref()
                .or(Some(major_of(&meta.engine_version_actual))),
        )
    }

    pub(super) fn load(&self, name: &str) -> Result<Option<(Layout, Metadata)>, BackendError> {
        let layout = self.layout(name);
        Ok(layout.read_metadata()?.map(|meta| (layout, meta)))
    }

    pub(super) fn load_existing(&self, name: &str) -> Result<(Layout, Metadata), BackendError> {
        self.load(name)?.ok_or_else(|| BackendError::NotFound {
            backend: BACKEND,
            name: name.to_string(),
        })
    }

    pub(super) fn save(&self, layout: &Layout, meta: &Metadata) -> Result<(), BackendError> {
        let text = serde_json::to_string_pretty(meta).map_err(|e| BackendError::Metadata {
            path: layout.metadata(),
            message: e.to_string(),
        })?;
        let tmp = layout.root.join("metadata.json.tmp");
        super::support::write_private(&tmp, &text)?;
        std::fs::rename(&tmp, layout.metadata())
            .map_err(BackendError::io("replacing", layout.metadata()))
    }

    pub(super) fn password(&self, layout: &Layout) -> Result<String, BackendError> {
        Ok(layout.password()?)
    }

    pub(super) fn conn(
        &self,
        layout: &Layout,
        meta: &Metadata,
        dbname: &str,
    ) -> Result<ConnectionInfo, BackendError> {
        Ok(ConnectionInfo {
            host: meta.socket_dir.display().to_string(),
            port: meta.port,
            user: meta.spec.master_username.clone(),
            password: self.password(layout)?,
            dbname: dbname.to_string(),
        })
    }

    /// How the provider itself connects for administration: its own role by OS user over the Unix socket (no
    /// password), or the master user for databases made before the admin role existed.
    pub(super) fn admin_conn(
        &self,
        layout: &Layout,
        meta: &Metadata,
        dbname: &str,
    ) -> Result<ConnectionInfo, BackendError> {
        match &meta.admin_role {
            Some(role) => Ok(ConnectionInfo {
                host: meta.socket_dir.display().to_string(),
                port: meta.port,
                user: role.clone(),
                password: String::new(),
                dbname: dbname.to_string(),
            }),
            None => self.conn(layout, meta, dbname),
        }
    }

    pub(super) async fn info(
        &self,
        layout: &Layout,
        meta: &Metadata,
    ) -> Result<DatabaseInfo, BackendError> {
        let bins = self.bins_for(meta)?;
        let status = self.is_running(&bins, &layout.pgdata()).await?;
        Ok(DatabaseInfo {
            id: meta.id.clone(),
            spec: meta.spec.clone(),
            endpoint: "127.0.0.1".into(),
            port: meta.port,
            status,
            engine_version_actual: meta.engine_version_actual.clone(),
            connection_string: connection_string(&meta.spec, meta.port),
            master_user_secret: layout.secret().display().to_string(),
            data_dir: Some(layout.root.clone()),
            // The password file is only ever written whole (create, rotation), so its age is the password's.
            master_password_rotated_at: std::fs::metadata(layout.secret())
                .and_then(|m| m.modified())
                .ok()
                .map(DateTime::<Utc>::from),
            created_at: meta.created_at,
            details: None,
        })
    }
}
