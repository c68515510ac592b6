//! Decommissioning a protected tier-2 database on the local backend by following the provider's own messages:
//! the refused destroy names the exception DBP-DEL-001 needs (a ready-to-paste entry); with it in the exceptions
//! file, turning protection off plans as exempted and is recorded in the audit log with the exception, and the
//! destroy then keeps a final backup.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use provider::config::{ConfigEnv, ProviderConfig, ProviderState};
use provider::framework::{ApplyRequest, PlanRequest, Resource, Severity, Value};
use provider::resources::database::env::DatabaseEnv;
use provider::resources::database::DatabaseResource;

struct Files {
    data: PathBuf,
    log: PathBuf,
    exceptions: PathBuf,
}

fn state(f: &Files, with_exceptions: bool) -> Arc<ProviderState> {
    let mut cfg = ProviderConfig::local(f.data.clone());
    cfg.env = ConfigEnv::from_process();
    cfg.terraform_version = "1.9.8".into();
    cfg.policy.audit_log = Some(f.log.clone());
    cfg.policy.exceptions_file = with_exceptions.then(|| f.exceptions.clone());
    Arc::new(ProviderState::with_config(cfg))
}

fn config(r: &DatabaseResource, protection: Option<bool>) -> Value {
    let mut v = Value::Object(BTreeMap::new());
    for a in &r.schema().block.attributes {
        if a.required || a.optional {
            v.set(&a.name, Value::Null);
        }
    }
    v.set("name", Value::string("orders"));
    v.set("tier", Value::string("tier-2"));
    v.set(
        "tags",
        Value::Map(
            [
                ("owner", "orders-team"),
                ("cost_center", "cc-1234"),
                ("data_classification", "internal"),
            ]
            .into_iter()
            .map(|(k, x)| (k.to_string(), Value::string(x)))
            .collect(),
        ),
    );
    if let Some(p) = protection {
        v.set("deletion_protection", Value::Bool(p));
    }
    v
}

fn errors(d: &provider::framework::Diagnostics) -> Vec<String> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

