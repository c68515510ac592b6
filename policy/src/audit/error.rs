//! Errors of the audit log: each says what went wrong, where (file, line or byte offset) and what to do.

use std::path::PathBuf;

/// Everything that can go wrong while writing, reading or verifying the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file could not be read, written, locked or synced.
    #[error("audit log {path}: {action} failed: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// The last line of the log has no newline: a writer crashed mid-append (or the file was cut).
    #[error(
        "audit log {path} ends with a torn (incomplete) line of {bytes} bytes at byte offset {offset}; \
         refusing to append so that nothing is silently dropped or overwritten. \
         Run `dbpolicy audit verify {path}` to inspect it and `dbpolicy audit repair {path}` to move the torn \
         tail to a .torn file and record the repair"
    )]
    TornTail {
        path: PathBuf,
        offset: u64,
        bytes: u64,
    },

    /// The last complete record cannot be parsed, so the chain cannot be continued safely.
    #[error(
        "audit log {path}: the last record (at byte offset {offset}) is not a valid audit record ({detail}); \
         refusing to append. Run `dbpolicy audit verify {path}` and hand the log to whoever owns it"
    )]
    BadTail {
        path: PathBuf,
        offset: u64,
        detail: String,
    },

    /// A key file is missing, unreadable or not an Ed25519 key in PEM.
    #[error("key file {path}: {detail}")]
    Key { path: PathBuf, detail: String },

    /// A record could not be serialized or canonicalized.
    #[error("audit record could not be encoded: {0}")]
    Encode(String),

    /// A decision document lacks a field the record needs.
    #[error("decision document: {0}")]
    Decision(String),

    /// The PostgreSQL sink refused or could not be reached.
    #[error("PostgreSQL audit sink: {0}")]
    Pg(String),

    /// Invalid configuration (paths, sizes, environment variables).
    #[error("audit configuration: {0}")]
    Config(String),

    /// `repair` was asked to fix something it must not touch.
    #[error("audit repair of {path}: {detail}")]
    Repair { path: PathBuf, detail: String },
}

impl AuditError {
    /// Wraps an I/O error with the file and the action that failed.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        AuditError::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
