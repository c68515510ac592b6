//! Attribute-path bookkeeping both wire formats share while they walk a value, so an error names the same path
//! (`tags["owner"]`, `rules[2].port`) whichever encoding it came from.

use crate::framework::{AttributePath, Step};

/// Runs `f` with `step` appended to `path`, restoring the path afterwards: one growing path serves the whole
/// walk instead of a new one per element.
pub(super) fn with_step<T>(
    path: &mut AttributePath,
    step: Step,
    f: impl FnOnce(&mut AttributePath) -> T,
) -> T {
    path.steps.push(step);
    let r = f(path);
    path.steps.pop();
    r
}

/// The path step of list, set or tuple element `i` (saturating: no real value has 2^63 elements).
pub(super) fn index_step(i: usize) -> Step {
    Step::ElementKeyInt(i64::try_from(i).unwrap_or(i64::MAX))
}
