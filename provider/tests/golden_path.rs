//! The golden path passes its own guardrails: for every tier × engine × backend the tier catalogue allows, a
//! minimal `dbplatform_database` (name, engine, tier, the required tags and, on aws, the KMS key and monitoring
//! role the tier demands) plans through the provider with zero failed and zero unknown guardrail results, and the
//! tier chooses the backup and maintenance windows (deterministic per name, not overlapping, at night UTC).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use policy::model::tiers::TierCatalogue;
use provider::config::{BackendKind, ProviderConfig, ProviderState};
use provider::framework::{PlanRequest, PlanResponse, Resource, Severity, Value};
use provider::resources::database::env::DatabaseEnv;
use provider::resources::database::DatabaseResource;

const KMS_KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const MONITORING_ROLE: &str = "arn:aws:iam::111122223333:role/rds-monitoring";

fn engines(backend: &str) -> &'static [&'static str] {
    match backend {
        "aws" => &["postgres", "mysql"],
        _ => &["postgres"],
    }
}

fn state(dir: &Path, backend: &str) -> Arc<ProviderState> {
    let mut cfg = ProviderConfig::local(dir.join("data"));
    cfg.terraform_version = "1.9.8".into();
    if backend == "aws" {
        cfg.backend = BackendKind::Aws;
        cfg.aws.region = Some("eu-west-1".into());
        // Planning never calls the API; an endpoint nobody listens on proves it.
        cfg.aws.endpoint = Some("http://127.0.0.1:9".into());
    }
    cfg.policy.audit_log = Some(dir.join("decisions.jsonl"));
    Arc::new(ProviderState::with_config(cfg))
}

/// The minimal configuration: every user attribute null except what the golden path asks for.
fn minimal_config(
    r: &DatabaseResource,
    name: &str,
    tier: &str,
    engine: &str,
    backend: &str,
    catalogue: &TierCatalogue,
) -> Value {
    let t = catalogue.get(tier).unwrap();
    let mut v = Value::Object(BTreeMap::new());
    for a in &r.schema().block.attributes {
        if a.required || a.optional {
            v.set(&a.name, Value::Null);
        }
    }
    v.set("name", Value::string(name));
    v.set("tier", Value::string(tier));
    v.set("engine", Value::string(engine));
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
    if backend == "aws" {
        if t.customer_managed_kms_key {
            v.set("kms_key_id", Value::string(KMS_KEY));
        }
        if t.monitoring_interval_seconds > 0 {
            v.set("monitoring_role_arn", Value::string(MONITORING_ROLE));
        }
        // The tier replicates backups to its DR region (DBP-DR-001), encrypted with a key of that region
        // (DBP-DR-002).
        if let Some(dr) = &t.dr_region {
            v.set(
                "backup_replication_kms_key_id",
                Value::string(format!(
                    "arn:aws:kms:{dr}:111122223333:key/dr-1234abcd-12ab-34cd-56ef-1234567890ab"
                )),
            );
        }
    }
    v
}

async fn plan(r: &DatabaseResource, cfg: Value) -> PlanResponse {
    r.plan(PlanRequest {
        prior_state: Value::Null,
        proposed: cfg.clone(),
        config: cfg.clone(),
        prior_private: vec![],
        planned: cfg,
    })
    .await
}

/// Rule id -> status of the last decision in the audit log.
fn last_statuses(log: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    serde_json::from_value(last["result"]["resources"][0]["rules"].clone()).unwrap()
}

/// `hh:mm` -> minutes after midnight.
fn minutes(hm: &str) -> u32 {
    let (h, m) = hm.split_once(':').unwrap();
    h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
}

