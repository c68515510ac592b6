//! What database resources need from the configured provider: the backend, the tier catalogue, default tags,
//! the plan-time policy check and the audit log.
//!
//! Resources depend on this small trait rather than on the provider's configuration type, so they can be tested
//! with [`StaticEnv`] and the provider decides how its configuration turns into a backend.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use policy::adapter::planned_state::{from_provider, ProviderPlan};
use policy::audit::{input_sha256, record_or_fail_closed, AuditConfig, DecisionMeta, RecordBody};
use policy::engine::{EvalContext, PolicyEngine};
use policy::model::decision::{Decision, Enforcement, Status};
use policy::model::tiers::TierCatalogue;

use crate::backend::DatabaseBackend;
use crate::config::audit::{append_record, provider_audit_config};
use crate::config::{ConfiguredOverride, ProviderConfig, ProviderState};
use crate::framework::Diagnostic;

pub use super::env_trait::DatabaseEnv;

/// A fixed environment: a given backend, catalogue, optional engine and optional audit log file.
/// Used by tests, and by the provider until its configuration supplies these itself.
pub struct StaticEnv {
    pub backend: Arc<dyn DatabaseBackend>,
    pub tiers: Arc<TierCatalogue>,
    pub default_tags: BTreeMap<String, String>,
    pub engine: Option<Arc<PolicyEngine>>,
    pub audit_log: Option<PathBuf>,
}

impl StaticEnv {
    /// A local-backend environment with the embedded catalogue and no policy engine or audit log.
    pub fn local(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            backend: Arc::new(crate::backend::local::LocalBackend::new(data_dir)),
            tiers: Arc::new(TierCatalogue::embedded()),
            default_tags: BTreeMap::new(),
            engine: None,
            audit_log: None,
        }
    }
}

#[async_trait]
impl DatabaseEnv for StaticEnv {
    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
        Ok(self.backend.clone())
    }

    async fn tiers(&self) -> Result<Arc<TierCatalogue>, Diagnostic> {
        Ok(self.tiers.clone())
    }

    async fn default_tags(&self) -> BTreeMap<String, String> {
        self.default_tags.clone()
    }

    async fn evaluate_policy(&self, plan: ProviderPlan) -> Result<Option<Decision>, Diagnostic> {
        let Some(engine) = &self.engine else {
            return Ok(None);
        };
        let input = from_provider(plan);
        let ctx = EvalContext {
            now: chrono::Utc::now(),
            overrides: vec![],
            on_unknown: None,
            source: "provider".into(),
        };
        engine.evaluate(&[input], &ctx).map(Some).map_err(|e| {
            Diagnostic::error(
                "Policy evaluation failed",
                format!("The guardrail check could not run: {e}"),
            )
        })
    }

    async fn record_restore_test(
        &self,
        record: policy::audit::RestoreTestRecord,
    ) -> Result<(), Diagnostic> {
        let Some(path) = &self.audit_log else {
            return Ok(());
        };
        append_record(
            AuditConfig::at(path.clone()),
            RecordBody::RestoreTest(record),
        )
        .await
        .map_err(|why| restore_record_failed(path, &why))
    }
}

