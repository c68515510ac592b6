//! Disaster recovery through the plan-JSON adapter and the engine, as `dbpolicy check` sees it: the adapter
//! recognises read replicas (`aws_db_instance` with `replicate_source_db`, `dbplatform_replica`) and backup
//! replications (`aws_db_instance_automated_backups_replication`), lists them on the instance they copy with
//! their region (the `region` attribute, else the provider configuration's), and DBP-DR-001/002 decide on them.

use chrono::TimeZone;
use policy::adapter::parse_plan;
use policy::engine::{EngineOptions, PolicyEngine};
use policy::gate::{decide, GateRequest, Provenance, Source};
use policy::model::decision::Status;
use policy::model::Input;
use serde_json::{json, Value};

const KEY_EAST: &str = "arn:aws:kms:us-east-1:111122223333:key/east";
const KEY_WEST: &str = "arn:aws:kms:us-west-2:111122223333:key/west";

fn tags(tier: &str) -> Value {
    json!({"owner": "payments", "cost_center": "cc-1", "data_classification": "internal", "tier": tier})
}

/// A tier-0 PostgreSQL instance in us-east-1 that passes every other rule.
fn primary() -> Value {
    json!({
        "address": "aws_db_instance.primary", "mode": "managed", "type": "aws_db_instance", "name": "primary",
        "change": {"actions": ["create"], "before": null, "after": {
            "identifier": "primary", "engine": "postgres", "engine_version": "16", "instance_class": "db.r6g.large",
            "storage_encrypted": true, "kms_key_id": KEY_EAST, "multi_az": true, "backup_retention_period": 35,
            "backup_window": "01:00-01:30", "deletion_protection": true, "publicly_accessible": false,
            "iam_database_authentication_enabled": true, "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
            "performance_insights_enabled": true, "performance_insights_kms_key_id": KEY_EAST,
            "monitoring_interval": 15, "copy_tags_to_snapshot": true, "manage_master_user_password": true,
            "username": "orders_admin", "skip_final_snapshot": false, "final_snapshot_identifier": "primary-final",
            "tags": tags("tier-0")
        }, "after_unknown": {"arn": true}}
    })
}

/// A read replica of `primary` through the `aws.west` provider (us-west-2), encrypted with `kms_key_id`.
fn replica(kms_key_id: Option<&str>) -> Value {
    json!({
        "address": "aws_db_instance.dr", "mode": "managed", "type": "aws_db_instance", "name": "dr",
        "change": {"actions": ["create"], "before": null, "after": {
            "identifier": "dr", "instance_class": "db.r6g.large", "storage_encrypted": true, "kms_key_id": kms_key_id,
            "backup_retention_period": 0, "deletion_protection": true, "publicly_accessible": false,
            "performance_insights_enabled": true, "performance_insights_kms_key_id": KEY_WEST,
            "monitoring_interval": 15, "copy_tags_to_snapshot": true, "tags": tags("tier-0")
        }, "after_unknown": {"replicate_source_db": true, "arn": true}}
    })
}

fn backups_replication() -> Value {
    json!({
        "address": "aws_db_instance_automated_backups_replication.dr", "mode": "managed",
        "type": "aws_db_instance_automated_backups_replication", "name": "dr",
        "change": {"actions": ["create"], "before": null, "after": {"kms_key_id": KEY_WEST, "retention_period": 7},
            "after_unknown": {"source_db_instance_arn": true, "id": true}}
    })
}

fn config_resource(rtype: &str, name: &str, provider: &str, source_attr: Option<&str>) -> Value {
    let mut expressions = json!({});
    if let Some(attr) = source_attr {
        expressions[attr] =
            json!({"references": ["aws_db_instance.primary.arn", "aws_db_instance.primary"]});
    }
    json!({"address": format!("{rtype}.{name}"), "mode": "managed", "type": rtype, "name": name,
           "provider_config_key": provider, "expressions": expressions})
}

/// A plan of `changes` with the two AWS provider configurations (default us-east-1, `aws.west` us-west-2).
fn plan(changes: Vec<Value>, config: Vec<Value>) -> Vec<Input> {
    let p = json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                "aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-east-1"}}},
                "aws.west": {"name": "aws", "alias": "west", "expressions": {"region": {"constant_value": "us-west-2"}}}
            },
            "root_module": {"resources": config}
        }
    });
    parse_plan(&serde_json::to_vec(&p).unwrap(), "plan.json")
        .unwrap()
        .inputs
}