/// Plan then apply `cfg` over `prior`; the new state.
async fn plan_apply(r: &DatabaseResource, prior: &Value, cfg: Value) -> Value {
    let mut proposed = cfg.clone();
    if !prior.is_null() {
        // Terraform proposes the prior value for computed attributes the configuration leaves null.
        if let (Value::Object(p), Value::Object(c)) = (prior, &mut proposed) {
            for (k, v) in p {
                if c.get(k).is_none_or(Value::is_null) {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
        for k in r.schema().block.attributes.iter().filter(|a| !a.computed) {
            if cfg.get(&k.name).is_null() {
                proposed.set(&k.name, Value::Null);
            }
        }
    }
    let plan = r
        .plan(PlanRequest {
            prior_state: prior.clone(),
            proposed: proposed.clone(),
            config: cfg.clone(),
            prior_private: vec![],
            planned: proposed,
        })
        .await;
    assert!(
        errors(&plan.diagnostics).is_empty(),
        "plan: {:?}",
        errors(&plan.diagnostics)
    );
    let applied = r
        .apply(ApplyRequest {
            prior: prior.clone(),
            planned: plan.planned,
            config: cfg,
            planned_private: plan.planned_private,
        })
        .await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "apply: {:?}",
        errors(&applied.diagnostics)
    );
    applied.new_state
}

fn records(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn protected_tier2_database_is_decommissioned_by_following_the_messages() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let f = Files {
        data: tmp.path().join("data"),
        log: tmp.path().join("decisions.jsonl"),
        exceptions: tmp.path().join("exceptions.yaml"),
    };
    let r = DatabaseResource::new(state(&f, false) as Arc<dyn DatabaseEnv>);
    let created = plan_apply(&r, &Value::Null, config(&r, None)).await;
    assert_eq!(created.get("deletion_protection").as_bool(), Some(true));

    // Destroy is refused, and the message names the exception needed, ready to paste.
    let refused = r
        .apply(ApplyRequest {
            prior: created.clone(),
            planned: Value::Null,
            config: Value::Null,
            planned_private: vec![],
        })
        .await;
    let errs = errors(&refused.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let msg = &errs[0];
    assert!(
        msg.contains("DBP-DEL-001") && msg.contains("policy.exceptions_file"),
        "{msg}"
    );
    let entry: String = msg
        .lines()
        .skip_while(|l| !l.starts_with("- id: "))
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        entry.contains("resource: 'dbplatform_database \"orders\"'"),
        "{msg}"
    );
    let entry = entry
        .replace("<team>", "orders-team")
        .replace("<why>", "decommissioning orders")
        .replace("<ticket>", "OPS-123")
        .replace("<approver>", "platform-lead");
    std::fs::write(&f.exceptions, format!("{entry}\n")).unwrap();

    // The same entry matches in `dbpolicy check`, where the resource has its Terraform address.
    cli_exempts(&f, tmp.path(), &created);

    // With the exception, protection is turned off: DBP-DEL-001 exempted, the exception on record.
    let r = DatabaseResource::new(state(&f, true) as Arc<dyn DatabaseEnv>);
    let unprotected = plan_apply(&r, &created, config(&r, Some(false))).await;
    assert_eq!(
        unprotected.get("deletion_protection").as_bool(),
        Some(false)
    );
    let last = records(&f.log).pop().unwrap();
    assert_eq!(
        last["result"]["resources"][0]["rules"]["DBP-DEL-001"], "exempted",
        "{last:#}"
    );
    let recorded: Vec<_> = last["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(recorded, ["EXC-DBP-DEL-001-orders"]);

    // And destroyed, with its final backup kept.
    let destroyed = r
        .apply(ApplyRequest {
            prior: unprotected,
            planned: Value::Null,
            config: Value::Null,
            planned_private: vec![],
        })
        .await;
    assert!(
        errors(&destroyed.diagnostics).is_empty(),
        "{:?}",
        errors(&destroyed.diagnostics)
    );
    assert!(destroyed.new_state.is_null());
    let backups: Vec<_> = std::fs::read_dir(f.data.join("orders/final-backups"))
        .or_else(|_| std::fs::read_dir(f.data.join("final-backups")))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert_eq!(
        backups.len(),
        1,
        "final backup kept under {}",
        f.data.display()
    );
}

/// `dbpolicy check` on a plan turning protection off, for `dbplatform_database.bad2` (database name "orders"),
/// with the exceptions file: DBP-DEL-001 is exempted by the entry the provider printed.
fn cli_exempts(f: &Files, dir: &Path, state: &Value) {
    use clap::Parser;
    let mut after = state.to_json().unwrap();
    after["deletion_protection"] = serde_json::Value::Bool(false);
    let plan = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [{
            "address": "dbplatform_database.bad2",
            "mode": "managed",
            "type": "dbplatform_database",
            "name": "bad2",
            "provider_name": "registry.terraform.io/dbplatform/dbplatform",
            "change": {"actions": ["update"], "before": state.to_json().unwrap(), "after": after, "after_unknown": {}}
        }],
        "configuration": {"provider_config": {"dbplatform": {"name": "dbplatform",
            "expressions": {"backend": {"constant_value": "local"}}}}, "root_module": {}}
    });
    let plan_path = dir.join("plan.json");
    std::fs::write(&plan_path, serde_json::to_vec(&plan).unwrap()).unwrap();
    let report = dir.join("report.json");
    let args = [
        "dbpolicy".to_string(),
        "check".into(),
        plan_path.display().to_string(),
        "--format".into(),
        "json".into(),
        "--output".into(),
        report.display().to_string(),
        "--exceptions".into(),
        f.exceptions.display().to_string(),
    ];
    let code = policy::cli::run(policy::cli::Cli::try_parse_from(&args).unwrap())
        .unwrap_or_else(|e| panic!("{}", e.message));
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let del = d["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == "DBP-DEL-001" && r["address"] == "dbplatform_database.bad2")
        .unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(del["status"], "exempted", "{d:#}");
    assert_eq!(code, 0, "{d:#}");
}
