//! Tests of schema-driven planning: defaults, unknown computed values, UseStateForUnknown, nested blocks and
//! RequiresReplace.

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
                .attribute(Attribute::required("region", Type::String, "region").requires_replace())
                .attribute(Attribute::computed("arn", Type::String, "arn").use_state_for_unknown()),
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
        .attribute(Attribute::optional("x", Type::String, "x").default_value(Value::string("a")))
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
                Attribute::optional_computed("ocd", Type::String, "optional+computed with default")
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
