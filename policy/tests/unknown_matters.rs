//! Unknown only when it matters: for every rule of the default bundle, one input where an unknown value cannot
//! change the outcome (the result is `pass`) and one where it can (the result is `unknown`). The engine asks a
//! rule about unknowns only when the rule's `not_applicable` does not already settle it on the known values (see
//! docs/guides/policy-authoring.md, "Unknown values").

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::TimeZone;
use policy::engine::{EngineOptions, PolicyEngine};
use policy::gate::{decide, GateRequest, Provenance, Source};
use policy::model::decision::Decision;
use policy::model::decision::Status;
use policy::model::Input;
use serde_json::{json, Value};

/// A tier-1 PostgreSQL `aws_db_instance` on which every rule passes (the Rego fixture `testlib.instance`).
fn base() -> Value {
    json!({
        "schema": "dbplatform.input/v1",
        "address": "aws_db_instance.orders",
        "module": "",
        "type": "aws_db_instance",
        "name": "orders",
        "index": null,
        "kind": "instance",
        "action": "create",
        "backend": "aws",
        "engine": "postgres",
        "engine_major": "16",
        "tier": "tier-1",
        "tags": {"owner": "payments", "cost_center": "cc-42", "data_classification": "confidential", "tier": "tier-1"},
        "settings": {
            "storage_encrypted": true,
            "kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "multi_az": true,
            "backup_retention_days": 14,
            "backup_window": "03:00-04:00",
            "deletion_protection": true,
            "publicly_accessible": false,
            "iam_database_authentication": true,
            "log_exports": ["postgresql", "upgrade"],
            "performance_insights": true,
            "performance_insights_kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "monitoring_interval_seconds": 15,
            "auto_minor_version_upgrade": true,
            "copy_tags_to_snapshot": true,
            "managed_master_password": true,
            "plaintext_password_set": false,
            "master_username": "orders_admin",
            "instance_class": "db.r6g.large",
            "parameter_group_name": "orders-pg",
            "skip_final_snapshot": false,
            "final_snapshot_identifier": "orders-final"
        },
        "settings_before": null,
        "before": null,
        "after": {},
        "unknown": [],
        "sensitive": [],
        "paths": {"backup_retention_days": "backup_retention_period"},
        "related": {
            "parameter_groups": [{"address": "aws_db_parameter_group.pg", "name": "orders-pg", "parameters": {"rds.force_ssl": "1"}, "known": true}],
            "source": null
        },
        "context": {"source": "plan", "terraform_version": "1.0.3", "format_version": "0.2"}
    })
}

