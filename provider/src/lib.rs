//! dbplatform provider library: the Terraform plugin server, its framework, resources and backends.

pub mod backend;
pub mod codec;
pub mod config;
pub mod convert;
pub mod docs;
pub mod fault_points;
pub mod framework;
pub mod liveness;
pub mod plugin;
pub mod proto;
pub mod resources;
pub mod server;
