//! Evidence reports over the audit log (`dbpolicy audit report`): chain status, decisions per day, failures per
//! rule and resource, exceptions (and those expiring soon), overrides, restore tests, failover drills, break-glass
//! access ([`access`], also printed alone by `--section access`) and KPIs, as HTML (one
//! self-contained, printable file with inline SVG charts), Markdown, CSV or JSON.
//!
//! The figures are computed once ([`collect`] into the [`data`] types); each output format is one printer over
//! them, in its own file, so a change to one format cannot move the bytes of another.

pub mod access;
mod cells;
pub mod collect;
pub mod csv;
pub mod data;
pub mod drills;
pub mod html;
pub mod json;
pub mod markdown;
pub mod section;

pub use collect::build;
pub use csv::to_csv;
pub use data::{
    ChainStatus, DayCount, ExceptionRow, Kpis, OverrideRow, ReportData, RestoreRow, RestoreStats,
};
pub use html::to_html;
pub use json::to_json;
pub use markdown::to_markdown;
pub use section::{section_only, Section};
