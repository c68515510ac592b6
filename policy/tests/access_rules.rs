//! Access guardrails through the plan-JSON adapter and the gate, as `dbpolicy check` sees them: the adapter maps
//! `dbplatform_break_glass` (held to its database's tier, also when that database is created in the same plan),
//! `dbplatform_role`, and the community provider's `postgresql_role`, `postgresql_grant_role` and
//! `postgresql_grant`; DBP-ACC-001..004 decide on them, and a soft-mandatory DBP-ACC-002 yields to a recorded
//! override.

use chrono::TimeZone;
use policy::adapter::parse_plan;
use policy::audit::AuditConfig;
use policy::engine::{EngineOptions, PolicyEngine};
use policy::gate::{decide, DecisionSink, GateRequest, Provenance, RequestedOverride, Source};
use policy::model::decision::{Override, Status};
use policy::model::{Input, Kind};
use serde_json::{json, Value};

fn change(rtype: &str, name: &str, after: Value, after_unknown: Value) -> Value {
    json!({"address": format!("{rtype}.{name}"), "mode": "managed", "type": rtype, "name": name,
           "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": after_unknown}})
}

/// A local tier-2 database created in this plan (its id unknown until apply).
fn database() -> Value {
    change(
        "dbplatform_database",
        "db",
        json!({"name": "orders", "tier": "tier-2", "backend": "local", "engine": "postgres",
               "tags": {"owner": "o", "cost_center": "c", "data_classification": "internal"}}),
        json!({"id": true}),
    )
}

/// A break-glass grant of `db`; the provider could read neither the database's tier nor the role's template
/// (both made in the same apply), so both are unknown.
fn break_glass(name: &str, after: Value) -> Value {
    let mut a = json!({"person": "alice@example.com", "ttl": "4h", "ttl_seconds": 14400,
                       "reason": "INC-42", "ticket": "INC-42", "approved_by": "bob@example.com", "active": true,
                       "role_template": "readwrite", "role_name": "orders_rw"});
    if let (Some(m), Value::Object(patch)) = (a.as_object_mut(), after) {
        m.extend(patch);
    }
    change(
        "dbplatform_break_glass",
        name,
        a,
        json!({"database_id": true, "tier": true, "id": true}),
    )
}

fn config(resources: &[(&str, &str)]) -> Value {
    let rs: Vec<Value> = resources
        .iter()
        .map(|(t, n)| {
            let mut expressions = json!({});
            if *t == "dbplatform_break_glass" {
                expressions["database_id"] = json!({"references": ["dbplatform_database.db.id", "dbplatform_database.db"]});
            }
            json!({"address": format!("{t}.{n}"), "mode": "managed", "type": t, "name": n, "expressions": expressions})
        })
        .collect();
    json!({"root_module": {"resources": rs}})
}

fn plan(changes: Vec<Value>, cfg: Value) -> Vec<Input> {
    let p = json!({"format_version": "1.2", "terraform_version": "1.9.8",
                   "resource_changes": changes, "configuration": cfg});
    parse_plan(&serde_json::to_vec(&p).unwrap(), "plan.json")
        .unwrap()
        .inputs
}

type Row = (String, String, Status, String);

fn results_with(inputs: Vec<Input>, overrides: Vec<RequestedOverride>) -> Vec<Row> {
    let pe = PolicyEngine::load(&EngineOptions::default()).unwrap();
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .unwrap();
    let mut req = GateRequest::new(inputs, now, Provenance::new(Source::Cli, "test"));
    req.overrides = overrides;
    // Overrides must be on record: they go to an audit log, as in the CLI.
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditConfig::at(dir.path().join("audit.jsonl"));
    let d = decide(&pe, req, Some(&audit as &dyn DecisionSink)).unwrap();
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

fn results(inputs: Vec<Input>) -> Vec<Row> {
    results_with(inputs, vec![])
}

fn find<'a>(rs: &'a [Row], rule: &str, address: &str) -> Vec<&'a Row> {
    rs.iter()
        .filter(|r| r.0 == rule && r.1 == address)
        .collect()
}

