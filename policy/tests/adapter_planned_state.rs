//! The provider adapter must give the rules the same input as the plan-JSON adapter for the same resource.

use std::collections::BTreeMap;

use policy::adapter::{from_provider, parse_plan, ProviderPlan};
use policy::model::{Action, Input, Kind};
use serde_json::{json, Value};

/// A dbplatform_database as the provider plans it (every schema attribute present, unknowns as null).
fn planned() -> Value {
    json!({
        "name": "orders", "engine": "postgres", "engine_version": "16.3", "tier": "tier-1",
        "instance_class": "db.m6g.large", "allocated_storage_gb": 100, "max_allocated_storage_gb": 500,
        "storage_type": "gp3", "db_name": "orders", "master_username": "orders_admin", "multi_az": true,
        "backup_retention_days": 14, "backup_window": "03:00-04:00", "maintenance_window": "sun:05:00-sun:06:00",
        "deletion_protection": true, "kms_key_id": null, "db_subnet_group_name": "data",
        "vpc_security_group_ids": ["sg-1"], "parameter_group_name": null, "iam_database_authentication": true,
        "performance_insights": true, "monitoring_interval_seconds": 30, "monitoring_role_arn": null,
        "log_exports": ["postgresql"], "tags": {"owner": "payments", "data_classification": "internal", "team": null},
        "apply_immediately": false, "skip_final_snapshot": false, "final_snapshot_identifier": "orders-final",
        "id": null, "arn": null, "endpoint": null, "port": null, "status": null, "master_user_secret_arn": null
    })
}

const UNKNOWN: &[&str] = &[
    "arn",
    "endpoint",
    "id",
    "kms_key_id",
    "master_user_secret_arn",
    "port",
    "status",
    "tags.team",
];

/// The same change as `terraform show -json` writes it: unknowns absent from `after`, `true` in `after_unknown`.
fn plan_json() -> Vec<u8> {
    let mut after = planned();
    let obj = after.as_object_mut().unwrap();
    for k in UNKNOWN {
        obj.remove(*k);
    }
    obj["tags"].as_object_mut().unwrap().remove("team");
    let mut au = serde_json::Map::new();
    for k in UNKNOWN.iter().filter(|k| !k.contains('.')) {
        au.insert(k.to_string(), Value::Bool(true));
    }
    au.insert("tags".into(), json!({"team": true}));
    au.insert("vpc_security_group_ids".into(), json!([false]));
    au.insert("log_exports".into(), json!([false]));
    let plan = json!({
        "format_version": "0.2", "terraform_version": "1.0.3",
        "planned_values": {"root_module": {"child_modules": [{"address": "module.app", "resources": []}]}},
        "resource_changes": [{
            "address": "module.app.dbplatform_database.orders", "module_address": "module.app", "mode": "managed",
            "type": "dbplatform_database", "name": "orders",
            "provider_name": "registry.terraform.io/dbplatform/dbplatform",
            "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": au,
                       "before_sensitive": false, "after_sensitive": {"tags": {}, "vpc_security_group_ids": [false], "log_exports": [false]}}
        }],
        "configuration": {
            "provider_config": {"dbplatform": {"name": "dbplatform", "expressions": {
                "backend": {"constant_value": "aws"},
                "default_tags": {"constant_value": {"cost_center": "cc-42", "owner": "platform"}}}}},
            "root_module": {"module_calls": {"app": {"source": "./app", "module": {"resources": [{
                "address": "dbplatform_database.orders", "mode": "managed", "type": "dbplatform_database", "name": "orders",
                "provider_config_key": "app:dbplatform", "expressions": {"tier": {"constant_value": "tier-1"}}, "schema_version": 0}]}}}}
        }
    });
    serde_json::to_vec(&plan).unwrap()
}

fn provider_plan() -> ProviderPlan {
    ProviderPlan {
        resource_type: "dbplatform_database".into(),
        address: Some("module.app.dbplatform_database.orders".into()),
        action: Action::Create,
        before: None,
        after: Some(planned()),
        unknown: UNKNOWN.iter().map(|s| s.to_string()).collect(),
        sensitive: vec![],
        backend: "aws".into(),
        default_tags: BTreeMap::from([
            ("cost_center".into(), "cc-42".into()),
            ("owner".into(), "platform".into()),
        ]),
        terraform_version: Some("1.0.3".into()),
    }
}

fn without_context(mut i: Input) -> Input {
    i.context.source = String::new();
    i.context.format_version = None;
    i
}

