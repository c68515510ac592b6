//! Defaults stated in the docs are the defaults a user gets. The reference pages are generated from the schema's
//! descriptions (`docs_sync.rs` keeps them equal), so every "default X" a `dbplatform_database` description states
//! for a computed attribute is compared here with what a plan of a minimal configuration shows; and the provider's
//! `local` block defaults are compared with the code's constants and the local-backend guide.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use provider::backend::local::{
    DEFAULT_BASE_BACKUP_WAL_PERCENT, DEFAULT_FINAL_BACKUP_KEEP, DEFAULT_FINAL_BACKUP_MAX_AGE_DAYS,
};
use provider::config::{BackendKind, ProviderConfig, ProviderState};
use provider::framework::{PlanRequest, Resource, Value};
use provider::resources::database::env::DatabaseEnv;
use provider::resources::database::DatabaseResource;

/// The literal after each "default " in `text` (`true`, `false`, a number or a lowercase word), skipping
/// "default:" and "(default)" phrasings that describe rather than state a value.
fn stated_defaults(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    lower
        .match_indices("default ")
        .filter_map(|(i, m)| {
            let rest = &lower[i + m.len()..];
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            let literal = token == "true"
                || token == "false"
                || (!token.is_empty() && token.chars().all(|c| c.is_ascii_digit()));
            literal.then_some(token)
        })
        .collect()
}

fn render(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_str().to_string(),
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn resource(dir: &Path, backend: &str) -> DatabaseResource {
    let mut cfg = ProviderConfig::local(dir.join("data"));
    cfg.terraform_version = "1.9.8".into();
    if backend == "aws" {
        cfg.backend = BackendKind::Aws;
        cfg.aws.region = Some("eu-west-1".into());
        cfg.aws.endpoint = Some("http://127.0.0.1:9".into());
    }
    DatabaseResource::new(Arc::new(ProviderState::with_config(cfg)) as Arc<dyn DatabaseEnv>)
}

#[tokio::test]
async fn stated_defaults_of_database_attributes_are_what_a_plan_shows() {
    let dir = tempfile::tempdir().unwrap();
    let r = resource(dir.path(), "aws");
    let mut cfg = Value::Object(BTreeMap::new());
    for a in &r.schema().block.attributes {
        if a.required || a.optional {
            cfg.set(&a.name, Value::Null);
        }
    }
    cfg.set("name", Value::string("orders"));
    cfg.set("tier", Value::string("tier-3"));
    cfg.set("engine", Value::string("postgres"));
    let resp = r
        .plan(PlanRequest {
            prior_state: Value::Null,
            proposed: cfg.clone(),
            config: cfg.clone(),
            prior_private: vec![],
            planned: cfg,
        })
        .await;
    let mut checked = Vec::new();
    let mut wrong = Vec::new();
    for a in &r.schema().block.attributes {
        if !a.computed {
            continue;
        }
        for stated in stated_defaults(&a.description) {
            let planned = render(resp.planned.get(&a.name));
            if planned != stated {
                wrong.push(format!(
                    "{}: the description says default {stated}, a plan shows {planned}",
                    a.name
                ));
            }
            checked.push(a.name.clone());
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for must in ["iam_database_authentication", "allocated_storage_gb"] {
        assert!(
            checked.iter().any(|c| c == must),
            "{must} not checked: {checked:?}"
        );
    }
}

#[test]
fn local_block_defaults_match_the_code_and_the_guide() {
    let block = provider::config::schema::provider_block();
    let local = &block
        .blocks
        .iter()
        .find(|b| b.type_name == "local")
        .expect("local block")
        .block;
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/guides/local-backend.md"),
    )
    .unwrap()
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ");
    for (name, value) in [
        ("final_backup_retention_count", DEFAULT_FINAL_BACKUP_KEEP),
        (
            "final_backup_retention_days",
            DEFAULT_FINAL_BACKUP_MAX_AGE_DAYS,
        ),
        ("base_backup_wal_percent", DEFAULT_BASE_BACKUP_WAL_PERCENT),
    ] {
        let a = local
            .attributes
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no local.{name}"));
        assert_eq!(
            stated_defaults(&a.description),
            vec![value.to_string()],
            "{name}: {}",
            a.description
        );
        assert!(
            guide.contains(&format!("{name} = {value}"))
                && guide.contains(&format!("`{name}` (default {value}")),
            "the local-backend guide states {name}'s default {value}"
        );
    }
}

#[test]
fn stated_defaults_are_read_as_literals_only() {
    assert_eq!(
        stated_defaults("IAM auth (aws); default false."),
        vec!["false"]
    );
    assert_eq!(
        stated_defaults("Storage (aws; default 20). Can grow"),
        vec!["20"]
    );
    assert!(stated_defaults("gp3 (default), gp2").is_empty());
    assert!(stated_defaults("default: a slot chosen from the name").is_empty());
}