#[test]
fn break_glass_takes_its_databases_tier_and_is_bounded_by_it() {
    let inputs = plan(
        vec![
            database(),
            break_glass("ok", json!({})),
            break_glass("long", json!({"ttl": "30h", "ttl_seconds": 108000})),
        ],
        config(&[
            ("dbplatform_database", "db"),
            ("dbplatform_break_glass", "ok"),
            ("dbplatform_break_glass", "long"),
        ]),
    );
    let bg = inputs
        .iter()
        .find(|i| i.address == "dbplatform_break_glass.ok")
        .unwrap();
    assert_eq!(bg.kind, Kind::BreakGlass);
    assert_eq!(
        bg.tier.as_deref(),
        Some("tier-2"),
        "from the database in the plan"
    );
    assert!(!bg.unknown.iter().any(|u| u == "tier"), "{:?}", bg.unknown);
    let rs = results(inputs);
    let ok = find(&rs, "DBP-ACC-001", "dbplatform_break_glass.ok");
    assert_eq!(
        ok.iter().map(|r| r.2).collect::<Vec<_>>(),
        vec![Status::Pass]
    );
    let long = find(&rs, "DBP-ACC-001", "dbplatform_break_glass.long");
    assert_eq!(long[0].2, Status::Fail);
    assert!(
        long[0].3.contains(
            "asks for 30h of break-glass access (108000 s); tier-2 allows at most 24 hours"
        ),
        "{}",
        long[0].3
    );
}

#[test]
fn break_glass_needs_reason_ticket_approver_and_ttl() {
    let inputs = plan(
        vec![
            database(),
            break_glass(
                "bare",
                json!({"reason": null, "ticket": "", "approved_by": null}),
            ),
        ],
        config(&[
            ("dbplatform_database", "db"),
            ("dbplatform_break_glass", "bare"),
        ]),
    );
    let rs = results(inputs);
    let fails = find(&rs, "DBP-ACC-001", "dbplatform_break_glass.bare");
    assert_eq!(fails[0].2, Status::Fail);
    for field in ["reason", "ticket", "approved_by"] {
        assert!(
            fails.iter().any(|r| r.3.contains(&format!(
                "grants break-glass access without {field}; reason, ticket, approved_by and ttl are all required"
            ))),
            "{field}: {fails:?}"
        );
    }
}

#[test]
fn break_glass_to_a_migrator_role_fails_until_overridden() {
    let changes = || {
        vec![
            database(),
            break_glass(
                "ddl",
                json!({"role_template": "migrator", "role_name": "orders_ddl"}),
            ),
        ]
    };
    let cfg = || {
        config(&[
            ("dbplatform_database", "db"),
            ("dbplatform_break_glass", "ddl"),
        ])
    };
    let rs = results(plan(changes(), cfg()));
    let r = find(&rs, "DBP-ACC-002", "dbplatform_break_glass.ddl");
    assert_eq!(r[0].2, Status::Fail);
    assert!(
        r[0].3
            .contains("grants orders_ddl, a migrator role (above readwrite)"),
        "{}",
        r[0].3
    );
    let overridden = results_with(
        plan(changes(), cfg()),
        vec![RequestedOverride {
            origin: "--override".into(),
            rule: Override {
                rule_id: "DBP-ACC-002".into(),
                reason: "INC-42 needs a schema fix".into(),
                by: "carol@example.com".into(),
            },
        }],
    );
    assert_eq!(
        find(&overridden, "DBP-ACC-002", "dbplatform_break_glass.ddl")[0].2,
        Status::Overridden
    );
}

