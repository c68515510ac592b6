//! `terraform show -json PLANFILE` (format 0.1, 0.2 and 1.x) -> one normalized [`Input`](crate::model::Input)
//! per database resource.
//!
//! The plan is parsed once (it can be tens of MiB); every `resource_changes` entry of a type the policy reads
//! becomes an input, related parameter groups and replica sources are resolved inside the same plan (by name, or
//! through the `configuration` references when a name is unknown until apply), and everything else is counted.
//!
//! The steps, one file each: [`parse`] (the entry points) reads the plan's top-level `sections`, builds every
//! resource change on worker threads (`workers`, one change at a time in `resource_change`, with the
//! `configuration` index of `config`), then resolves related resources (`related`). What a parse gives is in
//! [`plan_inputs`], how to run it in [`options`], what can go wrong in [`error`].

mod config;
pub mod error;
pub mod options;
pub mod parse;
pub mod plan_inputs;
mod related;
mod resource_change;
mod sections;
mod workers;

pub use error::AdapterError;
pub(crate) use options::span_in;
pub use options::{DoneWith, ParseOptions};
pub use parse::{parse_plan, parse_plan_releasing, parse_plan_with};
pub use plan_inputs::{ConfigLocation, PlanInputs};
pub use sections::supported_format;
