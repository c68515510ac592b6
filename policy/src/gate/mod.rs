//! The decision gate: the one place a policy evaluation becomes a decision that counts.
//!
//! Both front ends — the provider at plan time and `dbpolicy check` in CI — hand the gate the loaded
//! [`PolicyEngine`], the inputs and a [`GateRequest`] (overrides with where they came from, the [`EnforcementMode`],
//! "now", who is asking), plus the audit log to record in ([`DecisionSink`]). [`decide`] returns one recorded
//! [`Decision`] or a fail-closed [`GateError`]; front ends only turn that error into their own diagnostic or exit
//! code. No other code validates or applies overrides, downgrades results or appends decision records, so the two
//! front ends cannot drift apart again.
//!
//! The rules, in order:
//! 1. Every override must name a soft-mandatory rule of the bundle, with a non-empty reason and author
//!    ([`check_overrides`]); otherwise nothing is evaluated.
//! 2. With an audit log, the hash of the inputs is taken before evaluation (evaluation consumes them).
//! 3. Evaluation applies exceptions (from the engine) and the overrides that may count (see [`EnforcementMode`]).
//! 4. An override counts only in a decision that goes on record: with no audit log, an override that would turn a
//!    failing result into `overridden` is refused ([`GateError::OverrideNotRecorded`]). An override the plan does
//!    not need is no error, and nothing is refused when nothing blocks (advisory and off modes).
//! 5. CI flags ([`ci`]): `--skip-rule` must name a rule that is not hard-mandatory (checked before evaluation);
//!    skipped and baselined findings get statuses of their own, and the flags go into the decision's `ci`
//!    field, so the record shows them. `--soft-fail` changes no status and no outcome.
//!    Several plan files ([`GateRequest::files`]) are evaluated one by one, their results labeled with the file,
//!    and make one decision with one record.
//! 6. Advisory and off modes downgrade failures and recompute the summary, outcome and id from the final statuses.
//! 7. With an audit log, the decision is appended; a decision that cannot be recorded is an error (fail closed).

mod ci;
mod error;
mod files;
mod mode;
mod overrides;
mod record;
mod request;

#[cfg(test)]
mod tests;

pub use ci::check_skips;
pub use error::{GateError, OverrideProblem, RefusedOverride, SkipProblem};
pub use mode::EnforcementMode;
pub use overrides::check_overrides;
pub use record::DecisionSink;
pub use request::{GateRequest, InputFile, Provenance, RequestedOverride, RequestedSkip, Source};

use crate::engine::{EvalContext, PolicyEngine};
use crate::model::decision::Decision;
use crate::model::input::Input;

/// Evaluates `request` with `engine` and returns the decision as recorded in `sink` (when one is given), or the
/// error that must fail the plan or check. See the module documentation for the rules.
pub fn decide(
    engine: &PolicyEngine,
    request: GateRequest,
    sink: Option<&dyn DecisionSink>,
) -> Result<Decision, GateError> {
    let GateRequest {
        inputs,
        raws,
        resources,
        overrides,
        mode,
        on_unknown,
        now,
        provenance,
        soft_fail,
        skip_rules,
        baseline,
        files,
    } = request;
    check_overrides(engine, &overrides)?;
    check_skips(engine, &skip_rules)?;
    // Hashed before evaluation, which consumes the inputs.
    let input_sha256 = match sink {
        Some(s) if files.is_empty() => Some(record::input_hash(&inputs, s)?),
        Some(s) => {
            let all: Vec<&Input> = inputs
                .iter()
                .chain(files.iter().flat_map(|f| f.inputs.iter()))
                .collect();
            Some(record::input_hash(&all, s)?)
        }
        None => None,
    };
    let applied = if mode.applies_overrides(sink.is_some()) {
        overrides.iter().map(|o| o.rule.clone()).collect()
    } else {
        vec![]
    };
    let ctx = EvalContext {
        now,
        overrides: applied,
        on_unknown,
        source: provenance.source.as_str().into(),
    };
    let mut decision = if files.is_empty() {
        engine.evaluate_values(inputs, raws, &ctx)?
    } else {
        files::evaluate(engine, inputs, raws, files, &ctx, on_unknown)?
    };
    if let Some(n) = resources {
        decision.summary.resources = n;
    }
    if sink.is_none() {
        let refused = overrides::refused(&decision, &overrides);
        if !refused.is_empty() {
            return Err(GateError::OverrideNotRecorded { refused });
        }
    }
    if ci::apply(&mut decision, soft_fail, &skip_rules, baseline.as_ref()) {
        crate::engine::retally(&mut decision, on_unknown);
    }
    mode.apply(&mut decision, on_unknown);
    if let (Some(sink), Some(input_sha256)) = (sink, input_sha256) {
        record::record(sink, &decision, &provenance, input_sha256)?;
    }
    Ok(decision)
}
