//! The data types the policy library exchanges: inputs, decisions, exceptions and the tier catalogue.

pub mod tiers;

pub use tiers::{Tier, TierCatalogue, TierError};
