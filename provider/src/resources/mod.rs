//! The dbplatform resources and data sources, one file or folder per type. The provider configuration they share
//! lives in [`crate::config`]; they reach backends only through [`crate::backend::DatabaseBackend`].

pub mod access_review;
pub mod break_glass;
pub mod credentials;
pub mod database;
pub mod database_data_source;
mod evidence;
pub mod failover_drill;
pub mod parameter_group;
pub mod replica;
pub mod restore_test;
pub mod role;
pub mod tier_data_source;
