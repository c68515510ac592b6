//! Output formats for decisions: text for people, JSON (the decision itself), SARIF 2.1.0 for code scanning,
//! JUnit XML for CI test tabs, and GitHub workflow annotations.
//!
//! Every format is a pure function of the decision, the rules' METADATA and the resource locations, so golden
//! tests pin them byte for byte.

pub mod github;
pub mod junit;
pub mod links;
pub mod locate;
pub mod plan_regions;
pub mod sarif;
pub mod text;
pub mod uri;

use crate::engine::{OnUnknown, RuleMeta};
use crate::model::decision::{Decision, RuleResult, Status};

pub use locate::{Location, Locations};

/// The formats `dbpolicy check --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
}

/// What a report needs besides the decision.
pub struct ReportInput<'a> {
    pub decision: &'a Decision,
    /// METADATA of the bundle's rules (descriptions and remediation for SARIF help).
    pub rules: &'a [RuleMeta],
    /// Where each resource is declared.
    pub locations: &'a Locations,
    /// The unknown policy in force, to tell failing unknowns from warnings.
    pub on_unknown: Option<OnUnknown>,
}

impl ReportInput<'_> {
    /// Whether this result makes the check fail.
    pub fn fails(&self, r: &RuleResult) -> bool {
        match r.status {
            Status::Fail => true,
            Status::Unknown => crate::engine::unknown_fails(r.enforcement, self.on_unknown),
            _ => false,
        }
    }
}

/// Renders the decision in `format`.
pub fn render(format: Format, input: &ReportInput<'_>) -> String {
    match format {
        Format::Text => text::render(input),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(input.decision)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
        Format::Sarif => sarif::render(input),
        Format::Junit => junit::render(input),
        Format::Github => github::render(input),
    }
}
