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
pub mod report_input;
pub mod sarif;
pub mod text;
pub mod uri;

pub use locate::{Location, Locations};
pub use report_input::ReportInput;

/// The formats `dbpolicy check --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
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
