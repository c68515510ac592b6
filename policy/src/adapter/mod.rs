//! Adapters: terraform plan JSON and provider planned state -> normalized inputs.
//!
//! Both adapters end in the same [`normalize`] code, so a resource checked in CI (`dbpolicy check plan.json`) and
//! the same resource checked by the provider during `terraform plan` give the rules the same `input`.

pub mod address;
pub mod normalize;
pub mod plan_json;
pub mod planned_state;

pub use plan_json::{
    parse_plan, parse_plan_releasing, parse_plan_with, AdapterError, ConfigLocation, DoneWith,
    ParseOptions, PlanInputs,
};
pub use planned_state::{from_provider, ProviderPlan};
