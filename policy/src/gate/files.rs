//! A check of several plan files: each file is evaluated on its own (so equal addresses in two plans stay two
//! results), its results are labeled with the file, and the parts become one decision.

use crate::engine::{EvalContext, OnUnknown, PolicyEngine};
use crate::gate::{GateError, InputFile};
use crate::model::decision::{Decision, SharedStr};
use crate::model::input::Input;

/// Evaluates the unlabeled `inputs`/`raws` (when any), then every file, and merges the decisions: results in
/// file order, resources summed, an exception `applied` when it applied in any file; counts, outcome and id
/// are then computed once over all results.
pub(crate) fn evaluate(
    engine: &PolicyEngine,
    inputs: Vec<Input>,
    raws: Vec<(regorus::Value, String)>,
    files: Vec<InputFile>,
    ctx: &EvalContext,
    on_unknown: Option<OnUnknown>,
) -> Result<Decision, GateError> {
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let mut merged: Option<Decision> = None;
    let unlabeled = (!inputs.is_empty() || !raws.is_empty()).then_some((None, inputs, raws));
    let labeled = files
        .into_iter()
        .map(|f| (Some(SharedStr::from(f.name)), f.inputs, f.raws));
    for (name, inputs, raws) in unlabeled.into_iter().chain(labeled) {
        let mut d = engine.evaluate_values(inputs, raws, ctx)?;
        if let Some(name) = name {
            for r in &mut d.results {
                r.input = Some(name.clone());
            }
        }
        merged = Some(match merged {
            None => d,
            Some(mut m) => {
                merge(&mut m, d);
                m
            }
        });
    }
    let mut decision = match merged {
        Some(d) => d,
        // No file at all: the engine's decision over nothing.
        None => engine.evaluate_values(vec![], vec![], ctx)?,
    };
    decision.inputs = names;
    crate::engine::retally(&mut decision, on_unknown);
    Ok(decision)
}

/// Adds `d`'s results, resources and exception uses to `m`.
fn merge(m: &mut Decision, d: Decision) {
    m.results.extend(d.results);
    m.summary.resources += d.summary.resources;
    for (mine, theirs) in m.exceptions.iter_mut().zip(d.exceptions) {
        // Same exceptions file, same order: keep the most telling status (applied, then a reason it did not).
        if mine.status != "applied" && (theirs.status == "applied" || mine.status == "unused") {
            *mine = theirs;
        }
    }
}
