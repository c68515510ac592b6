//! The small framework resource code is written against, so that no protobuf type reaches a resource.
//!
//! Layering follows terraform-plugin-framework: `plugin` (transport) and `convert` (proto <-> framework) sit
//! above this module; resources and data sources sit below it and see only these types.

pub mod access;
pub mod diagnostics;
pub mod duration;
pub mod ephemeral;
pub mod path;
pub mod planning;
pub mod schema;
pub mod traits;
pub mod types;
pub mod value;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use ephemeral::{EphemeralResource, OpenResponse, RenewResponse};
pub use path::{AttributePath, Step};
pub use schema::{Attribute, Block, NestedBlock, Nesting, PlanModifier, Schema};
pub use traits::{
    ApplyRequest, ApplyResponse, DataSource, ImportResponse, PlanRequest, PlanResponse, Provider,
    ReadDataRequest, ReadDataResponse, ReadRequest, ReadResponse, Resource,
};
pub use types::Type;
pub use value::{Number, Value};
