//! dbplatform's local PostgreSQL machinery, shared by the provider's `local` backend and by `dbpolicy migration
//! dry-run --scratch-copy`, so that `policy` never depends on the provider and both read one database directory
//! the same way.
//!
//! Modules, one job each: [`pg`] (finding the binaries, running commands as the server's OS user),
//! [`identity`] (per-database OS users, the admin role), [`data_dir`] (where databases live, the default data
//! directory), [`layout`] (one database's files and its `metadata.json`), [`cluster`] (initdb), [`server`]
//! (pg_ctl, ports, sockets), [`backups`] (taking base backups, their records), [`restore`] (scratch copies from
//! a base backup plus archived WAL), and [`error`].

pub mod backups;
pub mod cluster;
pub mod data_dir;
pub mod error;
pub mod identity;
pub mod layout;
pub mod pg;
pub mod restore;
pub mod server;

pub use backups::BackupInfo;
pub use error::LocalPgError;
