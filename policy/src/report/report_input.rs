//! What every format renders from: the decision and what the formats need beside it. Its own file so the formats
//! and the format switch in `report` can both use it without importing each other.

use super::locate::Locations;
use crate::engine::{OnUnknown, RuleMeta};
use crate::model::decision::{Decision, RuleResult, Status};

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
