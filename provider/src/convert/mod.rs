//! Conversions between protobuf messages and framework types, so that no protobuf type reaches a resource
//! (as terraform-plugin-framework's `fromproto6`/`toproto6`).
//!
//! - [`schema`]: framework [`Schema`](crate::framework::Schema) -> `tfplugin6.Schema`
//! - [`diagnostics`]: diagnostics and attribute paths, both directions
//! - [`dynamic`]: `DynamicValue` <-> [`Value`](crate::framework::Value) through the codec

pub mod diagnostics;
pub mod dynamic;
pub mod schema;