/// One change to the base input.
#[derive(Clone, Copy)]
enum P {
    /// `settings.X`, `tags.K`, `tier`, `engine`, `engine_major` or `related.*` is unknown until apply.
    Unknown(&'static str),
    /// A top-level field or `settings.X` / `tags.K` set to a value.
    Set(&'static str, &'static str),
}
use P::{Set, Unknown};

fn apply(mut v: Value, patch: &[P]) -> Input {
    for p in patch {
        match *p {
            Unknown(path) => {
                match path.split_once('.') {
                    Some(("settings", k)) | Some(("tags", k)) => {
                        let top = path.split('.').next().unwrap_or_default();
                        v[top].as_object_mut().unwrap().remove(k);
                    }
                    Some(("related", "parameter_groups")) => {
                        v["related"]["parameter_groups"] = json!([{"address": null, "name": "orders-pg", "parameters": {}, "known": false}]);
                    }
                    Some(("related", "source.storage_encrypted")) => {
                        v["related"]["source"] = json!({"address": "aws_db_instance.primary", "storage_encrypted": null, "kms_key_id": null});
                    }
                    None => v[path] = Value::Null,
                    _ => panic!("no such unknown path in this table: {path}"),
                }
                v["unknown"].as_array_mut().unwrap().push(json!(path));
            }
            Set(path, value) => {
                let value: Value = serde_json::from_str(value).unwrap_or_else(|_| json!(value));
                match path.split_once('.') {
                    Some((top, k)) => v[top][k] = value,
                    None => v[path] = value,
                }
            }
        }
    }
    serde_json::from_value(v).expect("a valid input")
}

/// (rule, an unknown that cannot matter -> pass, an unknown that matters -> unknown)
const TABLE: &[(&str, &[P], &[P])] = &[
    (
        "DBP-ACC-001",
        &[
            Set("kind", "break_glass"),
            Set("type", "dbplatform_break_glass"),
            Set(
                "after",
                r#"{"ttl": "1h", "ttl_seconds": 3600, "reason": "INC", "ticket": "T-1", "approved_by": "bob", "active": true}"#,
            ),
            Unknown("tier"),
        ],
        &[
            Set("kind", "break_glass"),
            Set("type", "dbplatform_break_glass"),
            Set(
                "after",
                r#"{"ttl": "6h", "ttl_seconds": 21600, "reason": "INC", "ticket": "T-1", "approved_by": "bob", "active": true}"#,
            ),
            Unknown("tier"),
        ],
    ),
    (
        "DBP-ACC-002",
        &[
            Set("kind", "break_glass"),
            Set("type", "dbplatform_break_glass"),
            Set("after", r#"{"role_name": "orders_x", "active": false}"#),
            Set("unknown", r#"["role_template"]"#),
        ],
        &[
            Set("kind", "break_glass"),
            Set("type", "dbplatform_break_glass"),
            Set("after", r#"{"role_name": "orders_x", "active": true}"#),
            Set("unknown", r#"["role_template"]"#),
        ],
    ),
    (
        "DBP-ACC-003",
        &[
            Set("kind", "role"),
            Set("type", "dbplatform_role"),
            Set("after", r#"{"template": "readonly"}"#),
            Set("unknown", r#"["superuser"]"#),
        ],
        &[
            Set("kind", "role"),
            Set("type", "postgresql_role"),
            Set("after", r#"{"name": "app"}"#),
            Set("unknown", r#"["superuser"]"#),
        ],
    ),
    (
        "DBP-ACC-004",
        &[Set("kind", "role"), Unknown("tier")],
        &[
            Set("kind", "role"),
            Unknown("settings.plaintext_password_set"),
        ],
    ),
    (
        "DBP-ACC-005",
        &[
            Set("type", "dbplatform_database"),
            Set("settings.master_password_rotation_days", "30"),
            Unknown("tier"),
        ],
        &[
            Set("type", "dbplatform_database"),
            Unknown("settings.master_password_rotation_days"),
        ],
    ),
    (
        "DBP-BAK-001",
        &[Unknown("tier"), Set("settings.backup_retention_days", "35")],
        &[Unknown("settings.backup_retention_days")],
    ),
    (
        "DBP-BAK-002",
        &[Set("tier", "tier-3"), Unknown("settings.backup_window")],
        &[Unknown("settings.backup_window")],
    ),
    (
        "DBP-CLS-001",
        &[Set("tier", "tier-9"), Unknown("settings.instance_class")],
        &[Unknown("settings.instance_class")],
    ),
    (
        "DBP-DEL-001",
        &[
            Set("tier", "tier-3"),
            Unknown("settings.deletion_protection"),
        ],
        &[Unknown("settings.deletion_protection")],
    ),
    (
        "DBP-DEL-002",
        &[Unknown("settings.final_snapshot_identifier")],
        &[
            Set("settings.skip_final_snapshot", "true"),
            Unknown("settings.final_snapshot_identifier"),
        ],
    ),
    (
        "DBP-DEL-003",
        &[
            Set("action", "replace"),
            Set("tier", "tier-2"),
            Unknown("settings.kms_key_id"),
        ],
        &[Set("action", "replace"), Unknown("tier")],
    ),
    (
        "DBP-ENC-001",
        &[Unknown("settings.kms_key_id")],
        &[Unknown("settings.storage_encrypted")],
    ),
    (
        "DBP-ENC-002",
        &[Set("tier", "tier-3"), Unknown("settings.kms_key_id")],
        &[Unknown("settings.kms_key_id")],
    ),
    (
        "DBP-ENC-003",
        &[
            Set("engine", "sqlserver-ee"),
            Unknown("related.parameter_groups"),
        ],
        &[Unknown("related.parameter_groups")],
    ),
    (
        "DBP-ENC-005",
        &[
            Set("kind", "parameter_group"),
            Set(
                "settings.parameters",
                r#"{"rds.force_ssl": "1", "ssl_min_protocol_version": "TLSv1.2"}"#,
            ),
            Unknown("tier"),
        ],
        &[
            Set("kind", "parameter_group"),
            Unknown("settings.parameters"),
        ],
    ),
    (
        "DBP-ENC-004",
        &[Set("kind", "replica"), Unknown("settings.kms_key_id")],
        &[
            Set("kind", "replica"),
            Unknown("related.source.storage_encrypted"),
        ],
    ),
    (
        "DBP-DR-001",
        &[Unknown("settings.region")],
        &[
            Set("tier", "tier-0"),
            Set("type", "dbplatform_database"),
            Unknown("settings.backup_replication_region"),
        ],
    ),
    (
        "DBP-DR-002",
        &[
            Set("type", "dbplatform_database"),
            Set("settings.backup_replication_region", ""),
            Unknown("settings.backup_replication_kms_key_id"),
        ],
        &[
            Set("type", "dbplatform_database"),
            Set("settings.backup_replication_region", "us-west-2"),
            Unknown("settings.backup_replication_kms_key_id"),
        ],
    ),
    (
        "DBP-DR-003",
        &[Set("kind", "replica"), Unknown("tier")],
        &[
            Set("kind", "replica"),
            Set("before", r#"{"replication_lag_seconds": 120}"#),
            Unknown("tier"),
        ],
    ),
    (
        "DBP-HA-001",
        &[Set("tier", "tier-3"), Unknown("settings.multi_az")],
        &[Unknown("settings.multi_az")],
    ),
    (
        "DBP-IAM-001",
        &[Unknown("settings.copy_tags_to_snapshot")],
        &[Unknown("settings.iam_database_authentication")],
    ),
    (
        "DBP-LOG-001",
        &[
            Set("engine", "sqlserver-ee"),
            Unknown("settings.log_exports"),
        ],
        &[Unknown("settings.log_exports")],
    ),
    (
        "DBP-MNT-001",
        &[Unknown("settings.iam_database_authentication")],
        &[Unknown("settings.auto_minor_version_upgrade")],
    ),
    (
        "DBP-MON-001",
        &[
            Set("tier", "tier-3"),
            Unknown("settings.performance_insights"),
        ],
        &[Unknown("settings.performance_insights")],
    ),
    (
        "DBP-MON-002",
        &[
            Set("settings.performance_insights", "false"),
            Unknown("settings.performance_insights_kms_key_id"),
        ],
        &[Unknown("settings.performance_insights_kms_key_id")],
    ),
    (
        "DBP-MON-003",
        &[
            Set("tier", "tier-3"),
            Unknown("settings.monitoring_interval_seconds"),
        ],
        &[Unknown("settings.monitoring_interval_seconds")],
    ),
    (
        "DBP-NET-001",
        &[Unknown("settings.iam_database_authentication")],
        &[Unknown("settings.publicly_accessible")],
    ),
    (
        "DBP-SEC-001",
        &[Unknown("settings.iam_database_authentication")],
        &[Unknown("settings.managed_master_password")],
    ),
    (
        "DBP-SEC-002",
        &[Unknown("settings.iam_database_authentication")],
        &[Unknown("settings.master_username")],
    ),
    (
        "DBP-TAG-001",
        &[Unknown("tags.tier")],
        &[Unknown("tags.owner")],
    ),
    (
        "DBP-TAG-002",
        &[Unknown("tags.owner")],
        &[Unknown("tags.data_classification")],
    ),
    (
        "DBP-TAG-003",
        &[Unknown("tags.owner")],
        &[Unknown("tags.tier")],
    ),
    (
        "DBP-TAG-005",
        &[Unknown("settings.iam_database_authentication")],
        &[Unknown("settings.copy_tags_to_snapshot")],
    ),
    (
        "DBP-TIER-001",
        &[Unknown("tier")],
        &[Set("backend", "local"), Unknown("tier")],
    ),
    (
        "DBP-TIER-002",
        &[Unknown("settings.kms_key_id")],
        &[Unknown("tier")],
    ),
    (
        "DBP-VER-001",
        &[Set("engine", "sqlserver-ee"), Unknown("engine_major")],
        &[Unknown("engine_major")],
    ),
];

fn engine() -> PolicyEngine {
    PolicyEngine::load(&EngineOptions::default()).expect("the default bundle loads")
}

/// The decision of the gate (as `dbpolicy check` makes it) on `inputs`.
fn decision(pe: &PolicyEngine, inputs: Vec<Input>) -> Decision {
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .unwrap();
    let request = GateRequest::new(inputs, now, Provenance::new(Source::Cli, "test"));
    decide(pe, request, None).expect("a decision")
}

/// The statuses `rule` gives `input` (one per result).
fn statuses(pe: &PolicyEngine, input: &Input, rule: &str) -> Vec<(Status, String)> {
    let d = decision(pe, vec![input.clone()]);
    d.results
        .iter()
        .filter(|r| &*r.rule_id == rule)
        .map(|r| (r.status, r.message.clone()))
        .collect()
}

#[test]
fn the_table_covers_every_rule() {
    let pe = engine();
    // Migration rules (DBP-MIG-*) judge SQL, which has no values unknown until apply.
    let ids: BTreeSet<&str> = pe
        .rules()
        .iter()
        .filter(|r| r.applies_to != ["migration"])
        .map(|r| r.id.as_str())
        .collect();
    let table: BTreeSet<&str> = TABLE.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(
        ids, table,
        "every rule needs a row: an unknown that cannot matter and one that does"
    );
}

#[test]
fn every_rule_is_unknown_only_when_the_unknown_matters() {
    let pe = engine();
    let mut wrong = Vec::new();
    for (rule, cannot_matter, matters) in TABLE {
        let got = statuses(&pe, &apply(base(), cannot_matter), rule);
        if got.iter().map(|(s, _)| *s).collect::<Vec<_>>() != vec![Status::Pass] {
            wrong.push(format!("{rule}: cannot matter -> want [pass], got {got:?}"));
        }
        let got = statuses(&pe, &apply(base(), matters), rule);
        if got.is_empty() || got.iter().any(|(s, _)| *s != Status::Unknown) {
            wrong.push(format!("{rule}: matters -> want unknown, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn plan_inputs(tier: &str) -> Vec<Input> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/unknowns_tier.json");
    let text = std::fs::read_to_string(&p).unwrap().replace("TIER", tier);
    policy::adapter::parse_plan(text.as_bytes(), "unknowns_tier.json")
        .unwrap()
        .inputs
}

/// The issue's case: a tier-3 instance whose CMK key, Multi-AZ, Performance Insights key and backup window are
/// unknown until apply passes those four rules (tier-3 needs none of them); as tier-1 the key matters.
#[test]
fn a_tier_3_plan_with_unknowns_tier_3_does_not_need_passes() {
    let pe = engine();
    let four = ["DBP-ENC-002", "DBP-HA-001", "DBP-MON-002", "DBP-BAK-002"];
    let inputs = plan_inputs("tier-3");
    let d = decision(&pe, inputs);
    for id in four {
        let rs: Vec<_> = d.results.iter().filter(|r| &*r.rule_id == id).collect();
        assert_eq!(rs.len(), 1, "{id}: {rs:?}");
        assert_eq!(rs[0].status, Status::Pass, "{id}: {}", rs[0].message);
    }
    let inputs = plan_inputs("tier-1");
    let d = decision(&pe, inputs);
    let enc = d
        .results
        .iter()
        .find(|r| &*r.rule_id == "DBP-ENC-002")
        .unwrap();
    assert_eq!(enc.status, Status::Unknown, "{}", enc.message);
    assert_eq!(enc.path, "kms_key_id");
}
