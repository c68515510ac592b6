//! What database resources need from the configured provider: the backend, the tier catalogue, default tags,
//! the plan-time policy check and the audit log.
//!
//! Resources depend on this small trait rather than on the provider's configuration type, so their unit tests can
//! use a fixed environment (`StaticEnv`, test builds only) and the provider decides how its configuration turns
//! into a backend. The plan-time policy check goes through [`policy::gate`], like `dbpolicy check`: this file only
//! gathers the gate's inputs from the provider configuration and turns its errors into diagnostics.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use policy::adapter::planned_state::{from_provider, ProviderPlan};
use policy::audit::{AuditConfig, RecordBody};
use policy::engine::PolicyEngine;
use policy::gate::{
    self, DecisionSink, EnforcementMode, GateError, GateRequest, OverrideProblem, Provenance,
    RequestedOverride, Source,
};
use policy::model::decision::Decision;
use policy::model::tiers::TierCatalogue;

use crate::backend::DatabaseBackend;
use crate::config::audit::{append_record, provider_audit_config};
use crate::config::ProviderState;
use crate::framework::Diagnostic;

pub use super::env_trait::DatabaseEnv;

/// A fixed environment for unit tests of the resources: a given backend, catalogue and default tags, and
/// optionally a policy engine (without one, policy checks are off and `evaluate_policy` returns `Ok(None)`) and an
/// audit log file. With an engine it evaluates through the same gate as the provider, in enforce mode and without
/// overrides, recording in `audit_log` when set.
#[cfg(test)]
pub(crate) struct StaticEnv {
    pub backend: Arc<dyn DatabaseBackend>,
    pub tiers: Arc<TierCatalogue>,
    pub default_tags: BTreeMap<String, String>,
    pub engine: Option<Arc<PolicyEngine>>,
    pub audit_log: Option<std::path::PathBuf>,
}

#[cfg(test)]
impl StaticEnv {
    /// A local-backend environment with the embedded catalogue and no policy engine or audit log.
    pub fn local(data_dir: impl Into<std::path::PathBuf>) -> Self {
        Self {
            backend: Arc::new(crate::backend::local::LocalBackend::new(data_dir)),
            tiers: Arc::new(TierCatalogue::embedded()),
            default_tags: BTreeMap::new(),
            engine: None,
            audit_log: None,
        }
    }
}

#[cfg(test)]
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
        let request = GateRequest::new(
            vec![from_provider(plan)],
            chrono::Utc::now(),
            Provenance::new(Source::Provider, env!("CARGO_PKG_VERSION")),
        );
        let audit = self.audit_log.clone().map(AuditConfig::at);
        run_gate(Arc::clone(engine), request, audit).await.map(Some)
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
    async fn record_failover_drill(
        &self,
        record: policy::audit::FailoverDrillRecord,
    ) -> Result<(), Diagnostic> {
        let Some(path) = &self.audit_log else {
            return Ok(());
        };
        append_record(
            AuditConfig::at(path.clone()),
            RecordBody::FailoverDrill(record),
        )
        .await
        .map_err(|why| restore_record_failed(path, &why))
    }
    async fn audit_configured(&self) -> Result<bool, Diagnostic> {
        Ok(self.audit_log.is_some())
    }
    async fn record_access(&self, body: RecordBody) -> Result<(), Diagnostic> {
        let Some(path) = &self.audit_log else {
            return Err(no_access_log());
        };
        append_record(AuditConfig::at(path.clone()), body)
            .await
            .map_err(|why| access_record_failed(path, &why))
    }
}

/// Runs the gate off the async runtime (evaluation is CPU work, and recording blocks on a file lock, fsync and
/// perhaps a PostgreSQL client) and turns its error into the plan's error diagnostic.
async fn run_gate(
    engine: Arc<PolicyEngine>,
    request: GateRequest,
    audit: Option<AuditConfig>,
) -> Result<Decision, Diagnostic> {
    let started = std::time::Instant::now();
    let decided = tokio::task::spawn_blocking(move || {
        let cpu = thread_cpu_time();
        let decided = gate::decide(
            &engine,
            request,
            audit.as_ref().map(|a| a as &dyn DecisionSink),
        );
        (decided, thread_cpu_time().saturating_sub(cpu))
    })
    .await
    .map_err(|e| {
        Diagnostic::error(
            "Policy evaluation failed",
            format!("The guardrail check stopped unexpectedly: {e}"),
        )
    })?;
    let (decided, cpu) = decided;
    let decision = decided.map_err(|e| gate_diagnostic(&e))?;
    // elapsed_us includes waiting for a core (Terraform plans ~10 resources at once); cpu_us is the evaluation's own.
    tracing::debug!(
        elapsed_us = started.elapsed().as_micros() as u64,
        cpu_us = cpu.as_micros() as u64,
        results = decision.results.len(),
        outcome = ?decision.outcome,
        "guardrails evaluated"
    );
    Ok(decision)
}

