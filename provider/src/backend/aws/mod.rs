//! The AWS RDS backend: `dbplatform_database` as an RDS DB instance.
//!
//! One `aws_sdk_rds::Client` per provider configuration (built by [`AwsBackend::new`], cached in the provider
//! state by `crate::config`); the SDK's standard retry mode retries throttling, 5xx and broken connections per
//! call, and [`waiter`] polls for state changes with its own backoff and deadline. The master password is always RDS-managed (Secrets Manager), so no
//! password ever reaches Terraform state. Every instance carries a management tag; a create that meets an
//! instance of the same name with that tag adopts it (a retried create whose first attempt went through), and
//! a create whose wait fails still reports the instance ([`CreateFailure`]) so it is recorded, never orphaned.
//!
//! Files: [`backup_replication`] (cross-region copies of automated backups), [`client`] (client, settings, waits), [`instance`] (observed instance, failed create), [`observe`]
//! (describe and wait), [`create`], [`modify`], [`delete`] (and snapshots), [`lifecycle`] (the
//! `DatabaseBackend` implementation), [`spec`] (request validation, tags), [`parameters`] (parameter rules),
//! [`parameter_group`] (parameter group API), [`waiter`], [`error`].

pub mod backup_replication;
pub mod client;
pub mod create;
pub mod delete;
pub mod error;
pub mod iam_login;
pub mod instance;
pub mod lifecycle;
pub mod modify;
pub mod observe;
pub mod parameter_group;
pub mod parameters;
pub mod replica;
pub mod spec;
pub mod waiter;

#[cfg(test)]
mod tests;

pub use client::{AwsBackend, AwsClientConfig, Clock, Timeouts};
pub use delete::default_final_snapshot_id;
pub use instance::{CreateFailure, RdsInstance};
pub use observe::connection_uri;
