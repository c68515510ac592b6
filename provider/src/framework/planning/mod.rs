//! Schema-driven planning, as terraform-plugin-framework's `fwserver` does before a resource's own `plan` runs.
//!
//! Terraform hands the provider a *proposed* new state (configuration merged with prior state: computed
//! attributes the configuration leaves null carry their prior values). [`plan_with_schema`] turns it into the
//! framework's plan by applying the schema's plan modifiers, in the framework's order:
//!
//! 1. **Defaults**: an attribute with [`PlanModifier::Default`] that is null in the configuration takes the default.
//!    (Terraform requires such attributes to be `optional + computed`; [`schema_problems`] checks that.)
//! 2. **Unknown computed values**: when the resource is created (prior state null), or updated (the plan after
//!    defaults differs from the prior state anywhere), every computed attribute that is null in the configuration
//!    and has no default becomes unknown: the provider will learn it during apply. When nothing changes, computed
//!    attributes keep their prior values, so an unchanged resource plans as a no-op.
//! 3. **UseStateForUnknown**: such an attribute keeps its prior state value instead of becoming unknown, when the
//!    prior state has a (non-null) value for it. On create there is no prior value, so it stays unknown.
//!
//! Nested blocks are planned element by element: single blocks as objects, list blocks by index, map blocks by
//! key and set blocks by matching elements on their non-computed attributes.
//!
//! [`requires_replace`] then lists the attributes whose change forces a replacement, with the framework's
//! `RequiresReplace` semantics (see its documentation).

use super::path::AttributePath;
use super::schema::{Attribute, Block, NestedBlock, Nesting, PlanModifier};
use super::value::Value;