/// Checks the configured overrides against the loaded bundle: each must name a soft-mandatory rule.
fn check_configured_overrides(
    engine: &PolicyEngine,
    overrides: &[ConfiguredOverride],
) -> Result<(), Diagnostic> {
    for o in overrides {
        let Some(rule) = engine.rule(&o.rule.rule_id) else {
            return Err(Diagnostic::error(
                "Unknown rule in policy override",
                format!(
                    "{}: rule {:?} is not in the loaded policy bundle; use an id that `dbpolicy rules` lists \
                     (e.g. \"DBP-DEL-002\") or remove the override.",
                    o.origin, o.rule.rule_id
                ),
            ));
        };
        if rule.enforcement != Enforcement::SoftMandatory {
            return Err(Diagnostic::error(
                "Policy override not allowed",
                format!(
                    "{}: rule {} is {}; only soft-mandatory rules can be overridden. Remove the override and \
                     fix the finding, or ask the platform team for a time-limited exception.",
                    o.origin,
                    rule.id,
                    rule.enforcement.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// The error for overrides that would apply to this plan while no audit log can record them.
fn override_refused(decision: &Decision, overrides: &[ConfiguredOverride]) -> Option<Diagnostic> {
    let mut lines = Vec::new();
    for r in &decision.results {
        if r.status != Status::Fail || r.enforcement != Enforcement::SoftMandatory {
            continue;
        }
        if let Some(o) = overrides.iter().find(|o| *o.rule.rule_id == *r.rule_id) {
            lines.push(format!(
                "[{}] {}: {} (override from {} by {:?}, reason {:?})",
                r.rule_id, r.title, r.message, o.origin, o.rule.by, o.rule.reason
            ));
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(Diagnostic::error(
        "Policy override refused: no audit log",
        format!(
            "{}\n\nAn override takes effect only when the decision that uses it is recorded, and no audit log is \
             configured, so the rule still fails. Set policy {{ audit_log = \"/path/to/decisions.jsonl\" }} in the \
             provider block (or the DBPOLICY_AUDIT_LOG environment variable) and plan again, or fix the finding.",
            lines.join("\n")
        ),
    ))
}

/// A readable name for the planned database in decisions and audit records: Terraform does not send the
/// resource address, so the database name stands in for it (`dbplatform_database "orders"`).
fn resource_label(plan: &ProviderPlan) -> Option<String> {
    let name = [plan.after.as_ref(), plan.before.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|v| v.get("name").and_then(serde_json::Value::as_str))?;
    Some(format!("{} {name:?}", plan.resource_type))
}

#[async_trait]
impl DatabaseEnv for ProviderState {
    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
        self.database_backend().await
    }

    async fn tiers(&self) -> Result<Arc<TierCatalogue>, Diagnostic> {
        Ok(Arc::new(self.config().await?.tiers.clone()))
    }

    async fn default_tags(&self) -> BTreeMap<String, String> {
        self.config()
            .await
            .map(|c| c.default_tags.clone())
            .unwrap_or_default()
    }

    /// Evaluates with the cached engine, applies overrides only when the decision can be recorded, and appends
    /// the decision to the audit log when one is configured; a decision that cannot be recorded is an error
    /// (fail closed).
    async fn evaluate_policy(
        &self,
        mut plan: ProviderPlan,
    ) -> Result<Option<Decision>, Diagnostic> {
        let cfg = self.config().await?;
        let engine = self.policy_engine(&cfg).await?;
        let configured = &cfg.policy.overrides;
        check_configured_overrides(&engine, configured)?;
        let audit = provider_audit_config(&cfg)?;

        plan.terraform_version = Some(cfg.terraform_version.clone()).filter(|v| !v.is_empty());
        if plan.address.is_none() {
            plan.address = resource_label(&plan);
        }
        let inputs = vec![from_provider(plan)];
        let ctx = EvalContext {
            now: chrono::Utc::now(),
            // Overrides count only in a decision that goes on record.
            overrides: if audit.is_some() {
                configured.iter().map(|o| o.rule.clone()).collect()
            } else {
                vec![]
            },
            on_unknown: None,
            source: "provider".into(),
        };
        let started = std::time::Instant::now();
        let mut decision = engine.evaluate(&inputs, &ctx).map_err(|e| {
            Diagnostic::error(
                "Policy evaluation failed",
                format!("The guardrail check could not run: {e}"),
            )
        })?;
        tracing::debug!(
            elapsed_us = started.elapsed().as_micros() as u64,
            results = decision.results.len(),
            outcome = ?decision.outcome,
            "guardrails evaluated"
        );
        if cfg.policy.is_advisory() {
            // Break-glass: every failure is reported, none blocks.
            for r in &mut decision.results {
                if r.status == Status::Fail {
                    r.enforcement = Enforcement::Advisory;
                }
            }
        } else if audit.is_none() {
            if let Some(d) = override_refused(&decision, configured) {
                return Err(d);
            }
        }
        if let Some(audit) = audit {
            record_decision(audit, &decision, &inputs, &cfg).await?;
        }
        Ok(Some(decision))
    }

    async fn record_restore_test(
        &self,
        record: policy::audit::RestoreTestRecord,
    ) -> Result<(), Diagnostic> {
        let cfg = self.config().await?;
        let Some(audit) = provider_audit_config(&cfg)? else {
            return Ok(());
        };
        let path = audit.path.clone();
        append_record(audit, RecordBody::RestoreTest(record))
            .await
            .map_err(|why| restore_record_failed(&path, &why))
    }
}

/// The error a restore test gets when its result cannot be put on record.
fn restore_record_failed(path: &std::path::Path, why: &str) -> Diagnostic {
    Diagnostic::error(
        "Audit log write failed",
        format!(
            "Cannot append the restore test result to {}: {why}. Make the file writable (its directory \
             must exist) or point policy.audit_log / DBPOLICY_AUDIT_LOG elsewhere.",
            path.display()
        ),
    )
}

/// Appends one decision record (source `provider`) to the configured log; any failure is the fail-closed error
/// diagnostic naming the log and the fix.
async fn record_decision(
    audit: AuditConfig,
    decision: &Decision,
    inputs: &[policy::model::Input],
    cfg: &ProviderConfig,
) -> Result<(), Diagnostic> {
    let path = audit.path.clone();
    let fail = |why: String| {
        Diagnostic::error(
            "Policy decision not recorded: plan fails closed",
            format!(
                "Decision {} could not be written to the audit log {}: {why}\n\nA plan whose decision is not on \
                 record fails (overrides and exceptions count only once recorded). Fix: make {} writable (its \
                 directory must exist; check permissions and disk space; `dbpolicy audit verify {}` reports a \
                 damaged log), or point policy.audit_log / DBPOLICY_AUDIT_LOG at a writable file.",
                decision.decision_id,
                path.display(),
                path.display(),
                path.display()
            ),
        )
    };
    let decision_json = serde_json::to_value(decision).map_err(|e| fail(e.to_string()))?;
    let inputs_json = serde_json::to_value(inputs).map_err(|e| fail(e.to_string()))?;
    let meta = DecisionMeta {
        source: "provider".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        terraform_workspace: cfg
            .env
            .terraform_workspace
            .clone()
            .filter(|w| !w.trim().is_empty()),
        terraform_version: Some(cfg.terraform_version.clone()).filter(|v| !v.is_empty()),
        input_sha256: input_sha256(&inputs_json).map_err(|e| fail(e.to_string()))?,
        bundle_name: None,
    };
    match tokio::task::spawn_blocking(move || record_or_fail_closed(&audit, &decision_json, &meta))
        .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(fail(e.source.to_string())),
        Err(e) => Err(fail(format!("the audit writer stopped unexpectedly: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{PlanRequest, PlanResponse, Resource, Severity, Value};
    use policy::model::decision::Override;

    /// A provider state for the local backend with `audit_log` and `overrides` set.
    fn state(
        dir: &std::path::Path,
        audit_log: Option<PathBuf>,
        overrides: &[(&str, &str, &str)],
    ) -> Arc<ProviderState> {
        let mut cfg = ProviderConfig::local(dir.join("data"));
        cfg.terraform_version = "1.9.8".into();
        for (k, v) in [
            ("owner", "payments"),
            ("cost_center", "cc-1"),
            ("data_classification", "internal"),
        ] {
            cfg.default_tags.insert(k.into(), v.into());
        }
        cfg.policy.audit_log = audit_log;
        cfg.policy.overrides = overrides
            .iter()
            .enumerate()
            .map(|(i, (rule, by, reason))| ConfiguredOverride {
                origin: format!("policy.override[{i}]"),
                rule: Override {
                    rule_id: rule.to_string(),
                    reason: reason.to_string(),
                    by: by.to_string(),
                },
            })
            .collect();
        Arc::new(ProviderState::with_config(cfg))
    }

    fn config(tier: &str, skip_final_snapshot: bool) -> Value {
        let mut v = Value::Object(BTreeMap::new());
        for n in super::super::CONFIGURABLE {
            v.set(n, Value::Null);
        }
        v.set("name", Value::string("orders"));
        v.set("tier", Value::string(tier));
        v.set("skip_final_snapshot", Value::Bool(skip_final_snapshot));
        v
    }

    async fn plan(state: &Arc<ProviderState>, config: Value) -> PlanResponse {
        let r = super::super::DatabaseResource::new(Arc::clone(state) as Arc<dyn DatabaseEnv>);
        r.plan(PlanRequest {
            prior_state: Value::Null,
            proposed: config.clone(),
            config: config.clone(),
            prior_private: vec![],
            planned: config,
        })
        .await
    }

    fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn errors(resp: &PlanResponse) -> Vec<String> {
        resp.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect()
    }

    #[tokio::test]
    async fn every_plan_appends_a_verifiable_decision_record_and_reuses_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let st = state(dir.path(), Some(log.clone()), &[]);
        let first = plan(&st, config("tier-3", false)).await;
        assert!(errors(&first).is_empty(), "{:?}", errors(&first));
        plan(&st, config("tier-3", false)).await;
        let records = lines(&log);
        assert_eq!(records.len(), 2);
        let body = &records[0];
        assert_eq!(body["kind"], "decision", "{body}");
        assert_eq!(body["source"]["kind"], "provider");
        assert_eq!(body["source"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["terraform"]["version"], "1.9.8");
        assert!(body["input_sha256"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
        let resource = &body["result"]["resources"][0];
        assert_eq!(resource["address"], "dbplatform_database \"orders\"");
        assert_eq!(resource["rules"]["DBP-TAG-001"], "pass", "{resource}");
        assert_eq!(resource["rules"]["DBP-DEL-002"], "pass", "{resource}");
        let report =
            policy::audit::verify_log(&log, &policy::audit::VerifyOptions::default()).unwrap();
        assert!(report.damages.is_empty(), "{report:?}");

        let cfg = st.config().await.unwrap();
        let a = st.policy_engine(&cfg).await.unwrap();
        let b = st.policy_engine(&cfg).await.unwrap();
        assert!(Arc::ptr_eq(&a, &b), "one engine per configuration");
        st.set_config((*cfg).clone()).await;
        let c = st.policy_engine(&st.config().await.unwrap()).await.unwrap();
        assert!(
            !Arc::ptr_eq(&a, &c),
            "a new configuration loads the bundle again"
        );
    }

    #[tokio::test]
    async fn an_unwritable_audit_log_fails_the_plan_closed() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, "x").unwrap();
        let log = blocker.join("decisions.jsonl");
        let st = state(dir.path(), Some(log.clone()), &[]);
        let resp = plan(&st, config("tier-3", false)).await;
        let e = errors(&resp);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("Policy decision not recorded: plan fails closed")
                && e[0].contains(&log.display().to_string())
                && e[0].contains("point policy.audit_log / DBPOLICY_AUDIT_LOG at a writable file"),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn soft_mandatory_failure_fails_without_override() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path(), None, &[]);
        let e = errors(&plan(&st, config("tier-2", true)).await);
        assert!(e.iter().any(|e| e.starts_with("[DBP-DEL-002]")), "{e:?}");
    }

    #[tokio::test]
    async fn an_override_without_audit_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path(), None, &[("DBP-DEL-002", "alice", "migration")]);
        let e = errors(&plan(&st, config("tier-2", true)).await);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("Policy override refused: no audit log")
                && e[0].contains("[DBP-DEL-002]")
                && e[0].contains("policy.override[0] by \"alice\"")
                && e[0].contains("policy { audit_log = "),
            "{e:?}"
        );
        // An override the plan does not need is not an error.
        let ok = plan(&st, config("tier-3", false)).await;
        assert!(errors(&ok).is_empty(), "{:?}", errors(&ok));
    }

    #[tokio::test]
    async fn a_recorded_override_is_accepted_warned_about_and_logged() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let st = state(
            dir.path(),
            Some(log.clone()),
            &[("DBP-DEL-002", "alice@example.com", "migration OPS-1")],
        );
        let resp = plan(&st, config("tier-2", true)).await;
        assert!(errors(&resp).is_empty(), "{:?}", errors(&resp));
        let w = resp
            .diagnostics
            .iter()
            .find(|d| d.summary.starts_with("[DBP-DEL-002]"))
            .unwrap_or_else(|| panic!("{:?}", resp.diagnostics));
        assert_eq!(w.severity, Severity::Warning);
        assert!(
            w.detail
                .contains("by alice@example.com (reason: migration OPS-1)"),
            "{}",
            w.detail
        );
        let records = lines(&log);
        assert_eq!(records.len(), 1);
        let o = &records[0]["overrides"][0];
        assert_eq!(o["rule_id"], "DBP-DEL-002");
        assert_eq!(o["by"], "alice@example.com");
        assert_eq!(o["reason"], "migration OPS-1");
    }

    #[tokio::test]
    async fn hard_mandatory_and_unknown_rules_cannot_be_overridden() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let st = state(
            dir.path(),
            Some(log.clone()),
            &[("DBP-ENC-001", "bob", "x")],
        );
        let e = errors(&plan(&st, config("tier-3", false)).await);
        assert!(
            e.iter()
                .any(|e| e.starts_with("Policy override not allowed")
                    && e.contains("policy.override[0]: rule DBP-ENC-001 is hard-mandatory")),
            "{e:?}"
        );
        let st = state(dir.path(), Some(log), &[("DBP-NOPE-999", "bob", "x")]);
        let e = errors(&plan(&st, config("tier-3", false)).await);
        assert!(
            e.iter()
                .any(|e| e.contains("rule \"DBP-NOPE-999\" is not in the loaded policy bundle")),
            "{e:?}"
        );
    }
}
