//! What reading one plan file gives the CLI: the inputs and what reports need beside them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::Input;

/// Where a resource is declared, for reports that point at configuration (SARIF, GitHub annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigLocation {
    /// Module path without instance keys (`module.data`), `""` for the root module.
    pub module: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
}

/// Everything the CLI needs from one plan file.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    /// One input per database-related resource change, in plan order (empty without
    /// [`ParseOptions::keep_inputs`](super::options::ParseOptions::keep_inputs)).
    pub inputs: Vec<Input>,
    /// How many database-related resource changes the plan has.
    pub resources: usize,
    /// Resource changes of other types (and data sources, deposed objects): type -> count.
    pub skipped: BTreeMap<String, usize>,
    /// The whole plan, for rules written against raw plan JSON (conftest mode); with
    /// [`ParseOptions::keep_raw`](super::options::ParseOptions::keep_raw) off, an object holding only the plan's `configuration` (what locations need).
    pub raw: Value,
    pub terraform_version: Option<String>,
    pub format_version: String,
    /// Input address -> where the resource is declared.
    pub locations: BTreeMap<String, ConfigLocation>,
}