/// (rule, address) -> statuses of the default bundle's decision on `inputs`.
fn results(inputs: Vec<Input>) -> Vec<(String, String, Status, String)> {
    let pe = PolicyEngine::load(&EngineOptions::default()).unwrap();
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .unwrap();
    let d = decide(
        &pe,
        GateRequest::new(inputs, now, Provenance::new(Source::Cli, "test")),
        None,
    )
    .unwrap();
    d.results
        .iter()
        .map(|r| {
            (
                r.rule_id.to_string(),
                r.address.to_string(),
                r.status,
                r.message.clone(),
            )
        })
        .collect()
}

fn status(rs: &[(String, String, Status, String)], rule: &str, address: &str) -> Vec<Status> {
    rs.iter()
        .filter(|r| r.0 == rule && r.1 == address)
        .map(|r| r.2)
        .collect()
}

fn primary_config() -> Value {
    config_resource("aws_db_instance", "primary", "aws", None)
}

#[test]
fn tier0_instance_without_a_copy_in_another_region_fails_dr_001() {
    let rs = results(plan(vec![primary()], vec![primary_config()]));
    assert_eq!(
        status(&rs, "DBP-DR-001", "aws_db_instance.primary"),
        vec![Status::Fail]
    );
    let msg = &rs.iter().find(|r| r.0 == "DBP-DR-001").unwrap().3;
    assert!(
        msg.contains("tier-0, which must survive the loss of its region"),
        "{msg}"
    );
}

#[test]
fn a_replica_in_another_region_protects_its_source_and_needs_a_key_there() {
    let config = vec![
        primary_config(),
        config_resource(
            "aws_db_instance",
            "dr",
            "aws.west",
            Some("replicate_source_db"),
        ),
    ];
    let inputs = plan(vec![primary(), replica(Some(KEY_WEST))], config.clone());
    let primary_input = inputs
        .iter()
        .find(|i| i.address == "aws_db_instance.primary")
        .unwrap();
    assert_eq!(primary_input.related.replicas.len(), 1);
    assert_eq!(
        primary_input.related.replicas[0].region.as_deref(),
        Some("us-west-2")
    );
    let replica_input = inputs
        .iter()
        .find(|i| i.address == "aws_db_instance.dr")
        .unwrap();
    assert_eq!(replica_input.kind, policy::model::Kind::Replica);
    assert_eq!(
        replica_input
            .related
            .source
            .as_ref()
            .and_then(|s| s.region.as_deref()),
        Some("us-east-1")
    );
    let rs = results(inputs);
    assert_eq!(
        status(&rs, "DBP-DR-001", "aws_db_instance.primary"),
        vec![Status::Pass]
    );
    assert_eq!(
        status(&rs, "DBP-DR-002", "aws_db_instance.dr"),
        vec![Status::Pass]
    );
    // A replica keeps no backups of its own (AWS's default for replicas): the backup rules do not ask it to.
    assert!(status(&rs, "DBP-BAK-001", "aws_db_instance.dr").is_empty());
    assert_eq!(
        status(&rs, "DBP-BAK-001", "aws_db_instance.primary"),
        vec![Status::Pass]
    );

    // The same replica with the source's key (a us-east-1 key in us-west-2), or none: refused.
    for key in [Some(KEY_EAST), None] {
        let rs = results(plan(vec![primary(), replica(key)], config.clone()));
        assert_eq!(
            status(&rs, "DBP-DR-002", "aws_db_instance.dr"),
            vec![Status::Fail],
            "{key:?}"
        );
    }
}

#[test]
fn automated_backups_replicated_to_another_region_protect_the_instance() {
    let config = vec![
        primary_config(),
        config_resource(
            "aws_db_instance_automated_backups_replication",
            "dr",
            "aws.west",
            Some("source_db_instance_arn"),
        ),
    ];
    let inputs = plan(vec![primary(), backups_replication()], config);
    let p = inputs
        .iter()
        .find(|i| i.address == "aws_db_instance.primary")
        .unwrap();
    assert_eq!(
        p.related.backup_replications[0].region.as_deref(),
        Some("us-west-2")
    );
    let rs = results(inputs);
    assert_eq!(
        status(&rs, "DBP-DR-001", "aws_db_instance.primary"),
        vec![Status::Pass]
    );
    // The backup replication is read, not checked: no rule applies to it.
    assert!(rs
        .iter()
        .all(|r| r.1 != "aws_db_instance_automated_backups_replication.dr"));
}

