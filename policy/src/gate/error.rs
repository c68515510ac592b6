//! Why the gate produced no decision: every message says what is wrong, where, and the fix.

use crate::audit::AuditError;
use crate::engine::EngineError;
use crate::model::decision::Enforcement;

/// What is wrong with one override (the [`GateError::Override`] message adds where it was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideProblem {
    /// The rule id is not in the loaded bundle (a typo, or a rule of another bundle).
    #[error("unknown rule id {rule_id:?}; known ids are listed by `dbpolicy rules` (e.g. \"DBP-DEL-002\"): fix the id or remove the override")]
    UnknownRule { rule_id: String },
    /// Only soft-mandatory rules can be overridden; hard-mandatory and advisory ones cannot.
    #[error(
        "rule {rule_id} is {}; only soft-mandatory rules can be overridden. Remove the override and fix the \
         finding, or ask the platform team for a time-limited exception",
        enforcement.as_str()
    )]
    NotSoftMandatory {
        rule_id: String,
        enforcement: Enforcement,
    },
    /// An override must say why and who takes responsibility.
    #[error("override of {rule_id} needs a non-empty --reason and --by (in a provider override block: reason and by)")]
    Incomplete { rule_id: String },
}

/// What is wrong with one `--skip-rule` (the [`GateError::Skip`] message adds where it was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipProblem {
    #[error("{rule_id}: unknown rule id; known ids are listed by `dbpolicy rules` (conftest rules: NS.deny, NS.warn_x): fix the id or remove the flag")]
    UnknownRule { rule_id: String },
    /// Hard-mandatory rules cannot be skipped by the caller: only an approved exception exempts a resource.
    #[error("{rule_id}: the rule is hard-mandatory and cannot be skipped; it needs an approved exception (--exceptions FILE) for the resources it fails on")]
    HardMandatory { rule_id: String },
}

/// An override the plan needed that was refused because no audit log could record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedOverride {
    /// Where the override was written (`--override`, `policy.override[0]`).
    pub origin: String,
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// The resource whose failing result the override would have let through.
    pub address: String,
    /// The finding's message.
    pub message: String,
    pub by: String,
    pub reason: String,
}

/// Why the gate returned no decision. Every variant fails the plan or check (fail closed).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// An override that can never be accepted; nothing was evaluated.
    #[error("{origin}: {problem}")]
    Override {
        origin: String,
        problem: OverrideProblem,
    },
    /// A `--skip-rule` that can never be accepted; nothing was evaluated.
    #[error("{origin} {problem}")]
    Skip {
        origin: String,
        problem: SkipProblem,
    },
    /// Overrides the plan needed while no audit log is configured: an override counts only once recorded, so
    /// the rules they name still fail.
    #[error(
        "{}: refused, no audit log is configured to record the override, so the rule still fails; pass \
         --audit-log FILE (or set DBPOLICY_AUDIT_LOG; in the provider, policy.audit_log) and run again, or fix \
         the finding",
        refused_list(refused)
    )]
    OverrideNotRecorded { refused: Vec<RefusedOverride> },
    /// The bundle could not evaluate the inputs.
    #[error(transparent)]
    Evaluation(#[from] EngineError),
    /// The inputs could not be hashed for the audit record, so nothing was evaluated.
    #[error(
        "{location}: cannot hash the inputs for the audit log, so the check fails closed: {source}"
    )]
    InputHash {
        /// The audit log the decision was meant for.
        location: String,
        #[source]
        source: AuditError,
    },
    /// The decision was evaluated but could not be recorded, so it does not count.
    #[error(
        "{location}: decision {decision_id} was not recorded, so the check fails closed (overrides and exceptions \
         count only once on record): {source}. Fix the audit log (directory, permissions, disk space, `dbpolicy \
         audit verify`) or point --audit-log / DBPOLICY_AUDIT_LOG / policy.audit_log at a writable file"
    )]
    NotRecorded {
        /// The audit log that refused the record.
        location: String,
        decision_id: String,
        #[source]
        source: AuditError,
    },
}

/// `--override DBP-LOG-001 on aws_db_instance.a (by "alice")`, for each refused override.
fn refused_list(refused: &[RefusedOverride]) -> String {
    refused
        .iter()
        .map(|r| {
            format!(
                "{} {} on {} (by {:?})",
                r.origin, r.rule_id, r.address, r.by
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
