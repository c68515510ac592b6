//! The `dbplatform` provider: its configuration schema, validation, and the configuration state it hands to
//! every resource and data source.
//!
//! ```hcl
//! provider "dbplatform" {
//!   backend      = "aws"                    # or "local" (default)
//!   default_tags = { owner = "payments" }
//!   aws    { region = "eu-west-1" }
//!   local  { data_dir = "/var/lib/dbplatform" }
//!   policy { tiers_file = "tiers.toml" }
//! }
//! ```
//!
//! Terraform may configure the provider with *unknown* values at plan time (when the provider block references
//! attributes of resources not yet created). Configuration then still succeeds: unknown settings fall back to
//! their defaults and are recorded in [`ProviderConfig::unknown_settings`]; a resource that needs one calls
//! [`ProviderConfig::require_known`] and returns the diagnostic it gets, asking the user for known values.

//!
//! Files: [`settings`] (the validated configuration types), [`schema`] (the provider block), [`parse`] (reading
//! and validating it), [`environment`] (the one place environment variables are read), [`state`] (what
//! resources share, with per-configuration caches), [`backend`] (configuration → backend), [`audit`] and
//! [`audited_apply`] (the audit log), [`registration`] (the provider and its resource types).

pub mod audit;
pub mod audited_apply;
pub mod backend;
pub mod environment;
pub mod parse;
pub mod registration;
pub mod schema;
pub mod settings;
pub mod state;

#[cfg(test)]
mod tests;

pub use environment::{ConfigEnv, ENV_OVERRIDES};
pub use parse::parse_env_overrides;
pub use registration::DbPlatformProvider;
pub use schema::provider_block;
pub use settings::{
    AwsSettings, BackendKind, ConfiguredOverride, LocalSettings, PolicySettings, ProviderConfig,
    DEFAULT_MAX_RETRIES, ENFORCEMENT_ADVISORY, MAX_RETRIES_LIMIT,
};
pub use state::ProviderState;
