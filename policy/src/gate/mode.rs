//! Enforcement modes: normal enforcement, break-glass advisory, and off.

use crate::engine::{unknown_fails, OnUnknown};
use crate::model::decision::{Decision, Enforcement, Status};

/// How much the decision is allowed to block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EnforcementMode {
    /// Results count as evaluated: failing hard- and soft-mandatory results fail the decision.
    #[default]
    Enforce,
    /// Break-glass: every failing result is still reported, as a warning, and none fails the decision.
    /// Overrides still apply (and are recorded) when an audit log is configured, so the record shows them.
    Advisory,
    /// Guardrails not enforced: the rules run and the decision is recorded (so the log shows what they found), every
    /// failing result is downgraded as in advisory mode, and overrides are checked but never applied.
    Off,
}

impl EnforcementMode {
    /// Whether the requested overrides go into evaluation. In enforce mode they always do: without an audit
    /// log that is how the gate finds the overrides it must refuse. In advisory mode only when they can be
    /// recorded (nothing blocks, so an unrecorded override is simply not needed); in off mode never.
    pub(crate) fn applies_overrides(self, recorded: bool) -> bool {
        match self {
            EnforcementMode::Enforce => true,
            EnforcementMode::Advisory => recorded,
            EnforcementMode::Off => false,
        }
    }

    /// Downgrades what would fail (advisory and off modes): a failing result becomes a warning of an advisory
    /// rule, an unknown result that would fail becomes advisory; then the summary, outcome and id are recomputed
    /// from the final statuses, so the decision never says `fail` for results that no longer fail.
    pub(crate) fn apply(self, decision: &mut Decision, on_unknown: Option<OnUnknown>) {
        if self == EnforcementMode::Enforce {
            return;
        }
        for r in &mut decision.results {
            match r.status {
                Status::Fail => {
                    r.status = Status::Warn;
                    r.enforcement = Enforcement::Advisory;
                }
                Status::Unknown if unknown_fails(r.enforcement, on_unknown) => {
                    r.enforcement = Enforcement::Advisory;
                }
                _ => {}
            }
        }
        crate::engine::retally(decision, on_unknown);
    }
}
