//! Schema-change safety: SQL migrations parsed with PostgreSQL's own grammar into `input.migration` documents,
//! checked by the `DBP-MIG-*` rules through the same gate as plans (exceptions, overrides, reports, audit), and
//! dry-run against a real database to measure the locks, rewrites and durations the rules can also judge.

pub mod dry_run;
pub mod files;
pub mod header;
pub mod input;
mod interrupt;
pub mod lock_watch;
pub mod locks;
pub mod model;
mod nodes;
pub mod parse;
pub mod scratch;

#[cfg(test)]
mod tests;

pub use input::to_input;
pub use model::{Measurement, Migration, Statement, MIGRATION_SCHEMA};
pub use parse::{parse_migration, ParseOptions};

/// Why a migration could not be read, parsed or run.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("{path}: cannot read migration: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: no .sql files in this directory; pass .sql files or folders that hold them")]
    NoSqlFiles { path: String },
    #[error("{file}:{line}: not valid PostgreSQL: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: {message}")]
    Refused {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: the statement failed on the database: {message}")]
    Statement {
        file: String,
        line: usize,
        message: String,
    },
    #[error("database: {0}")]
    Database(String),
    /// The scratch copy (`--scratch-copy`) could not be restored, started or removed.
    #[error("--scratch-copy {name}: {message}")]
    ScratchCopy { name: String, message: String },
    /// The local machinery's own message, which already names the flag (an unknown `--scratch-copy` NAME).
    #[error(transparent)]
    Local(#[from] localpg::LocalPgError),
}

/// The JSON Schema of the migration document (`input.migration`).
pub fn migration_schema() -> schemars::Schema {
    schemars::schema_for!(Migration)
}
