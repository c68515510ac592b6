//! Database backends (AWS RDS, local PostgreSQL) behind one trait.
//!
//! Resources (`dbplatform_database`, `dbplatform_restore_test`, the data source) speak only
//! [`DatabaseBackend`]; everything specific to where a database runs (initdb and pg_ctl on this machine, or
//! the RDS API) lives in one implementation per backend. The trait is shaped after what both can do:
//! an instance with a name, settings that may need a restart, backups, and a restore to a *scratch* copy
//! (a base backup plus WAL locally, a snapshot or point-in-time restore to a temporary instance on RDS).

pub mod aws;
pub mod local;

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// What went wrong in a backend, phrased for the person running Terraform (what, where, how to fix).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("database {name:?} does not exist on the {backend} backend")]
    NotFound { backend: &'static str, name: String },
    #[error("database {name:?} already exists at {location}; import it with `terraform import ADDRESS {name}` or choose another name")]
    AlreadyExists { name: String, location: String },
    #[error("{tool} was not found ({searched}); {hint}")]
    MissingTool {
        tool: String,
        searched: String,
        hint: String,
    },
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {name:?} has deletion_protection = true, so it was not destroyed; set deletion_protection = false, run terraform apply, then destroy again")]
    DeletionProtected { name: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("SQL on database {name:?} failed: {message}")]
    Sql { name: String, message: String },
    #[error("{0}")]
    Restore(String),
    #[error("metadata file {path} is not valid: {message}; restore it from the final backup or remove the directory")]
    Metadata { path: PathBuf, message: String },
}

impl BackendError {
    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> BackendError {
        let path = path.into();
        move |source| BackendError::Io {
            action,
            path,
            source,
        }
    }
}

/// Desired settings of a database after tier expansion: what the resource asks a backend to make real.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatabaseSpec {
    pub name: String,
    /// "postgres" (the local backend's only engine) or "mysql".
    pub engine: String,
    /// Requested major version ("15"); `None` means the backend's default.
    pub engine_version: Option<String>,
    pub tier: String,
    pub instance_class: String,
    pub db_name: String,
    pub master_username: String,
    pub multi_az: bool,
    pub backup_retention_days: u32,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
    /// Whether clients must use TLS, and the lowest protocol version accepted ("1.2").
    pub tls_required: bool,
    pub min_tls_version: String,
    /// Engine parameters (PostgreSQL settings such as `max_connections`).
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// Lifecycle state of a database as the backend sees it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatabaseStatus {
    Available,
    Stopped,
    Creating,
    Modifying,
    Failed,
}

impl DatabaseStatus {
    /// The text shown in the `status` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseStatus::Available => "available",
            DatabaseStatus::Stopped => "stopped",
            DatabaseStatus::Creating => "creating",
            DatabaseStatus::Modifying => "modifying",
            DatabaseStatus::Failed => "failed",
        }
    }
}

/// A database as it exists: its settings plus what only the backend knows (endpoint, status, paths).
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseInfo {
    pub id: String,
    pub spec: DatabaseSpec,
    pub endpoint: String,
    pub port: u16,
    pub status: DatabaseStatus,
    /// Full engine version running ("15.13").
    pub engine_version_actual: String,
    /// libpq URI without a password.
    pub connection_string: String,
    /// Where the master password lives: a 0600 file (local) or a Secrets Manager ARN (aws).
    pub master_user_secret: String,
    /// The database's directory on this machine (local backend only).
    pub data_dir: Option<PathBuf>,
    pub created_at: DateTime<Utc>,
}

/// What an in-place update did.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateOutcome {
    pub info: DatabaseInfo,
    /// The server was restarted to apply a setting.
    pub restarted: bool,
    /// The server was stopped and has been started again.
    pub started: bool,
}

/// How to delete.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteOptions {
    /// Skip the final backup (data is gone for good).
    pub skip_final_backup: bool,
    /// Name of the final backup; a timestamped name is used when `None`.
    pub final_backup_name: Option<String>,
}

/// What a delete left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteOutcome {
    pub final_backup: Option<BackupInfo>,
}

/// One full (base) backup.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackupInfo {
    pub id: String,
    /// Directory (local) or snapshot ARN (aws).
    pub location: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// First WAL file the backup needs (local backend), for archive cleanup.
    #[serde(default)]
    pub start_wal: Option<String>,
}

/// Which moment a restore recovers to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RestoreTarget {
    /// As recent as the backups and archived WAL allow.
    Latest,
    /// A point in time (needs continuous archiving / PITR).
    PointInTime(DateTime<Utc>),
}

/// How to reach a PostgreSQL server with the master credentials (never stored in Terraform state).
#[derive(Clone, PartialEq)]
pub struct ConnectionInfo {
    /// A hostname/IP, or a Unix socket directory (starting with '/').
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub dbname: String,
}