#[test]
fn community_roles_with_superuser_file_access_or_passwords_fail() {
    let mut admin = change(
        "postgresql_role",
        "admin",
        json!({"name": "admin", "login": true, "superuser": true, "create_role": false,
               "replication": false, "bypass_row_level_security": false, "roles": [], "password": "hunter2"}),
        json!({}),
    );
    admin["change"]["after_sensitive"] = json!({"password": true});
    let inputs = plan(
        vec![
            admin,
            change(
                "postgresql_role",
                "app",
                json!({"name": "app", "login": false, "superuser": false, "roles": ["app_readonly"], "password": null}),
                json!({}),
            ),
            change(
                "postgresql_grant_role",
                "files",
                json!({"role": "app", "grant_role": "pg_read_server_files", "with_admin_option": false}),
                json!({}),
            ),
            change(
                "postgresql_grant",
                "fn",
                json!({"database": "orders", "role": "app", "schema": "pg_catalog", "object_type": "function",
                       "objects": ["pg_read_file"], "privileges": ["EXECUTE"]}),
                json!({}),
            ),
            change(
                "dbplatform_role",
                "ro",
                json!({"database_id": "orders", "name": "orders_ro", "template": "readonly", "login": false}),
                json!({"grants": true, "id": true}),
            ),
        ],
        json!({"root_module": {"resources": []}}),
    );
    let kinds: Vec<(String, Kind)> = inputs.iter().map(|i| (i.address.clone(), i.kind)).collect();
    assert!(
        kinds.contains(&("postgresql_grant_role.files".into(), Kind::Grant)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("dbplatform_role.ro".into(), Kind::Role)),
        "{kinds:?}"
    );
    let inputs_text: Vec<String> = inputs
        .iter()
        .map(|i| serde_json::to_string(i).unwrap())
        .collect();
    let rs = results(inputs);
    let status = |rule: &str, addr: &str| find(&rs, rule, addr).first().map(|r| r.2);
    assert_eq!(
        status("DBP-ACC-003", "postgresql_role.admin"),
        Some(Status::Fail)
    );
    assert!(find(&rs, "DBP-ACC-003", "postgresql_role.admin")[0]
        .3
        .contains("makes a SUPERUSER role"));
    assert_eq!(
        status("DBP-ACC-004", "postgresql_role.admin"),
        Some(Status::Fail)
    );
    assert_eq!(
        status("DBP-ACC-003", "postgresql_role.app"),
        Some(Status::Pass)
    );
    assert_eq!(
        status("DBP-ACC-004", "postgresql_role.app"),
        Some(Status::Pass)
    );
    assert_eq!(
        status("DBP-ACC-003", "postgresql_grant_role.files"),
        Some(Status::Fail)
    );
    assert_eq!(
        status("DBP-ACC-003", "postgresql_grant.fn"),
        Some(Status::Fail)
    );
    assert_eq!(
        status("DBP-ACC-003", "dbplatform_role.ro"),
        Some(Status::Pass)
    );
    assert_eq!(
        status("DBP-ACC-004", "dbplatform_role.ro"),
        Some(Status::Pass)
    );
    // The password never reaches the rules' input: only whether one is set.
    let admin_input = inputs_text
        .iter()
        .find(|t| t.contains("postgresql_role.admin"))
        .unwrap();
    assert!(!admin_input.contains("hunter2"), "{admin_input}");
}

#[test]
fn a_role_created_in_the_same_plan_gives_the_break_glass_its_template() {
    // The provider could not read the template (the role does not exist yet): unknown in the plan.
    let mut grant = break_glass("ddl", json!({"role_name": null}));
    if let Some(a) = grant["change"]["after"].as_object_mut() {
        a.remove("role_template");
    }
    grant["change"]["after_unknown"]["role_template"] = json!(true);
    grant["change"]["after_unknown"]["role_id"] = json!(true);
    let role = change(
        "dbplatform_role",
        "ddl",
        json!({"name": "orders_ddl", "template": "migrator", "login": false}),
        json!({"id": true, "database_id": true, "grants": true}),
    );
    let mut cfg = config(&[
        ("dbplatform_database", "db"),
        ("dbplatform_break_glass", "ddl"),
        ("dbplatform_role", "ddl"),
    ]);
    cfg["root_module"]["resources"][1]["expressions"]["role_id"] =
        json!({"references": ["dbplatform_role.ddl.id", "dbplatform_role.ddl"]});
    let inputs = plan(vec![database(), grant, role], cfg);
    let bg = inputs
        .iter()
        .find(|i| i.address == "dbplatform_break_glass.ddl")
        .unwrap();
    assert!(
        !bg.unknown.iter().any(|u| u == "role_template"),
        "{:?}",
        bg.unknown
    );
    let rs = results(inputs);
    let r = find(&rs, "DBP-ACC-002", "dbplatform_break_glass.ddl");
    assert_eq!(r[0].2, Status::Fail, "{}", r[0].3);
    assert!(
        r[0].3.contains("a migrator role (above readwrite)"),
        "{}",
        r[0].3
    );
}
