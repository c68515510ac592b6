//! Where the audit log lives and how it is written: explicit settings first, then environment, then defaults.

use std::path::{Path, PathBuf};

use super::error::AuditError;

/// Environment variable naming the JSONL log file.
pub const ENV_LOG: &str = "DBPOLICY_AUDIT_LOG";
/// Environment variable with a PostgreSQL connection string for the second sink.
pub const ENV_PG: &str = "DBPOLICY_AUDIT_PG";
/// Environment variable naming the Ed25519 private key file used to sign records.
pub const ENV_KEY: &str = "DBPOLICY_AUDIT_KEY";
/// Environment variable with the rotation size in bytes.
pub const ENV_MAX_BYTES: &str = "DBPOLICY_AUDIT_MAX_BYTES";
/// Default rotation size: 64 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Settings of the audit sinks, as the provider configuration (`policy.audit_log`) or the CLI give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// The active JSONL file; rotated files sit beside it as `FILE.000001`, `FILE.000002`, ...
    pub path: PathBuf,
    /// Rotate when the active file has reached this size (0 = never).
    pub max_bytes: u64,
    /// Private key that signs every record, if any.
    pub signing_key: Option<PathBuf>,
    /// PostgreSQL connection string of the optional second sink.
    pub pg: Option<String>,
}

impl AuditConfig {
    /// Configuration for an explicit log path, nothing else set.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        AuditConfig {
            path: path.into(),
            max_bytes: DEFAULT_MAX_BYTES,
            signing_key: None,
            pg: None,
        }
    }

    /// Resolves every setting: `explicit_path` (provider `policy.audit_log` or a CLI argument), else
    /// `DBPOLICY_AUDIT_LOG`, else `$XDG_DATA_HOME/dbplatform/audit/decisions.jsonl` (`~/.local/share/...`).
    /// `DBPOLICY_AUDIT_KEY`, `DBPOLICY_AUDIT_PG` and `DBPOLICY_AUDIT_MAX_BYTES` fill the rest.
    pub fn resolve(explicit_path: Option<&Path>) -> Result<Self, AuditError> {
        let path = match explicit_path {
            Some(p) => p.to_path_buf(),
            None => default_log_path()?,
        };
        let max_bytes = match std::env::var(ENV_MAX_BYTES) {
            Ok(s) if !s.trim().is_empty() => s.trim().parse::<u64>().map_err(|_| {
                AuditError::Config(format!(
                    "{ENV_MAX_BYTES}={s:?} is not a number of bytes (e.g. 67108864)"
                ))
            })?,
            _ => DEFAULT_MAX_BYTES,
        };
        let signing_key = non_empty_env(ENV_KEY).map(PathBuf::from);
        let pg = non_empty_env(ENV_PG);
        Ok(AuditConfig {
            path,
            max_bytes,
            signing_key,
            pg,
        })
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty())
}

/// The log path when nothing is configured: `DBPOLICY_AUDIT_LOG`, else the XDG data directory.
pub fn default_log_path() -> Result<PathBuf, AuditError> {
    if let Some(p) = non_empty_env(ENV_LOG) {
        return Ok(PathBuf::from(p));
    }
    if let Some(x) = non_empty_env("XDG_DATA_HOME") {
        return Ok(PathBuf::from(x).join("dbplatform/audit/decisions.jsonl"));
    }
    match dirs::home_dir() {
        Some(h) => Ok(h.join(".local/share/dbplatform/audit/decisions.jsonl")),
        None => Err(AuditError::Config(format!(
            "no audit log path: set {ENV_LOG} or the provider's policy.audit_log (no home directory found)"
        ))),
    }
}
