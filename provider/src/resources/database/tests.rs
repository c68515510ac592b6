//! Tests of `dbplatform_database` that need no database: tier expansion, restarts, refusals, diagnostics.

use std::sync::Arc;

use policy::model::tiers::TierCatalogue;

use super::schema::CONFIGURABLE;
use super::spec::{expand, tier_of};
use super::*;
use crate::backend::BackendError;
use crate::framework::{AttributePath, PlanRequest, PlanResponse, Resource, Value};

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[test]
fn tier_expansion_fills_only_what_config_leaves_null() {
    let cat = TierCatalogue::embedded();
    let tier = cat.get("tier-2").unwrap();
    let config = obj(&[
        ("name", Value::string("orders-eu")),
        ("tier", Value::string("tier-2")),
        ("backup_retention_days", Value::int(10)),
    ]);
    let mut planned = config.clone();
    expand(&mut planned, &config, &Value::Null, tier, Some("15"));
    assert_eq!(planned.get("backup_retention_days"), &Value::int(10));
    assert_eq!(planned.get("deletion_protection"), &Value::Bool(true));
    assert_eq!(
        planned.get("instance_class"),
        &Value::string("db.t4g.medium")
    );
    assert_eq!(planned.get("db_name"), &Value::string("orders_eu"));
    assert_eq!(planned.get("engine_version"), &Value::string("15"));
    assert_eq!(
        planned.get("master_username"),
        &Value::string("orders_eu_admin")
    );
}

fn base_config(extra: &[(&str, Value)]) -> Value {
    let mut v = obj(&[
        ("name", Value::string("orders")),
        ("tier", Value::string("tier-3")),
    ]);
    for n in CONFIGURABLE {
        if v.get(n).is_null() {
            v.set(n, Value::Null);
        }
    }
    for (k, x) in extra {
        v.set(k, x.clone());
    }
    v
}

async fn plan(prior: Value, config: Value) -> PlanResponse {
    let env = Arc::new(env::StaticEnv::local("/nonexistent"));
    let r = DatabaseResource::new(env);
    r.plan(PlanRequest {
        prior_state: prior,
        proposed: config.clone(),
        config: config.clone(),
        prior_private: vec![],
        planned: config,
    })
    .await
}

#[tokio::test]
async fn restart_changes_and_stopped_databases_are_warned_about() {
    let created = plan(Value::Null, base_config(&[])).await;
    assert!(
        !created.diagnostics.has_errors(),
        "{:?}",
        created.diagnostics
    );
    let mut prior = created.planned.clone();
    prior.set("status", Value::string("stopped"));
    let resp = plan(
        prior,
        base_config(&[("instance_class", Value::string("db.t4g.medium"))]),
    )
    .await;
    let texts: Vec<String> = resp
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.summary, d.detail))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("requires a database restart")
                && t.contains("shared_buffers 32MB -> 128MB")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("orders is stopped; apply starts it")),
        "{texts:?}"
    );
    assert_eq!(resp.planned.get("status"), &Value::string("available"));
}

#[tokio::test]
async fn without_policy_the_provider_still_refuses_tiers_the_backend_does_not_allow() {
    let resp = plan(
        Value::Null,
        base_config(&[("tier", Value::string("tier-1"))]),
    )
    .await;
    let d = resp
        .diagnostics
        .iter()
        .find(|d| d.summary.contains("not available on the local backend"));
    let d = d.unwrap_or_else(|| panic!("{:?}", resp.diagnostics));
    assert_eq!(d.attribute, Some(AttributePath::attr("tier")));
    assert!(d.detail.contains("tier-2 or tier-3"), "{}", d.detail);
    // One refusal per cause: no multi_az error from the backend for a tier that cannot run here anyway.
    assert!(!resp
        .diagnostics
        .iter()
        .any(|d| d.detail.contains("multi_az")));
}

#[test]
fn unknown_tier_lists_valid_ones() {
    let cat = TierCatalogue::embedded();
    let e = tier_of(&cat, "gold").unwrap_err();
    assert!(
        e.detail.contains("tier-0, tier-1, tier-2, tier-3"),
        "{}",
        e.detail
    );
    assert_eq!(e.attribute, Some(AttributePath::attr("tier")));
}

#[test]
fn backend_errors_land_on_their_attribute() {
    let e = BackendError::Invalid {
        field: "parameters.work_mem".into(),
        message: "bad".into(),
    };
    let d = backend_diagnostic("x", &e);
    assert_eq!(
        d.attribute,
        Some(AttributePath::attr("parameters").join_key("work_mem"))
    );
}