/// A `dbplatform_database` and a `dbplatform_replica` of it with the attribute names of the provider.
fn dbplatform(backup_region: Value, replica_region: Value, replica_key: Value) -> Vec<Input> {
    let db = json!({
        "address": "dbplatform_database.db", "mode": "managed", "type": "dbplatform_database", "name": "db",
        "change": {"actions": ["create"], "before": null, "after": {
            "name": "orders", "engine": "postgres", "tier": "tier-0", "backend": "aws", "region": "us-east-1",
            "backup_replication_region": backup_region, "backup_replication_kms_key_id": KEY_WEST,
            "tags": tags("tier-0")
        }, "after_unknown": {"id": true}}
    });
    let rep = json!({
        "address": "dbplatform_replica.r", "mode": "managed", "type": "dbplatform_replica", "name": "r",
        "change": {"actions": ["create"], "before": null, "after": {
            "name": "orders-r", "region": replica_region, "kms_key_id": replica_key, "deletion_protection": true,
            "tags": {"owner": "payments", "cost_center": "cc-1", "data_classification": "internal"}
        }, "after_unknown": {"id": true, "source_database_id": true, "replication_lag_seconds": true}}
    });
    let dbplatform_cfg =
        json!({"name": "dbplatform", "expressions": {"backend": {"constant_value": "aws"}}});
    let p = json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": [db, rep],
        "configuration": {
            "provider_config": {"dbplatform": dbplatform_cfg},
            "root_module": {"resources": [
                {"address": "dbplatform_database.db", "mode": "managed", "type": "dbplatform_database", "name": "db",
                 "provider_config_key": "dbplatform", "expressions": {}},
                {"address": "dbplatform_replica.r", "mode": "managed", "type": "dbplatform_replica", "name": "r",
                 "provider_config_key": "dbplatform",
                 "expressions": {"source_database_id": {"references": ["dbplatform_database.db.id", "dbplatform_database.db"]}}}
            ]}
        }
    });
    parse_plan(&serde_json::to_vec(&p).unwrap(), "plan.json")
        .unwrap()
        .inputs
}

#[test]
fn dbplatform_replica_is_a_replica_of_its_database_and_holds_its_tier() {
    let inputs = dbplatform(
        json!("us-west-2"),
        json!("eu-west-1"),
        json!("arn:aws:kms:eu-west-1:111122223333:key/r"),
    );
    let r = inputs
        .iter()
        .find(|i| i.address == "dbplatform_replica.r")
        .unwrap();
    assert_eq!(r.kind, policy::model::Kind::Replica);
    assert_eq!(
        r.tier.as_deref(),
        Some("tier-0"),
        "a replica is held to its source's tier"
    );
    assert_eq!(
        r.related.source.as_ref().map(|s| s.address.as_str()),
        Some("dbplatform_database.db")
    );
    let rs = results(inputs);
    assert_eq!(
        status(&rs, "DBP-DR-001", "dbplatform_database.db"),
        vec![Status::Pass]
    );
    assert_eq!(
        status(&rs, "DBP-DR-002", "dbplatform_database.db"),
        vec![Status::Pass]
    );
    assert_eq!(
        status(&rs, "DBP-DR-002", "dbplatform_replica.r"),
        vec![Status::Pass]
    );
    assert_eq!(
        status(&rs, "DBP-ENC-004", "dbplatform_replica.r"),
        vec![Status::Pass]
    );
    assert_eq!(
        status(&rs, "DBP-TIER-002", "dbplatform_replica.r"),
        vec![Status::Pass]
    );

    // No backup replication, but a replica in another region: protected in a whole-plan check.
    let rs = results(dbplatform(
        json!(""),
        json!("eu-west-1"),
        json!("arn:aws:kms:eu-west-1:111122223333:key/r"),
    ));
    assert_eq!(
        status(&rs, "DBP-DR-001", "dbplatform_database.db"),
        vec![Status::Pass]
    );
    // ... but not by a replica in its own region; and a cross-region replica without a key there is refused.
    let rs = results(dbplatform(json!(""), Value::Null, Value::Null));
    assert_eq!(
        status(&rs, "DBP-DR-001", "dbplatform_database.db"),
        vec![Status::Fail]
    );
    let rs = results(dbplatform(
        json!("us-west-2"),
        json!("eu-west-1"),
        Value::Null,
    ));
    assert_eq!(
        status(&rs, "DBP-DR-002", "dbplatform_replica.r"),
        vec![Status::Fail]
    );
}

