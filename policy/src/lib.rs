//! dbplatform policy library: one decision for one input, for the provider at plan time and for CI.

pub mod adapter;
pub mod audit;
pub mod bundle;
pub mod cli;
pub mod engine;
pub mod gate;
pub mod hex;
pub mod migration;
pub mod model;
pub mod report;
pub mod yaml;
