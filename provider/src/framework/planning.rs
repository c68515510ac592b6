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
mod tests {
    use super::*;
    use crate::framework::{Type, Value};

    fn schema() -> Block {
        Block::new("test")
            .attribute(Attribute::required("name", Type::String, "name").requires_replace())
            .attribute(Attribute::optional("size", Type::Number, "size"))
            .attribute(
                Attribute::optional_computed("engine", Type::String, "engine")
                    .default_value(Value::string("postgres")),
            )
            .attribute(Attribute::computed("id", Type::String, "id").use_state_for_unknown())
            .attribute(Attribute::computed("endpoint", Type::String, "endpoint"))
            .attribute(Attribute::optional_computed("class", Type::String, "class"))
            .block(
                "backup",
                Nesting::Single,
                Block::new("backup")
                    .attribute(Attribute::optional("days", Type::Number, "days"))
                    .attribute(Attribute::computed("last", Type::String, "last")),
            )
            .block(
                "replica",
                Nesting::List,
                Block::new("replica")
                    .attribute(
                        Attribute::required("region", Type::String, "region").requires_replace(),
                    )
                    .attribute(
                        Attribute::computed("arn", Type::String, "arn").use_state_for_unknown(),
                    ),
            )
            .block(
                "rule",
                Nesting::Set,
                Block::new("rule")
                    .attribute(Attribute::required("port", Type::Number, "port"))
                    .attribute(Attribute::computed("rule_id", Type::String, "rule id")),
            )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// A config: everything null except what is given.
    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut v = obj(&[
            ("name", Value::Null),
            ("size", Value::Null),
            ("engine", Value::Null),
            ("id", Value::Null),
            ("endpoint", Value::Null),
            ("class", Value::Null),
            ("backup", Value::Null),
            ("replica", Value::List(vec![])),
            ("rule", Value::Set(vec![])),
        ]);
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    fn prior_state() -> Value {
        config(&[
            ("name", Value::string("db")),
            ("size", Value::int(10)),
            ("engine", Value::string("postgres")),
            ("id", Value::string("id-1")),
            ("endpoint", Value::string("db:5432")),
            ("class", Value::string("db.t4g.medium")),
        ])
    }

    #[test]
    fn create_applies_defaults_and_unknowns() {
        let cfg = config(&[("name", Value::string("db"))]);
        let planned = plan_with_schema(&schema(), &Value::Null, &cfg, &cfg);
        assert_eq!(planned.get("engine"), &Value::string("postgres"));
        assert_eq!(
            planned.get("id"),
            &Value::Unknown,
            "use-state-for-unknown has no state on create"
        );
        assert_eq!(planned.get("endpoint"), &Value::Unknown);
        assert_eq!(planned.get("class"), &Value::Unknown);
        assert_eq!(
            planned.get("size"),
            &Value::Null,
            "optional non-computed stays as configured"
        );
    }

    #[test]
    fn configured_value_beats_default() {
        let cfg = config(&[
            ("name", Value::string("db")),
            ("engine", Value::string("mysql")),
        ]);
        let planned = plan_with_schema(&schema(), &Value::Null, &cfg, &cfg);
        assert_eq!(planned.get("engine"), &Value::string("mysql"));
    }

    #[test]
    fn unchanged_update_keeps_prior_computed_values() {
        let prior = prior_state();
        let cfg = config(&[("name", Value::string("db")), ("size", Value::int(10))]);
        // Terraform's proposed state: config plus prior values of computed attributes.
        let proposed = prior.clone();
        let planned = plan_with_schema(&schema(), &prior, &proposed, &cfg);
        assert_eq!(planned, prior);
        assert!(requires_replace(&schema(), &prior, &planned).is_empty());
    }

    #[test]
    fn changed_update_marks_computed_unknown_except_use_state() {
        let prior = prior_state();
        let cfg = config(&[("name", Value::string("db")), ("size", Value::int(20))]);
        let mut proposed = prior.clone();
        proposed.set("size", Value::int(20));
        let planned = plan_with_schema(&schema(), &prior, &proposed, &cfg);
        assert_eq!(planned.get("size"), &Value::int(20));
        assert_eq!(
            planned.get("id"),
            &Value::string("id-1"),
            "UseStateForUnknown keeps the prior id"
        );
        assert_eq!(planned.get("endpoint"), &Value::Unknown);
        assert_eq!(
            planned.get("class"),
            &Value::Unknown,
            "optional+computed null in config becomes unknown"
        );
        assert!(
            requires_replace(&schema(), &prior, &planned).is_empty(),
            "size does not force replacement"
        );
    }

    #[test]
    fn use_state_for_unknown_with_null_prior_value_stays_unknown() {
        let mut prior = prior_state();
        prior.set("id", Value::Null);
        let cfg = config(&[("name", Value::string("db")), ("size", Value::int(20))]);
        let mut proposed = prior.clone();
        proposed.set("size", Value::int(20));
        let planned = plan_with_schema(&schema(), &prior, &proposed, &cfg);
        assert_eq!(planned.get("id"), &Value::Unknown);
    }

    #[test]
    fn default_change_counts_as_update() {
        // The prior engine differs from the default: removing `engine` from config changes the resource.
        let mut prior = prior_state();
        prior.set("engine", Value::string("mysql"));
        let cfg = config(&[("name", Value::string("db")), ("size", Value::int(10))]);
        let planned = plan_with_schema(&schema(), &prior, &prior, &cfg);
        assert_eq!(planned.get("engine"), &Value::string("postgres"));
        assert_eq!(planned.get("endpoint"), &Value::Unknown);
    }

    #[test]
    fn destroy_and_unknown_plans_pass_through() {
        assert_eq!(
            plan_with_schema(&schema(), &prior_state(), &Value::Null, &Value::Null),
            Value::Null
        );
        assert_eq!(
            plan_with_schema(&schema(), &Value::Null, &Value::Unknown, &Value::Unknown),
            Value::Unknown
        );
    }

    #[test]
    fn requires_replace_semantics() {
        let prior = prior_state();
        let mut planned = prior.clone();
        planned.set("name", Value::string("db2"));
        assert_eq!(
            requires_replace(&schema(), &prior, &planned),
            vec![AttributePath::attr("name")]
        );
        planned.set("name", Value::Unknown);
        assert_eq!(
            requires_replace(&schema(), &prior, &planned),
            vec![AttributePath::attr("name")],
            "unknown differs"
        );
        assert!(
            requires_replace(&schema(), &Value::Null, &planned).is_empty(),
            "create never replaces"
        );
        assert!(
            requires_replace(&schema(), &prior, &Value::Null).is_empty(),
            "destroy never replaces"
        );
    }

    #[test]
    fn nested_blocks_are_planned_per_element() {
        let replica =
            |region: &str, arn: Value| obj(&[("region", Value::string(region)), ("arn", arn)]);
        let mut prior = prior_state();
        prior.set(
            "backup",
            obj(&[
                ("days", Value::int(7)),
                ("last", Value::string("yesterday")),
            ]),
        );
        prior.set(
            "replica",
            Value::List(vec![replica("eu-west-1", Value::string("arn:1"))]),
        );
        let cfg = config(&[
            ("name", Value::string("db")),
            ("size", Value::int(10)),
            (
                "backup",
                obj(&[("days", Value::int(14)), ("last", Value::Null)]),
            ),
            (
                "replica",
                Value::List(vec![
                    replica("eu-west-1", Value::Null),
                    replica("us-east-1", Value::Null),
                ]),
            ),
        ]);
        let mut proposed = prior.clone();
        proposed.set(
            "backup",
            obj(&[
                ("days", Value::int(14)),
                ("last", Value::string("yesterday")),
            ]),
        );
        proposed.set(
            "replica",
            Value::List(vec![
                replica("eu-west-1", Value::string("arn:1")),
                replica("us-east-1", Value::Null),
            ]),
        );
        let planned = plan_with_schema(&schema(), &prior, &proposed, &cfg);
        assert_eq!(planned.get("backup").get("last"), &Value::Unknown);
        let replicas = planned.get("replica").as_elements().unwrap();
        assert_eq!(
            replicas[0].get("arn"),
            &Value::string("arn:1"),
            "use-state-for-unknown per element"
        );
        assert_eq!(
            replicas[1].get("arn"),
            &Value::Unknown,
            "new element has no prior value"
        );
        assert_eq!(
            requires_replace(&schema(), &prior, &planned),
            vec![AttributePath::attr("replica")
                .join_index(1)
                .join_attr("region")]
        );
    }

    #[test]
    fn set_blocks_match_elements_and_report_the_block() {
        let rule = |port: i64, id: Value| obj(&[("port", Value::int(port)), ("rule_id", id)]);
        let mut prior = prior_state();
        prior.set("rule", Value::Set(vec![rule(5432, Value::string("r1"))]));
        let cfg = config(&[
            ("name", Value::string("db")),
            ("size", Value::int(10)),
            (
                "rule",
                Value::Set(vec![rule(5432, Value::Null), rule(6432, Value::Null)]),
            ),
        ]);
        let mut proposed = prior.clone();
        proposed.set(
            "rule",
            Value::Set(vec![
                rule(5432, Value::string("r1")),
                rule(6432, Value::Null),
            ]),
        );
        let planned = plan_with_schema(&schema(), &prior, &proposed, &cfg);
        let rules = planned.get("rule").as_elements().unwrap();
        assert_eq!(rules.len(), 2);
        assert!(
            rules.iter().all(|r| r.get("rule_id") == &Value::Unknown),
            "{rules:?}"
        );

        let block = Block::new("s")
            .attribute(Attribute::required("name", Type::String, "n"))
            .block(
                "rule",
                Nesting::Set,
                Block::new("rule")
                    .attribute(Attribute::required("port", Type::Number, "p").requires_replace()),
            );
        let before = obj(&[
            ("name", Value::string("a")),
            ("rule", Value::Set(vec![obj(&[("port", Value::int(1))])])),
        ]);
        let after = obj(&[
            ("name", Value::string("a")),
            ("rule", Value::Set(vec![obj(&[("port", Value::int(2))])])),
        ]);
        assert_eq!(
            requires_replace(&block, &before, &after),
            vec![AttributePath::attr("rule")]
        );
        assert!(requires_replace(&block, &before, &before).is_empty());
    }

    #[test]
    fn schema_problems_are_reported() {
        assert!(
            schema_problems(&schema()).is_empty(),
            "{:?}",
            schema_problems(&schema())
        );
        let bad = Block::new("b")
            .attribute(
                Attribute::optional("x", Type::String, "x").default_value(Value::string("a")),
            )
            .attribute(Attribute::required("y", Type::String, ""));
        let p = schema_problems(&bad);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("x: a Default needs"), "{p:?}");
        assert_eq!(p[1], "y: missing description");
    }