/// CPU time the calling thread has used (Linux `CLOCK_THREAD_CPUTIME_ID`; zero where unavailable).
fn thread_cpu_time() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// The provider's wording of a gate error: a summary per kind of problem and a detail naming the provider setting
/// to fix (`policy.override[0]`, `policy.audit_log`).
fn gate_diagnostic(e: &GateError) -> Diagnostic {
    match e {
        GateError::Override {
            origin,
            problem: OverrideProblem::UnknownRule { rule_id },
        } => Diagnostic::error(
            "Unknown rule in policy override",
            format!(
                "{origin}: rule {rule_id:?} is not in the loaded policy bundle; use an id that `dbpolicy rules` \
                 lists (e.g. \"DBP-DEL-002\") or remove the override."
            ),
        ),
        GateError::Override { .. } => Diagnostic::error("Policy override not allowed", format!("{e}.")),
        // Only `dbpolicy check --skip-rule` asks for skips; the provider never does, but names it if it happens.
        GateError::Skip { .. } => Diagnostic::error("Rule skip not allowed", format!("{e}.")),
        GateError::OverrideNotRecorded { refused } => {
            let lines: Vec<String> = refused
                .iter()
                .map(|r| {
                    format!(
                        "[{}] {}: {} (override from {} by {:?}, reason {:?})",
                        r.rule_id, r.title, r.message, r.origin, r.by, r.reason
                    )
                })
                .collect();
            Diagnostic::error(
                "Policy override refused: no audit log",
                format!(
                    "{}\n\nAn override takes effect only when the decision that uses it is recorded, and no audit \
                     log is configured, so the rule still fails. Set policy {{ audit_log = \"/path/to/decisions.jsonl\" \
                     }} in the provider block (or the DBPOLICY_AUDIT_LOG environment variable) and plan again, or fix \
                     the finding.",
                    lines.join("\n")
                ),
            )
        }
        GateError::Evaluation(e) => Diagnostic::error(
            "Policy evaluation failed",
            format!("The guardrail check could not run: {e}"),
        ),
        GateError::InputHash { location, source } => not_recorded(None, location, source),
        GateError::NotRecorded {
            location,
            decision_id,
            source,
        } => not_recorded(Some(decision_id), location, source),
    }
}