#[tokio::test]
async fn golden_path_passes_for_every_allowed_tier_engine_backend() {
    let catalogue = TierCatalogue::embedded();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (tier_name, tier) in &catalogue.tiers {
        for backend in ["aws", "local"] {
            if !tier.allows_backend(backend) {
                continue;
            }
            for engine in engines(backend) {
                let dir = tempfile::tempdir().unwrap();
                let st = state(dir.path(), backend);
                let r = DatabaseResource::new(st as Arc<dyn DatabaseEnv>);
                let case = format!("{tier_name} {engine} on {backend}");
                let cfg = minimal_config(&r, "orders", tier_name, engine, backend, &catalogue);
                let resp = plan(&r, cfg).await;
                let errors: Vec<_> = resp
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .map(|d| format!("{}: {}", d.summary, d.detail))
                    .collect();
                if !errors.is_empty() {
                    problems.push(format!("{case}: errors {errors:#?}"));
                    continue;
                }
                let statuses = last_statuses(&dir.path().join("decisions.jsonl"));
                let bad: Vec<_> = statuses
                    .iter()
                    .filter(|(_, s)| *s == "fail" || *s == "unknown")
                    .collect();
                if !bad.is_empty() {
                    problems.push(format!("{case}: {bad:?}"));
                }
                if backend == "aws" {
                    let want_dr = tier.dr_region.clone().map_or(Value::Null, Value::string);
                    if resp.planned.get("backup_replication_region") != &want_dr {
                        problems.push(format!(
                            "{case}: backup_replication_region {:?}, the tier's dr_region is {want_dr:?}",
                            resp.planned.get("backup_replication_region")
                        ));
                    }
                    if resp.planned.get("region").as_str() != Some("eu-west-1") {
                        problems.push(format!("{case}: region {:?}", resp.planned.get("region")));
                    }
                    let bw = resp
                        .planned
                        .get("backup_window")
                        .as_str()
                        .map(str::to_string);
                    let mw = resp
                        .planned
                        .get("maintenance_window")
                        .as_str()
                        .map(str::to_string);
                    match (bw, mw) {
                        (Some(b), Some(m)) => check_windows(&case, &b, &m),
                        other => problems.push(format!("{case}: windows not chosen: {other:?}")),
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // tier-0/1 on aws (2 engines each), tier-2/3 on aws (2 engines) and local (postgres).
    assert_eq!(checked, 10);
}

/// Backup window `hh:mm-hh:mm`, maintenance `ddd:hh:mm-ddd:hh:mm`: both at night UTC (00:00-07:00), at least 30
/// minutes long, not overlapping.
fn check_windows(case: &str, backup: &str, maintenance: &str) {
    let (bs, be) = backup.split_once('-').unwrap();
    let (bs, be) = (minutes(bs), minutes(be));
    let (ms, me) = maintenance.split_once('-').unwrap();
    let (ms, me) = (minutes(&ms[4..]), minutes(&me[4..]));
    assert!(
        be >= bs + 30 && ms < me && me - ms >= 30,
        "{case}: {backup} / {maintenance}"
    );
    assert!(
        be <= 7 * 60 && me <= 7 * 60,
        "{case}: not at night: {backup} / {maintenance}"
    );
    assert!(
        be <= ms || me <= bs,
        "{case}: overlap: {backup} / {maintenance}"
    );
}

#[tokio::test]
async fn windows_are_deterministic_per_name_and_spread() {
    let catalogue = TierCatalogue::embedded();
    let mut backups = std::collections::BTreeSet::new();
    for i in 0..40 {
        let name = format!("db-{i}");
        let mut seen = None;
        for _ in 0..2 {
            let dir = tempfile::tempdir().unwrap();
            let r = DatabaseResource::new(state(dir.path(), "aws") as Arc<dyn DatabaseEnv>);
            let cfg = minimal_config(&r, &name, "tier-1", "postgres", "aws", &catalogue);
            let resp = plan(&r, cfg).await;
            let w = (
                resp.planned
                    .get("backup_window")
                    .as_str()
                    .unwrap()
                    .to_string(),
                resp.planned
                    .get("maintenance_window")
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
            check_windows(&name, &w.0, &w.1);
            if let Some(prev) = &seen {
                assert_eq!(prev, &w, "{name}: same name, same windows");
            }
            seen = Some(w);
        }
        backups.insert(seen.unwrap().0);
    }
    assert!(
        backups.len() >= 5,
        "windows spread over the night: {backups:?}"
    );
}