    /// Property tests of Terraform's planning contract on a flat schema with every kind of attribute.
    mod props {
        use super::*;
        use proptest::prelude::*;

        fn flat_schema() -> Block {
            Block::new("flat")
                .attribute(Attribute::required("req", Type::String, "required").requires_replace())
                .attribute(Attribute::optional("opt", Type::String, "optional"))
                .attribute(Attribute::optional_computed(
                    "oc",
                    Type::String,
                    "optional+computed",
                ))
                .attribute(
                    Attribute::optional_computed(
                        "ocd",
                        Type::String,
                        "optional+computed with default",
                    )
                    .default_value(Value::string("dflt")),
                )
                .attribute(Attribute::computed("c", Type::String, "computed"))
                .attribute(
                    Attribute::computed("cu", Type::String, "computed, use state")
                        .use_state_for_unknown(),
                )
        }

        fn small_string() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                Just(Value::Unknown),
                "[ab]".prop_map(Value::String)
            ]
        }

        fn known_or_null() -> impl Strategy<Value = Value> {
            prop_oneof![Just(Value::Null), "[ab]".prop_map(Value::String)]
        }

        /// (config, prior): config sets only non-computed or optional attributes; prior is null or fully known.
        fn case() -> impl Strategy<Value = (Value, Value)> {
            let config = (
                "[ab]".prop_map(Value::String),
                small_string(),
                small_string(),
                small_string(),
            )
                .prop_map(|(req, opt, oc, ocd)| {
                    obj(&[
                        ("req", req),
                        ("opt", opt),
                        ("oc", oc),
                        ("ocd", ocd),
                        ("c", Value::Null),
                        ("cu", Value::Null),
                    ])
                });
            let prior = prop_oneof![
                1 => Just(Value::Null),
                3 => (
                    "[ab]".prop_map(Value::String),
                    known_or_null(),
                    known_or_null(),
                    known_or_null(),
                    known_or_null(),
                    known_or_null(),
                )
                    .prop_map(|(req, opt, oc, ocd, c, cu)| {
                        obj(&[("req", req), ("opt", opt), ("oc", oc), ("ocd", ocd), ("c", c), ("cu", cu)])
                    }),
            ];
            (config, prior)
        }

        /// Terraform's ProposedNewState: config, with computed attributes the config leaves null taken from prior.
        fn proposed(block: &Block, config: &Value, prior: &Value) -> Value {
            let mut p = config.clone();
            for a in block.attributes.iter().filter(|a| a.computed) {
                if config.get(&a.name).is_null() {
                    p.set(&a.name, prior.get(&a.name).clone());
                }
            }
            p
        }

        proptest! {
            #[test]
            fn plans_keep_terraforms_contract((config, prior) in case()) {
                let block = flat_schema();
                let proposed = proposed(&block, &config, &prior);
                let planned = plan_with_schema(&block, &prior, &proposed, &config);
                for a in &block.attributes {
                    let (c, p) = (config.get(&a.name), planned.get(&a.name));
                    // Terraform rejects a plan whose non-computed (or configured) values differ from config.
                    if !a.computed || !c.is_null() {
                        prop_assert_eq!(p, c, "{} must equal config", &a.name);
                    }
                }
                if prior.is_null() {
                    prop_assert_eq!(planned.get("c"), &Value::Unknown);
                    prop_assert_eq!(planned.get("cu"), &Value::Unknown);
                    prop_assert!(requires_replace(&block, &prior, &planned).is_empty());
                } else if planned == prior {
                    // A no-op plan: nothing unknown, nothing replaced.
                    prop_assert!(planned.is_wholly_known());
                    prop_assert!(requires_replace(&block, &prior, &planned).is_empty());
                } else {
                    prop_assert_eq!(planned.get("c"), &Value::Unknown);
                    let cu = if prior.get("cu").is_null() { Value::Unknown } else { prior.get("cu").clone() };
                    prop_assert_eq!(planned.get("cu"), &cu);
                    let replaced = requires_replace(&block, &prior, &planned);
                    prop_assert_eq!(!replaced.is_empty(), planned.get("req") != prior.get("req"));
                }
                if config.get("ocd").is_null() {
                    prop_assert_eq!(planned.get("ocd"), &Value::string("dflt"));
                }
                // Planning its own result again changes nothing (Terraform re-plans during apply).
                let again = plan_with_schema(&block, &prior, &planned, &config);
                prop_assert_eq!(again, planned);
            }
        }
    }
}