/// The fail-closed error of a plan whose decision could not be put on record.
fn not_recorded(
    decision_id: Option<&str>,
    location: &str,
    why: &policy::audit::AuditError,
) -> Diagnostic {
    let what = match decision_id {
        Some(id) => format!("Decision {id}"),
        None => "The decision".to_string(),
    };
    Diagnostic::error(
        "Policy decision not recorded: plan fails closed",
        format!(
            "{what} could not be written to the audit log {location}: {why}\n\nA plan whose decision is not on \
             record fails (overrides and exceptions count only once recorded). Fix: make {location} writable (its \
             directory must exist; check permissions and disk space; `dbpolicy audit verify {location}` reports a \
             damaged log), or point policy.audit_log / DBPOLICY_AUDIT_LOG at a writable file."
        ),
    )
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

    async fn unknown_default_tags(&self) -> Option<std::collections::BTreeSet<String>> {
        let cfg = self.config().await.ok()?;
        if cfg.unknown_settings.contains("default_tags") {
            return None;
        }
        Some(
            cfg.unknown_settings
                .iter()
                .filter_map(|u| u.strip_prefix("default_tags."))
                .map(str::to_string)
                .collect(),
        )
    }

    /// Sends the planned change through the policy gate with the cached engine, the configured overrides, the
    /// enforcement mode (`enforcement_override = "advisory"`) and the audit log; the gate applies overrides only
    /// when the decision can be recorded and fails closed when it cannot be.
    async fn evaluate_policy(
        &self,
        mut plan: ProviderPlan,
    ) -> Result<Option<Decision>, Diagnostic> {
        let cfg = self.config().await?;
        let engine = self.policy_engine(&cfg).await?;
        let audit = provider_audit_config(&cfg)?;

        let terraform_version = Some(cfg.terraform_version.clone()).filter(|v| !v.is_empty());
        plan.terraform_version = terraform_version.clone();
        if plan.address.is_none() {
            plan.address = resource_label(&plan);
        }
        let mut request = GateRequest::new(
            vec![from_provider(plan)],
            chrono::Utc::now(),
            Provenance {
                terraform_workspace: cfg
                    .env
                    .terraform_workspace
                    .clone()
                    .filter(|w| !w.trim().is_empty()),
                terraform_version,
                ..Provenance::new(Source::Provider, env!("CARGO_PKG_VERSION"))
            },
        );
        request.overrides = cfg
            .policy
            .overrides
            .iter()
            .map(|o| RequestedOverride {
                origin: o.origin.clone(),
                rule: o.rule.clone(),
            })
            .collect();
        request.mode = if cfg.policy.is_advisory() {
            EnforcementMode::Advisory
        } else {
            EnforcementMode::Enforce
        };
        run_gate(engine, request, audit).await.map(Some)
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
    async fn record_failover_drill(
        &self,
        record: policy::audit::FailoverDrillRecord,
    ) -> Result<(), Diagnostic> {
        let cfg = self.config().await?;
        let Some(audit) = provider_audit_config(&cfg)? else {
            return Ok(());
        };
        let path = audit.path.clone();
        append_record(audit, RecordBody::FailoverDrill(record))
            .await
            .map_err(|why| restore_record_failed(&path, &why))
    }
    async fn audit_configured(&self) -> Result<bool, Diagnostic> {
        let cfg = self.config().await?;
        Ok(provider_audit_config(&cfg)?.is_some())
    }
    async fn record_access(&self, body: RecordBody) -> Result<(), Diagnostic> {
        let cfg = self.config().await?;
        let Some(audit) = provider_audit_config(&cfg)? else {
            return Err(no_access_log());
        };
        let path = audit.path.clone();
        append_record(audit, body)
            .await
            .map_err(|why| access_record_failed(&path, &why))
    }
}

/// The error of an access event when no audit log is configured.
fn no_access_log() -> Diagnostic {
    Diagnostic::error(
        "No audit log for access events",
        "Break-glass grants, renewals and revocations must be on record: set policy { audit_log = \"...\" } in \
         the provider block (or DBPOLICY_AUDIT_LOG).",
    )
}

/// The error of an access event that could not be appended.
fn access_record_failed(path: &std::path::Path, why: &str) -> Diagnostic {
    Diagnostic::error(
        "Audit log write failed",
        format!(
            "Cannot append the access event to {}: {why}. Make the file writable (its directory must exist) or \
             point policy.audit_log / DBPOLICY_AUDIT_LOG elsewhere.",
            path.display()
        ),
    )
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::{ConfiguredOverride, ProviderConfig};
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
    async fn a_default_tag_unknown_at_plan_leaves_the_known_tags_satisfying_the_rules() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path(), None, &[]);
        let mut cfg = (*st.config().await.unwrap()).clone();
        cfg.default_tags.remove("cost_center");
        cfg.unknown_settings
            .insert("default_tags.cost_center".into());
        st.set_config(cfg).await;
        let resp = plan(&st, config("tier-3", false)).await;
        let e = errors(&resp);
        assert!(
            !e.iter()
                .any(|e| e.contains("owner") || e.contains("data_classification")),
            "known default tags satisfy the tag rules: {e:?}"
        );
        assert!(
            !e.iter().any(|e| e.contains("no cost_center tag")),
            "an unknown tag is not a missing tag: {e:?}"
        );
        let tags_all = resp.planned.get("tags_all");
        assert_eq!(tags_all.get("owner").as_str(), Some("payments"));
        assert!(tags_all.get("cost_center").is_unknown(), "{tags_all:?}");
    }

    #[tokio::test]
    async fn the_backend_is_built_once_per_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path(), None, &[]);
        let a = st.database_backend().await.unwrap();
        let b = st.database_backend().await.unwrap();
        assert!(Arc::ptr_eq(&a, &b), "one backend per configuration");
        st.set_config((*st.config().await.unwrap()).clone()).await;
        let c = st.database_backend().await.unwrap();
        assert!(
            !Arc::ptr_eq(&a, &c),
            "a new configuration builds its backend again"
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
    async fn advisory_mode_warns_and_records_the_recomputed_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let st = state(dir.path(), Some(log.clone()), &[]);
        let mut cfg = (*st.config().await.unwrap()).clone();
        cfg.policy.enforcement_override = Some("advisory".into());
        st.set_config(cfg).await;
        let resp = plan(&st, config("tier-2", true)).await;
        assert!(errors(&resp).is_empty(), "{:?}", errors(&resp));
        let w = resp
            .diagnostics
            .iter()
            .find(|d| d.summary.starts_with("[DBP-DEL-002]"))
            .unwrap_or_else(|| panic!("{:?}", resp.diagnostics));
        assert_eq!(w.severity, Severity::Warning);
        let records = lines(&log);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["outcome"], "pass", "{}", records[0]);
        assert_eq!(
            records[0]["result"]["resources"][0]["rules"]["DBP-DEL-002"],
            "warn"
        );
        let private: BTreeMap<String, String> =
            serde_json::from_slice(&resp.planned_private).unwrap();
        assert_eq!(private["outcome"], "pass");
        assert_eq!(private["fail"], "0");
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
