//! The local backend's handle: where its databases live, the server user and binaries it found, and reading and
//! writing one database's records (metadata, password, connection details).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::conf::connection_string;
use super::layout::{Layout, Metadata, BACKEND};
use super::pg::{self, OsUser, PgBinaries, PgEnv};
use super::support::major_of;
use crate::backend::{BackendError, ConnectionInfo, DatabaseInfo};

/// The local PostgreSQL backend. Cheap to construct; all state is on disk under `data_dir`.
#[derive(Debug)]
pub struct LocalBackend {
    pub(super) data_dir: PathBuf,
    pub(super) user: Mutex<Option<Option<OsUser>>>,
    pub(super) binaries: Mutex<HashMap<Option<String>, PgBinaries>>,
    /// Where to look for PostgreSQL and which OS user runs it.
    pub(super) pg_env: PgEnv,
    /// See [`LocalBackend::with_base_backup_wal_share`] (backup.rs).
    pub(super) base_backup_wal_share: f64,
}

impl LocalBackend {
    /// A backend keeping its databases under `data_dir` (created on first use).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            user: Mutex::new(None),
            binaries: Mutex::new(HashMap::new()),
            pg_env: PgEnv::default(),
            base_backup_wal_share: super::backup::DEFAULT_BASE_BACKUP_WAL_SHARE,
        }
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
        self.data_dir.join("restores")
    }

    pub(super) fn layout(&self, name: &str) -> Layout {
        Layout {
            root: self.data_dir.join("databases").join(name),
        }
    }

    pub(super) fn os_user(&self) -> Result<Option<OsUser>, BackendError> {
        let mut guard = self
            .user
            .lock()
            .map_err(|_| BackendError::Unsupported("internal lock poisoned".into()))?;
        if let Some(u) = guard.as_ref() {
            return Ok(u.clone());
        }
        let u = pg::server_user(&self.pg_env)?;
        *guard = Some(u.clone());
        Ok(u)
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
        let path = layout.metadata();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BackendError::io("reading", &path)(e)),
        };
        let meta: Metadata = serde_json::from_str(&text).map_err(|e| BackendError::Metadata {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Some((layout, meta)))
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
        std::fs::write(&tmp, text).map_err(BackendError::io("writing", &tmp))?;
        std::fs::rename(&tmp, layout.metadata())
            .map_err(BackendError::io("replacing", layout.metadata()))
    }

    pub(super) fn password(&self, layout: &Layout) -> Result<String, BackendError> {
        std::fs::read_to_string(layout.secret())
            .map(|s| s.trim().to_string())
            .map_err(BackendError::io(
                "reading the master password file",
                layout.secret(),
            ))
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
            created_at: meta.created_at,
            details: None,
        })
    }
}