#[test]
fn provider_and_plan_json_give_the_same_input() {
    let from_plan = parse_plan(&plan_json(), "plan.json")
        .unwrap()
        .inputs
        .remove(0);
    let from_prov = from_provider(provider_plan());
    assert_eq!(from_plan.context.source, "plan");
    assert_eq!(from_prov.context.source, "provider");
    let (a, b) = (without_context(from_plan), without_context(from_prov));
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap(),
        "plan-JSON adapter and provider adapter disagree"
    );
    // And the input is the one the rules expect.
    assert_eq!(a.kind, Kind::Instance);
    assert_eq!(a.tier.as_deref(), Some("tier-1"));
    assert_eq!(
        a.tags.get("owner").map(String::as_str),
        Some("payments"),
        "resource tags win over default tags"
    );
    assert_eq!(a.tags.get("cost_center").map(String::as_str), Some("cc-42"));
    assert_eq!(a.paths["tier"], "tier");
    let s = a.settings.as_ref().unwrap();
    assert_eq!(s.storage_encrypted, Some(true));
    assert_eq!(s.copy_tags_to_snapshot, Some(true));
    assert_eq!(s.managed_master_password, Some(true));
    assert!(
        a.unknown.contains(&"settings.kms_key_id".to_string()),
        "{:?}",
        a.unknown
    );
    assert!(a
        .unknown
        .contains(&"settings.performance_insights_kms_key_id".to_string()));
    assert!(a.unknown.contains(&"tags.team".to_string()));
    assert!(a.after.as_ref().unwrap().get("endpoint").is_none());
    assert!(
        a.related.parameter_groups.is_empty(),
        "the golden path brings its own parameter group"
    );
}

#[test]
fn local_backend_is_not_encrypted_and_named_groups_are_not_visible() {
    let mut req = provider_plan();
    req.backend = "local".into();
    req.address = None;
    if let Some(a) = req.after.as_mut() {
        a["parameter_group_name"] = json!("custom-pg");
    }
    let i = from_provider(req);
    assert_eq!(i.backend, "local");
    assert_eq!(i.address, "dbplatform_database");
    assert_eq!(i.settings.as_ref().unwrap().storage_encrypted, Some(false));
    assert_eq!(i.related.parameter_groups.len(), 1);
    assert!(!i.related.parameter_groups[0].known);
    assert!(i.unknown.contains(&"related.parameter_groups".to_string()));
}

#[test]
fn provider_delete_uses_the_prior_state() {
    let mut req = provider_plan();
    req.action = Action::Delete;
    req.before = req.after.take();
    req.unknown.clear();
    req.sensitive = vec!["master_username".into()];
    let i = from_provider(req);
    assert!(i.settings.is_none());
    assert_eq!(
        i.settings_before.as_ref().unwrap().deletion_protection,
        Some(true)
    );
    assert_eq!(i.tier.as_deref(), Some("tier-1"));
    assert_eq!(
        i.before.as_ref().unwrap().to_value()["master_username"],
        Value::Null,
        "sensitive values are redacted"
    );
}

/// A REAL plan: `terraform show -json` of Terraform 1.0.3 with the dbplatform provider (local backend, a root
/// resource and a module `for_each` instance). The provider adapter, fed what the provider had at plan time,
/// must give the same inputs.
#[test]
fn real_terraform_plan_and_provider_agree() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans/dbplatform_local_tf1.0.3.json");
    let bytes = std::fs::read(&path).unwrap();
    let plan = parse_plan(&bytes, "dbplatform_local_tf1.0.3.json").unwrap();
    assert_eq!(plan.terraform_version.as_deref(), Some("1.0.3"));
    let addrs: Vec<&str> = plan.inputs.iter().map(|i| i.address.as_str()).collect();
    assert_eq!(
        addrs,
        vec![
            "dbplatform_database.app",
            "module.reports.dbplatform_database.db[\"eu\"]"
        ]
    );
    let raw: Value = serde_json::from_slice(&bytes).unwrap();
    for (n, input) in plan.inputs.iter().enumerate() {
        assert_eq!(input.backend, "local");
        assert_eq!(
            input.settings.as_ref().unwrap().storage_encrypted,
            Some(false)
        );
        assert_eq!(
            input.tags.get("managed_by").map(String::as_str),
            Some("terraform"),
            "default tags via tags_all"
        );
        let change = &raw["resource_changes"][n]["change"];
        let mut after = change["after"].clone();
        // At plan time the provider has not decided yet.
        after["policy_decision"] = Value::Null;
        let mut unknown = Vec::new();
        for (k, v) in change["after_unknown"].as_object().unwrap() {
            if v == &Value::Bool(true) {
                after[k] = Value::Null;
                unknown.push(k.clone());
            }
        }
        let req = ProviderPlan {
            resource_type: "dbplatform_database".into(),
            address: Some(input.address.clone()),
            action: Action::Create,
            before: None,
            after: Some(after),
            unknown,
            sensitive: vec![],
            backend: "local".into(),
            default_tags: BTreeMap::from([
                ("cost_center".into(), "cc-1234".into()),
                ("managed_by".into(), "terraform".into()),
            ]),
            terraform_version: Some("1.0.3".into()),
        };
        let from_prov = from_provider(req);
        assert_eq!(
            serde_json::to_value(without_context(from_prov)).unwrap(),
            serde_json::to_value(without_context(input.clone())).unwrap(),
            "{}",
            input.address
        );
    }
    assert!(
        plan.inputs[0]
            .after
            .as_ref()
            .unwrap()
            .get("policy_decision")
            .is_none(),
        "the provider's decision is not an input"
    );
    let eu = &plan.inputs[1];
    assert_eq!(
        (eu.module.as_str(), eu.index.clone()),
        ("module.reports", Some(json!("eu")))
    );
    assert_eq!(eu.tier.as_deref(), Some("tier-2"));
}
