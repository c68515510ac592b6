//! The values resources and backends exchange: the desired [`DatabaseSpec`], the observed [`DatabaseInfo`], and
//! what updates, deletes, backups and restores take and return.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::error::BackendError;
use super::instance::{InstanceDetails, InstanceSettings, OpTimeouts};

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
    /// Managed-instance settings (storage, windows, network ...) on backends that have them (see
    /// [`Capabilities::instance_settings`]); `None` lets the backend choose them from the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<InstanceSettings>,
    /// How long create, update and delete may wait; `None` entries use the backend's defaults.
    #[serde(skip)]
    pub timeouts: OpTimeouts,
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
    /// When the master password was last set, when the backend can tell (local: its file's modification time).
    pub master_password_rotated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// What a managed service reports beyond the neutral view (ARN, observed settings, pending changes).
    pub details: Option<InstanceDetails>,
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
    /// How long to wait for the deletion; `None` uses the backend's default.
    pub timeout: Option<std::time::Duration>,
}

/// What a delete left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteOutcome {
    pub final_backup: Option<BackupInfo>,
}

/// One full (base) backup. Defined beside the local base-backup records (`backup.json` holds one) in the
/// `localpg` crate, which dbpolicy also reads; every backend describes its backups with it.
pub use localpg::BackupInfo;

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

/// A create that did not finish: the error, and what may exist. When `id` is set the database exists or may
/// exist (the backend accepted the request, or its outcome is unknown): the resource saves state with that id so
/// Terraform marks it tainted and the next refresh settles it; never drop it. `instance` is its description when
/// one could be read.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct CreateError {
    pub id: Option<String>,
    pub instance: Option<Box<DatabaseInfo>>,
    pub error: BackendError,
}

impl From<BackendError> for CreateError {
    fn from(error: BackendError) -> Self {
        Self {
            id: None,
            instance: None,
            error,
        }
    }
}
