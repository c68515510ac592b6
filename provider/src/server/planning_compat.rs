//! TEMPORARY bridge to `framework::planning` (written by another engineer, not merged yet): as soon as
//! `crate::framework::planning` exists this file becomes
//! `pub(crate) use crate::framework::planning::{plan_with_schema, requires_replace};`.
//! Until then it does the minimum Terraform needs so that the server compiles and plans consistently: computed
//! attributes left null become unknown (or keep prior state with UseStateForUnknown), defaults fill null
//! optional+computed attributes, and RequiresReplace attributes that changed force replacement.

use crate::framework::{AttributePath, Block, PlanModifier, Value};

/// See the module doc.
pub(crate) fn plan_with_schema(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    _config: &Value,
) -> Value {
    let mut out = proposed.clone();
    if let Value::Object(m) = &mut out {
        for a in &block.attributes {
            let is_null = m.get(&a.name).is_none_or(Value::is_null);
            if !(a.computed && is_null) {
                continue;
            }
            let default = a.plan_modifiers.iter().find_map(|p| match p {
                PlanModifier::Default(v) => Some(v.clone()),
                _ => None,
            });
            let keep = a.has_modifier(&PlanModifier::UseStateForUnknown) && !prior.is_null();
            let v = match (default, keep) {
                (Some(d), _) => d,
                (None, true) => prior.get(&a.name).clone(),
                (None, false) => Value::Unknown,
            };
            m.insert(a.name.clone(), v);
        }
    }
    out
}

/// See the module doc.
pub(crate) fn requires_replace(
    block: &Block,
    prior: &Value,
    planned: &Value,
) -> Vec<AttributePath> {
    block
        .attributes
        .iter()
        .filter(|a| {
            a.has_modifier(&PlanModifier::RequiresReplace)
                && prior.get(&a.name) != planned.get(&a.name)
        })
        .map(|a| AttributePath::attr(a.name.clone()))
        .collect()
}
