//! The data types the policy library exchanges: inputs, decisions, exceptions and the tier catalogue.

pub mod baseline;
pub mod decision;
pub mod exception;
pub mod input;
pub mod tiers;

pub use input::{
    input_schema, Action, Input, Kind, PlanContext, Related, RelatedCopy, RelatedParameterGroup,
    RelatedSource, Settings, INPUT_SCHEMA,
};
pub use tiers::{Tier, TierCatalogue, TierError};
