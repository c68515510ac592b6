//! From plan JSON through the adapter to the default rules: what a user's plan actually trips.
//! (Rules are queried directly here; METADATA filtering, unknowns and exceptions are the engine's job.)

use std::collections::BTreeSet;
use std::path::PathBuf;

use policy::adapter::parse_plan;
use policy::bundle::default_files;
use policy::model::{Input, TierCatalogue};

fn engine() -> (regorus::Engine, Vec<String>) {
    let mut e = regorus::Engine::new();
    let mut packages = Vec::new();
    for f in default_files().iter().filter(|f| !f.is_test()) {
        e.add_policy(f.path.to_string(), f.content.to_string())
            .unwrap();
        let name = f
            .path
            .trim_start_matches("rules/")
            .trim_end_matches(".rego");
        packages.push(name.to_string());
    }
    let data = serde_json::json!({"dbplatform": {"tiers": TierCatalogue::embedded().to_json()}});
    e.add_data(regorus::Value::from(data)).unwrap();
    (e, packages)
}

/// `package:path` of every violation the rules report for one input.
fn violations(input: &Input) -> BTreeSet<String> {
    let (mut e, packages) = engine();
    e.set_input(regorus::Value::from(input.to_json()));
    let mut out = BTreeSet::new();
    for p in packages {
        let v = e
            .eval_rule(format!("data.dbplatform.rules.{p}.violation"))
            .unwrap();
        if let Ok(set) = v.as_set() {
            for item in set.iter() {
                let path = item["path"]
                    .as_string()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                out.insert(format!("{p}:{path}"));
            }
        }
    }
    out
}

fn mixed() -> Vec<Input> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/mixed_0.2.json");
    parse_plan(&std::fs::read(&p).unwrap(), "mixed_0.2.json")
        .unwrap()
        .inputs
}

#[test]
fn a_golden_path_instance_trips_no_rule() {
    let inputs = mixed();
    let orders = inputs
        .iter()
        .find(|i| i.address == "aws_db_instance.orders")
        .unwrap();
    assert_eq!(violations(orders), BTreeSet::new());
}

#[test]
fn a_careless_instance_trips_the_rules_it_should() {
    let inputs = mixed();
    let shop = inputs
        .iter()
        .find(|i| i.address == "aws_db_instance.shop")
        .unwrap();
    let got = violations(shop);
    let want: BTreeSet<String> = [
        "tls_enforced:parameter_group_name",
        "default_master_username:master_username",
        "managed_master_password:plaintext_password_set",
        "required_tags:tags.data_classification",
        "instance_class_allowed:instance_class",
        "log_exports:log_exports",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
}

#[test]
fn destroying_a_critical_unencrypted_database_is_flagged() {
    let inputs = mixed();
    let legacy = inputs
        .iter()
        .find(|i| i.address == "aws_db_instance.legacy[0]")
        .unwrap();
    let got = violations(legacy);
    assert!(got.contains("destroy_requires_override:tier"), "{got:?}");
    assert!(
        got.contains("final_snapshot:skip_final_snapshot"),
        "{got:?}"
    );
}

#[test]
fn the_real_golden_path_plan_trips_no_rule() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans/dbplatform_local_tf1.0.3.json");
    let inputs = parse_plan(&std::fs::read(&p).unwrap(), "real")
        .unwrap()
        .inputs;
    assert_eq!(inputs.len(), 2);
    for i in &inputs {
        assert_eq!(violations(i), BTreeSet::new(), "{}", i.address);
    }
    // The same database declared tier-1 on the local backend is refused.
    let mut t1 = inputs[0].clone();
    t1.tier = Some("tier-1".into());
    assert!(violations(&t1).contains("tier_backend_allowed:tier"));
}
