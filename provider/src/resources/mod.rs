//! The dbplatform provider, its resources and data sources.
//!
//! `provider` holds the provider configuration and the [`provider::ProviderState`] every resource shares; the
//! registered resource and data source types are listed in `DbPlatformProvider::resources` / `data_sources`.

pub mod database;
pub mod database_data_source;
pub mod parameter_group;
pub mod provider;
pub mod restore_test;
pub mod tier_data_source;

pub use provider::{BackendKind, DbPlatformProvider, ProviderConfig, ProviderState};
