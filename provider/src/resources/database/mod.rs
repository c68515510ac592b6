//! `dbplatform_database`: a golden-path database. The configuration names a tier; planning expands it from the
//! tier catalogue (Multi-AZ, backup retention, deletion protection, instance class ...), checks the guardrails and
//! shows restarts; apply hands a [`DatabaseSpec`] to the configured [`crate::backend::DatabaseBackend`].
//! Nothing here is specific to one backend.
//!
//! Files: [`resource`] (the type and read/import), [`schema`], [`plan`], [`apply`], [`spec`] (plan values ↔
//! spec), [`state`] (state from what the backend reports), [`rds`] (managed-instance attributes),
//! [`guardrails`] (decisions as diagnostics), [`rotation`] (master password rotation), `inputs` (plan-time input checks), [`env_trait`] (what the resource needs from the provider) and [`env`] (its implementations).

pub mod apply;
pub mod env;
pub mod env_trait;
pub mod guardrails;
mod inputs;
pub mod plan;
pub mod rds;
pub mod resource;
pub mod rotation;
pub mod schema;
pub mod spec;
pub mod state;

#[cfg(test)]
mod tests;

pub use resource::DatabaseResource;
pub use schema::{schema, MASTER_USERNAME_SUFFIX, TYPE_NAME};
pub use spec::backend_diagnostic;

/// The configurable attribute names, for the tests of [`env`] (which name them through this module).
#[cfg(test)]
pub(crate) use schema::CONFIGURABLE;