impl std::fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("dbname", &self.dbname)
            .finish()
    }
}

impl ConnectionInfo {
    /// Opens a tokio-postgres connection (no TLS: the local backend connects over its Unix socket) and drives it.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, BackendError> {
        let mut cfg = tokio_postgres::Config::new();
        if self.host.starts_with('/') {
            cfg.host_path(&self.host);
        } else {
            cfg.host(&self.host);
        }
        cfg.port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.dbname)
            .application_name("dbplatform")
            .connect_timeout(std::time::Duration::from_secs(10));
        let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.map_err(|e| {
            let why = e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string());
            BackendError::Sql {
                name: self.dbname.clone(),
                message: format!(
                    "cannot connect to {}:{} as {}: {why}",
                    self.host, self.port, self.user
                ),
            }
        })?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("postgres connection closed: {e}");
            }
        });
        Ok(client)
    }
}

/// A temporary copy of a database made from its backups, for restore tests.
#[derive(Debug, Clone)]
pub struct RestoredInstance {
    /// Identifier of the scratch copy (directory name locally, instance id on RDS).
    pub id: String,
    pub connection: ConnectionInfo,
    /// The moment whose data the copy holds.
    pub recovery_point: DateTime<Utc>,
    /// The base backup (or snapshot) the copy started from.
    pub base_backup: BackupInfo,
    /// Where the scratch copy lives (local directory), for cleanup and messages.
    pub location: String,
}

/// Result of an engine-level integrity check (pg_amcheck) of a restored copy.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrityReport {
    /// Name of the check that ran, or why none did.
    pub tool: String,
    pub ran: bool,
    pub ok: bool,
    pub output: String,
}

/// A place where databases run. One implementation per backend; resources hold `Arc<dyn DatabaseBackend>`.
#[async_trait]
pub trait DatabaseBackend: Send + Sync {
    /// "local" or "aws", as in the policy input's `backend`.
    fn kind(&self) -> &'static str;

    /// Checks a spec against what this backend can run (engine, versions, multi-AZ ...), without side effects.
    fn validate_spec(&self, spec: &DatabaseSpec) -> Result<(), BackendError>;

    /// Which of the differences between `current` and `desired` need a server restart (plan-time warning).
    fn restart_required(&self, current: &DatabaseSpec, desired: &DatabaseSpec) -> Vec<String>;

    /// Creates and starts a database; fails if one with that name exists.
    async fn create(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, BackendError>;

    /// The database as it is now, `None` when it no longer exists.
    async fn read(&self, name: &str) -> Result<Option<DatabaseInfo>, BackendError>;

    /// Applies `desired` in place (restarting when needed) and starts a stopped database.
    async fn update(
        &self,
        name: &str,
        desired: &DatabaseSpec,
    ) -> Result<UpdateOutcome, BackendError>;

    /// Deletes a database, refusing when deletion protection is on, taking a final backup unless skipped.
    async fn delete(&self, name: &str, opts: &DeleteOptions)
        -> Result<DeleteOutcome, BackendError>;

    /// Starts a stopped database.
    async fn start(&self, name: &str) -> Result<DatabaseInfo, BackendError>;

    /// Stops a running database (maintenance, tests, demo teardown).
    async fn stop(&self, name: &str) -> Result<(), BackendError>;

    /// The RDS backend's full interface (RDS-only attributes, timeouts) when this is the aws backend.
    fn as_aws(&self) -> Option<&aws::AwsBackend> {
        None
    }

    /// Adopts an existing database by name (terraform import).
    async fn import(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        self.read(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: self.kind(),
                name: name.to_string(),
            })
    }

    /// Takes a full backup now and prunes backups older than the retention period.
    async fn backup(&self, name: &str) -> Result<BackupInfo, BackendError>;

    /// Backups available for restores, oldest first.
    async fn list_backups(&self, name: &str) -> Result<Vec<BackupInfo>, BackendError>;

    /// Master credentials for the running database (used by restore tests to compare with the copy).
    async fn connection(&self, name: &str) -> Result<ConnectionInfo, BackendError>;

    /// Restores the database's backups into a new scratch copy and starts it.
    async fn restore(
        &self,
        name: &str,
        target: RestoreTarget,
    ) -> Result<RestoredInstance, BackendError>;

    /// Runs the engine's integrity checker on a restored copy.
    async fn check_integrity(
        &self,
        restored: &RestoredInstance,
    ) -> Result<IntegrityReport, BackendError>;

    /// Stops and removes a scratch copy.
    async fn discard_restored(&self, restored: &RestoredInstance) -> Result<(), BackendError>;
}
