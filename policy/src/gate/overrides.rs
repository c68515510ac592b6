//! Which overrides are acceptable, and which must be refused because no audit log can record them.

use crate::engine::PolicyEngine;
use crate::gate::{GateError, OverrideProblem, RefusedOverride, RequestedOverride};
use crate::model::decision::{Decision, Enforcement, Status};

/// Checks every override against the loaded bundle: it must name a rule of the bundle, the rule must be
/// soft-mandatory, and the reason and author must not be blank. The first problem is the error, naming the
/// override's origin. The only implementation of these rules; the engine's own entry points use it too.
pub fn check_overrides(
    engine: &PolicyEngine,
    overrides: &[RequestedOverride],
) -> Result<(), GateError> {
    for o in overrides {
        let rule_id = o.rule.rule_id.clone();
        let problem = match engine.rule(&o.rule.rule_id) {
            None => Some(OverrideProblem::UnknownRule { rule_id }),
            Some(rule) if rule.enforcement != Enforcement::SoftMandatory => {
                Some(OverrideProblem::NotSoftMandatory {
                    rule_id,
                    enforcement: rule.enforcement,
                })
            }
            Some(_) if o.rule.reason.trim().is_empty() || o.rule.by.trim().is_empty() => {
                Some(OverrideProblem::Incomplete { rule_id })
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(GateError::Override {
                origin: o.origin.clone(),
                problem,
            });
        }
    }
    Ok(())
}

/// The results an override turned into `overridden`, when the decision cannot be recorded: each override that
/// the plan actually needed (a failing soft-mandatory result it would let through).
pub(crate) fn refused(
    decision: &Decision,
    overrides: &[RequestedOverride],
) -> Vec<RefusedOverride> {
    decision
        .results
        .iter()
        .filter(|r| r.status == Status::Overridden)
        .filter_map(|r| {
            let o = overrides.iter().find(|o| *o.rule.rule_id == *r.rule_id)?;
            Some(RefusedOverride {
                origin: o.origin.clone(),
                rule_id: r.rule_id.to_string(),
                title: r.title.to_string(),
                address: r.address.to_string(),
                message: r.message.clone(),
                by: o.rule.by.clone(),
                reason: o.rule.reason.clone(),
            })
        })
        .collect()
}