/// A `dbplatform_replica` without an instance class of its own gets its source's from the provider, so a
/// whole-plan check decides DBP-CLS-001 on the source's class instead of calling it unknown; when the source's
/// class is itself unknown until apply, so is the replica's.
#[test]
fn dbplatform_replica_without_a_class_is_checked_with_its_sources() {
    let mut inputs = dbplatform(json!("us-west-2"), Value::Null, Value::Null);
    let class_of = |inputs: &[Input]| {
        let r = inputs
            .iter()
            .find(|i| i.address == "dbplatform_replica.r")
            .unwrap();
        (
            r.settings.as_ref().and_then(|s| s.instance_class.clone()),
            r.unknown.iter().any(|u| u == "settings.instance_class"),
        )
    };
    // The helper's database has no class in the plan (unknown to the adapter): the replica's stays unknown.
    assert_eq!(class_of(&inputs).0.flatten(), None);

    let with_class = |class: Value| {
        let db = json!({
            "address": "dbplatform_database.db", "mode": "managed", "type": "dbplatform_database", "name": "db",
            "change": {"actions": ["create"], "before": null, "after": {
                "name": "orders", "engine": "postgres", "tier": "tier-2", "backend": "local",
                "instance_class": class, "tags": tags("tier-2")
            }, "after_unknown": {"id": true, "instance_class": class.is_null()}}
        });
        let rep = json!({
            "address": "dbplatform_replica.r", "mode": "managed", "type": "dbplatform_replica", "name": "r",
            "change": {"actions": ["create"], "before": null, "after": {
                "name": "orders-r", "deletion_protection": false, "tags": tags("tier-2")
            }, "after_unknown": {"id": true, "source_database_id": true, "instance_class": true}}
        });
        let p = json!({
            "format_version": "1.2", "terraform_version": "1.11.4",
            "resource_changes": [db, rep],
            "configuration": {"root_module": {"resources": [
                {"address": "dbplatform_database.db", "mode": "managed", "type": "dbplatform_database", "name": "db",
                 "expressions": {}},
                {"address": "dbplatform_replica.r", "mode": "managed", "type": "dbplatform_replica", "name": "r",
                 "expressions": {"source_database_id": {"references": ["dbplatform_database.db.id", "dbplatform_database.db"]}}}
            ]}}
        });
        parse_plan(&serde_json::to_vec(&p).unwrap(), "plan.json")
            .unwrap()
            .inputs
    };
    inputs = with_class(json!("db.t4g.medium"));
    assert_eq!(
        class_of(&inputs),
        (Some(Some("db.t4g.medium".to_string())), false),
        "the source's class, no longer unknown"
    );
    let rs = results(inputs);
    assert_eq!(
        status(&rs, "DBP-CLS-001", "dbplatform_replica.r"),
        vec![Status::Pass]
    );

    let inputs = with_class(Value::Null);
    assert!(class_of(&inputs).1, "unknown like its source's");
    let rs = results(inputs);
    assert_eq!(
        status(&rs, "DBP-CLS-001", "dbplatform_replica.r"),
        vec![Status::Unknown]
    );
}

#[test]
fn the_tier_catalogue_schema_documents_the_dr_fields() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dbpolicy"))
        .args(["schema", "tiers"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tier = &schema["$defs"]["Tier"]["properties"];
    for field in [
        "cross_region_dr",
        "dr_region",
        "replica_lag_objective_seconds",
        "max_break_glass_hours",
    ] {
        assert!(
            tier[field]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{field}: {}",
            tier[field]
        );
    }
}
