//! What the host hands to one evaluation: "now", the unknown policy and, from the gate only, the overrides.

use crate::model::decision::Override;

/// How to treat a result whose outcome depends on values known only after apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnUnknown {
    /// Unknown results never fail the check.
    Warn,
    /// Unknown results of every non-advisory rule fail the check.
    Fail,
}

/// Per-evaluation context given by the host.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// "now" as seen by rules (`data.dbplatform.now`) and exception expiry.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Soft-mandatory overrides to apply, already checked by [`crate::gate::decide`] (which applies them only when
    /// the decision can be recorded, and records it); the engine does not check them again.
    pub overrides: Vec<Override>,
    /// None = fail for hard-mandatory rules, warn otherwise.
    pub on_unknown: Option<OnUnknown>,
    /// `cli` or `provider`, recorded in the decision.
    pub source: String,
}
