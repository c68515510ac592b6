//! One resource's raw attributes -> the normalized [`Input`](crate::model::Input), shared by both adapters.
//!
//! The plan-JSON adapter and the provider adapter only differ in where the raw values, unknown paths and
//! sensitive paths come from; everything a rule sees is computed here, once, so the two cannot drift apart.
//!
//! How the work is divided:
//! - [`raw`]: the resource as an adapter found it, and the kind its type has;
//! - [`build`](build()): raw resource -> input (kind, backend, tier, engine, tags, redaction), the one entry point;
//! - settings, read per resource family from one table each (`aws_instance`, `aws_cluster`,
//!   `dbplatform_database`, `parameter_group`, `access`), with the table language in `spec` and the reading in `settings`;
//! - `tags` and `engine_version`: the merged tags and the engine's major version;
//! - [`paths`]: raw attribute paths (unknown, sensitive, cleared);
//! - [`related`]: the related-resource part of an input, filled in once the adapter has looked for them.

mod access;
mod aws_cluster;
mod aws_instance;
mod build;
mod dbplatform_database;
mod engine_version;
mod parameter_group;
pub mod paths;
pub mod raw;
pub mod related;
mod settings;
mod spec;
mod tags;

pub use build::build;
pub use engine_version::{engine_major, family_engine, normalize_engine};
pub use paths::{clear_path, get_path, is_unknown, true_paths};
pub use raw::{base_kind, RawResource, POLICY_DECISION_ATTRIBUTE};
pub use related::{finish_related, needs_source, unresolved_group, wanted_parameter_group};
