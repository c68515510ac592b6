//! The `local` backend: real PostgreSQL clusters on this machine, under the provider's `local.data_dir`.
//!
//! Layout of one database (`<data_dir>/databases/<name>/`):
//! - `metadata.json`    settings, port, tags, phase (creating/ready/deleting) (what RDS would keep in its API)
//! - `master-password`  the master password, mode 0600 (never in Terraform state)
//! - `pgdata/`          the cluster (initdb with data checksums), owned by the database's own server OS user
//! - `wal-archive/`     continuous WAL archive (archive_command copies each finished segment here)
//! - `base-backups/`    `pg_basebackup` tarballs, pruned after `backup_retention_days`
//! - `run/`             the Unix socket the provider connects through; `log/server.log` the server's log
//!
//! Restores go to `<data_dir>/restores/<name>-<time>/` (dbpolicy's dry-run copies to `dryrun-<name>-<time>/`), final backups on destroy to `<data_dir>/final-backups/`.

//!
//! Files: [`backend`] (the handle and records), [`layout`] (the crate's layout with this provider's spec in its
//! metadata), [`server`] (pg_ctl as backend methods, configuration files),
//! [`conf`] (configuration rendering), [`validate`], [`create`], [`update`], [`backup`] (base backups and WAL),
//! [`restore`] (restore tests: recovery targets, integrity checks), [`lifecycle`] (the `DatabaseBackend`
//! implementation), [`support`], [`recover`] (leftovers of killed providers, checked import), [`delete`]
//! (resumable destroy, final-backup retention).
//!
//! The machinery dbpolicy shares (binaries and OS users: [`pg`], [`identity`]; paths, initdb, server control,
//! taking and listing base backups, scratch restores) is the `localpg` crate; `pg` and `identity` are re-exported here under their
//! old paths.

pub mod backend;
pub mod backup;
pub mod conf;
pub mod create;
pub mod delete;
mod layout;
pub mod lifecycle;
pub mod recover;
pub mod replica;
pub mod restore;
pub mod server;
pub mod support;
pub mod update;
pub mod validate;

pub use localpg::{identity, pg};

#[cfg(test)]
mod tests;

pub use backend::{
    FinalBackupRetention, LocalBackend, DEFAULT_BASE_BACKUP_WAL_PERCENT, DEFAULT_FINAL_BACKUP_KEEP,
    DEFAULT_FINAL_BACKUP_MAX_AGE_DAYS,
};
pub use conf::{connection_string, sizing};
pub use support::parameters;
pub use validate::validate_spec;