/// The plan for one resource instance: `proposed` with the schema's defaults, unknown computed values and
/// use-state-for-unknown applied (see the module documentation for the exact rules). A null `proposed` (destroy)
/// or a wholly unknown one is returned unchanged.
pub fn plan_with_schema(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> Value {
    if !matches!(proposed, Value::Object(_)) {
        return proposed.clone();
    }
    let mut planned = proposed.clone();
    apply_defaults(block, &mut planned, config);
    let changed = prior.is_null() || planned != *prior;
    if changed {
        // On create `prior` is null, so `prior.get(..)` is null everywhere and nothing keeps a prior value.
        mark_computed_unknown(block, &mut planned, config, prior);
    }
    planned
}

/// Paths of attributes marked [`PlanModifier::RequiresReplace`] whose planned value differs from the prior one.
///
/// Semantics (terraform-plugin-framework's `RequiresReplace`):
/// - nothing is replaced on create (prior null) or destroy (planned null);
/// - a planned value that is unknown differs from any prior value, including null: an attribute that may change
///   at apply time and forces replacement must be planned as replacing now, because Terraform cannot replace
///   later. Give computed `RequiresReplace` attributes `UseStateForUnknown` so they stay known;
/// - null -> value and value -> null are changes;
/// - inside list blocks, paths name the element index (`block[0].attr`), inside map blocks the key; for set blocks
///   the path names the whole block, as set elements have no stable address.
pub fn requires_replace(block: &Block, prior: &Value, planned: &Value) -> Vec<AttributePath> {
    let mut out = Vec::new();
    if prior.is_null() || planned.is_null() {
        return out;
    }
    collect_replace(block, prior, planned, &AttributePath::root(), &mut out);
    out
}

/// Schema mistakes Terraform would only report at plan time as "Provider produced invalid plan" (or refuse in
/// GetProviderSchema). Resource unit tests should assert this is empty for their schema.
pub fn schema_problems(block: &Block) -> Vec<String> {
    let mut out = Vec::new();
    check_block(block, &AttributePath::root(), &mut out);
    out
}

fn check_block(block: &Block, base: &AttributePath, out: &mut Vec<String>) {
    for a in &block.attributes {
        let p = base.join_attr(&a.name);
        if !(a.required || a.optional || a.computed) {
            out.push(format!("{p}: must be required, optional or computed"));
        }
        if a.required && (a.optional || a.computed) {
            out.push(format!(
                "{p}: a required attribute cannot also be optional or computed"
            ));
        }
        if default_of(a).is_some() && !a.computed {
            out.push(format!(
                "{p}: a Default needs the attribute to be computed (optional_computed)"
            ));
        }
        if a.has_modifier(&PlanModifier::UseStateForUnknown) && !a.computed {
            out.push(format!(
                "{p}: UseStateForUnknown only applies to computed attributes"
            ));
        }
        if a.description.trim().is_empty() {
            out.push(format!("{p}: missing description"));
        }
    }
    for nb in &block.blocks {
        check_block(&nb.block, &base.join_attr(&nb.type_name), out);
    }
}

/// The attribute's default, if it has one.
fn default_of(a: &Attribute) -> Option<&Value> {
    a.plan_modifiers.iter().find_map(|m| match m {
        PlanModifier::Default(v) => Some(v),
        _ => None,
    })
}

fn apply_defaults(block: &Block, planned: &mut Value, config: &Value) {
    let Value::Object(m) = planned else { return };
    for a in &block.attributes {
        if let Some(d) = default_of(a) {
            if config.get(&a.name).is_null() {
                m.insert(a.name.clone(), d.clone());
            }
        }
    }
    for nb in &block.blocks {
        if let Some(child) = m.get_mut(&nb.type_name) {
            let cfg = config.get(&nb.type_name);
            for_each_element(
                nb,
                child,
                cfg,
                &Value::Null,
                &mut |blk, elem, cfg_elem, _| apply_defaults(blk, elem, cfg_elem),
            );
        }
    }
}

fn mark_computed_unknown(block: &Block, planned: &mut Value, config: &Value, prior: &Value) {
    let Value::Object(m) = planned else { return };
    for a in &block.attributes {
        if !a.computed || default_of(a).is_some() || !config.get(&a.name).is_null() {
            continue;
        }
        let prior_value = prior.get(&a.name);
        let v = if a.has_modifier(&PlanModifier::UseStateForUnknown) && !prior_value.is_null() {
            prior_value.clone()
        } else {
            Value::Unknown
        };
        m.insert(a.name.clone(), v);
    }
    for nb in &block.blocks {
        if let Some(child) = m.get_mut(&nb.type_name) {
            let cfg = config.get(&nb.type_name);
            let pri = prior.get(&nb.type_name);
            for_each_element(
                nb,
                child,
                cfg,
                pri,
                &mut |blk, elem, cfg_elem, prior_elem| {
                    mark_computed_unknown(blk, elem, cfg_elem, prior_elem)
                },
            );
        }
    }
}

/// Calls `f(block, planned element, config element, prior element)` for every element of a nested block value.
/// Set elements are matched to configuration and prior elements on their non-computed attributes, and the set is
/// put back in canonical order afterwards (its elements may have changed).
fn for_each_element(
    nb: &NestedBlock,
    child: &mut Value,
    cfg: &Value,
    prior: &Value,
    f: &mut dyn FnMut(&Block, &mut Value, &Value, &Value),
) {
    static NULL: Value = Value::Null;
    match (nb.nesting, child) {
        (Nesting::Single | Nesting::Group, v @ Value::Object(_)) => f(&nb.block, v, cfg, prior),
        (Nesting::List, Value::List(items)) => {
            let cfg_items = cfg.as_elements().unwrap_or(&[]);
            let prior_items = prior.as_elements().unwrap_or(&[]);
            for (i, item) in items.iter_mut().enumerate() {
                f(
                    &nb.block,
                    item,
                    cfg_items.get(i).unwrap_or(&NULL),
                    prior_items.get(i).unwrap_or(&NULL),
                );
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (k, item) in items.iter_mut() {
                f(&nb.block, item, cfg.get(k), prior.get(k));
            }
        }
        (Nesting::Set, Value::Set(items)) => {
            let cfg_items = cfg.as_elements().unwrap_or(&[]);
            let prior_items = prior.as_elements().unwrap_or(&[]);
            for item in items.iter_mut() {
                let key = project(&nb.block, item);
                let c = cfg_items
                    .iter()
                    .find(|c| project(&nb.block, c) == key)
                    .unwrap_or(&NULL);
                let p = prior_items
                    .iter()
                    .find(|p| project(&nb.block, p) == key)
                    .unwrap_or(&NULL);
                f(&nb.block, item, c, p);
            }
            let sorted = crate::codec::canonical_set(std::mem::take(items));
            *items = sorted;
        }
        _ => {}
    }
}

/// An element with its computed attributes nulled: what identifies a set element across config, plan and state.
fn project(block: &Block, v: &Value) -> Value {
    let mut p = v.clone();
    if let Value::Object(m) = &mut p {
        for a in block.attributes.iter().filter(|a| a.computed) {
            m.insert(a.name.clone(), Value::Null);
        }
    }
    p
}

fn collect_replace(
    block: &Block,
    prior: &Value,
    planned: &Value,
    base: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    for a in &block.attributes {
        if a.has_modifier(&PlanModifier::RequiresReplace)
            && prior.get(&a.name) != planned.get(&a.name)
        {
            out.push(base.join_attr(&a.name));
        }
    }
    static NULL: Value = Value::Null;
    for nb in &block.blocks {
        if !block_has_replace(&nb.block) {
            continue;
        }
        let path = base.join_attr(&nb.type_name);
        let (pr, pl) = (prior.get(&nb.type_name), planned.get(&nb.type_name));
        match nb.nesting {
            Nesting::Single | Nesting::Group => collect_replace(&nb.block, pr, pl, &path, out),
            Nesting::List => {
                let (a, b) = (
                    pr.as_elements().unwrap_or(&[]),
                    pl.as_elements().unwrap_or(&[]),
                );
                for i in 0..a.len().max(b.len()) {
                    let idx = i64::try_from(i).unwrap_or(i64::MAX);
                    collect_replace(
                        &nb.block,
                        a.get(i).unwrap_or(&NULL),
                        b.get(i).unwrap_or(&NULL),
                        &path.join_index(idx),
                        out,
                    );
                }
            }
            Nesting::Map => {
                let mut keys: Vec<&String> = Vec::new();
                for m in [pr, pl].into_iter().filter_map(Value::as_entries) {
                    keys.extend(m.keys());
                }
                keys.sort();
                keys.dedup();
                for k in keys {
                    collect_replace(
                        &nb.block,
                        pr.get(k),
                        pl.get(k),
                        &path.join_key(k.clone()),
                        out,
                    );
                }
            }
            Nesting::Set => {
                let (a, b) = (
                    replace_projection(&nb.block, pr),
                    replace_projection(&nb.block, pl),
                );
                if a != b {
                    out.push(path);
                }
            }
        }
    }
}

/// Whether any attribute in the block (or below) forces replacement.
fn block_has_replace(block: &Block) -> bool {
    block
        .attributes
        .iter()
        .any(|a| a.has_modifier(&PlanModifier::RequiresReplace))
        || block.blocks.iter().any(|nb| block_has_replace(&nb.block))
}

/// The replacement-relevant part of a set block: each element reduced to its RequiresReplace attributes, as a
/// canonical set, so a set whose other attributes change does not force replacement.
fn replace_projection(block: &Block, set: &Value) -> Value {
    match set {
        Value::Set(items) | Value::List(items) => Value::Set(crate::codec::canonical_set(
            items
                .iter()
                .map(|item| {
                    let mut m = std::collections::BTreeMap::new();
                    for a in block
                        .attributes
                        .iter()
                        .filter(|a| a.has_modifier(&PlanModifier::RequiresReplace))
                    {
                        m.insert(a.name.clone(), item.get(&a.name).clone());
                    }
                    for nb in block
                        .blocks
                        .iter()
                        .filter(|nb| block_has_replace(&nb.block))
                    {
                        m.insert(nb.type_name.clone(), item.get(&nb.type_name).clone());
                    }
                    Value::Object(m)
                })
                .collect(),
        )),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests;
