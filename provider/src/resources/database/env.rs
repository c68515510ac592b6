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
use policy::audit::{AuditConfig, AuditLog, RecordBody};
use policy::engine::PolicyEngine;
use policy::gate::{
    self, DecisionSink, EnforcementMode, GateError, GateRequest, OverrideProblem, Provenance,
    RequestedOverride, Source,
};
use policy::model::decision::Decision;
use policy::model::tiers::TierCatalogue;

use crate::backend::DatabaseBackend;
use crate::framework::Diagnostic;
use crate::resources::provider::ProviderConfig;

/// The provider-side services the database resources call.
#[async_trait]
pub trait DatabaseEnv: Send + Sync {
    /// The backend databases are created on; an error diagnostic when the provider is not configured for one.
    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic>;
    /// The tier catalogue tiers expand from.
    async fn tiers(&self) -> Result<Arc<TierCatalogue>, Diagnostic>;
    /// The provider's `default_tags`, merged under each resource's `tags`.
    async fn default_tags(&self) -> BTreeMap<String, String>;
    /// Evaluates the guardrails on one planned change; `Ok(None)` when policy checks are turned off.
    async fn evaluate_policy(&self, plan: ProviderPlan) -> Result<Option<Decision>, Diagnostic>;
    /// Appends a restore-test result to the audit log (no-op when no audit log is configured).
    async fn record_restore_test(
        &self,
        record: policy::audit::RestoreTestRecord,
    ) -> Result<(), Diagnostic>;
}

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
}

/// The backend a provider configuration selects.
pub fn backend_for(
    cfg: &crate::resources::provider::ProviderConfig,
) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
    use crate::resources::provider::BackendKind;
    match cfg.backend {
        BackendKind::Local => {
            if cfg.local.data_dir.as_os_str().is_empty() {
                return Err(Diagnostic::error(
                    "local.data_dir not set",
                    "The local backend needs a directory for its databases: set local { data_dir = \"...\" } in the provider block.",
                ));
            }
            Ok(Arc::new(crate::backend::local::LocalBackend::new(
                cfg.local.data_dir.clone(),
            )))
        }
        BackendKind::Aws => crate::backend::aws::shared_backend(&cfg.aws)
            .map(|b| b as Arc<dyn DatabaseBackend>)
            .map_err(|e| Diagnostic::error("aws backend not configured", e.to_string())),
    }
}

/// The audit log settings when an audit log is configured: `policy.audit_log`, else `DBPOLICY_AUDIT_LOG` (with
/// `DBPOLICY_AUDIT_KEY`, `DBPOLICY_AUDIT_PG`, `DBPOLICY_AUDIT_MAX_BYTES`); `None` when neither names a log, so
/// plans without an audit log do not write to a default location behind the user's back.
pub fn provider_audit_config(cfg: &ProviderConfig) -> Result<Option<AuditConfig>, Diagnostic> {
    let env_set = std::env::var(policy::audit::config::ENV_LOG).is_ok_and(|v| !v.trim().is_empty());
    if cfg.policy.audit_log.is_none() && !env_set {
        return Ok(None);
    }
    AuditConfig::resolve(cfg.policy.audit_log.as_deref())
        .map(Some)
        .map_err(|e| {
            Diagnostic::error(
                "Invalid audit log settings",
                format!(
                    "The audit log settings (policy.audit_log and the DBPOLICY_AUDIT_* environment variables) are \
                     invalid: {e}. Fix them, or unset them to plan without an audit log."
                ),
            )
        })
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
        gate::decide(
            &engine,
            request,
            audit.as_ref().map(|a| a as &dyn DecisionSink),
        )
    })
    .await
    .map_err(|e| {
        Diagnostic::error(
            "Policy evaluation failed",
            format!("The guardrail check stopped unexpectedly: {e}"),
        )
    })?;
    let decision = decided.map_err(|e| gate_diagnostic(&e))?;
    tracing::debug!(
        elapsed_us = started.elapsed().as_micros() as u64,
        results = decision.results.len(),
        outcome = ?decision.outcome,
        "guardrails evaluated"
    );
    Ok(decision)
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
impl DatabaseEnv for crate::resources::provider::ProviderState {
    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
        backend_for(&*self.config().await?)
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
                terraform_workspace: std::env::var("TF_WORKSPACE")
                    .ok()
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
}

/// Appends one record off the async runtime: the audit API blocks on a file lock and fsync (and, with a
/// PostgreSQL sink, runs its own client). The error is the reason, for the caller's diagnostic.
async fn append_record(audit: AuditConfig, body: RecordBody) -> Result<(), String> {
    match tokio::task::spawn_blocking(move || AuditLog::from_config(&audit)?.append(body)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("the audit writer stopped unexpectedly: {e}")),
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

/// Wraps a resource so each apply appends an `apply` record (succeeded or failed, with the id of the decision
/// that gated it) when an audit log is configured: the change failure rate of `dbpolicy audit report`. The change
/// has already happened when the record is written, so a write failure is a warning, not a failed apply.
pub struct AuditedApply {
    inner: Arc<dyn crate::framework::Resource>,
    state: Arc<crate::resources::provider::ProviderState>,
}

impl AuditedApply {
    /// `inner` with apply outcomes recorded through the audit settings of `state`.
    pub fn new(
        inner: Arc<dyn crate::framework::Resource>,
        state: Arc<crate::resources::provider::ProviderState>,
    ) -> Self {
        Self { inner, state }
    }
}

/// The `apply` record of one finished apply.
fn apply_record(
    type_name: &str,
    req: &crate::framework::ApplyRequest,
    resp: &crate::framework::ApplyResponse,
) -> policy::audit::ApplyRecord {
    let action = if req.prior.is_null() {
        "create"
    } else if req.planned.is_null() {
        "delete"
    } else {
        "update"
    };
    let name = [&req.planned, &req.prior]
        .into_iter()
        .find_map(|v| v.get("name").as_str().map(str::to_string));
    let address = match name {
        Some(n) => format!("{type_name} {n:?}"),
        None => type_name.to_string(),
    };
    let decision_id = serde_json::from_slice::<BTreeMap<String, String>>(&req.planned_private)
        .ok()
        .and_then(|m| m.get("decision_id").cloned());
    let error = resp
        .diagnostics
        .iter()
        .find(|d| d.severity == crate::framework::Severity::Error)
        .map(|d| format!("{}: {}", d.summary, d.detail));
    policy::audit::ApplyRecord {
        address,
        action: action.into(),
        succeeded: error.is_none(),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        error,
        decision_id,
        source: Some(policy::audit::SourceInfo {
            kind: "provider".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    }
}

#[async_trait]
impl crate::framework::Resource for AuditedApply {
    fn type_name(&self) -> &'static str {
        self.inner.type_name()
    }

    fn schema(&self) -> crate::framework::Schema {
        self.inner.schema()
    }

    async fn validate(&self, config: &crate::framework::Value) -> crate::framework::Diagnostics {
        self.inner.validate(config).await
    }

    async fn plan(&self, req: crate::framework::PlanRequest) -> crate::framework::PlanResponse {
        self.inner.plan(req).await
    }

    async fn apply(&self, req: crate::framework::ApplyRequest) -> crate::framework::ApplyResponse {
        let mut resp = self.inner.apply(req.clone()).await;
        let Ok(cfg) = self.state.config().await else {
            return resp;
        };
        let audit = match provider_audit_config(&cfg) {
            Ok(Some(a)) => a,
            Ok(None) => return resp,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let record = apply_record(self.inner.type_name(), &req, &resp);
        let path = audit.path.clone();
        let Err(why) = append_record(audit, RecordBody::Apply(record)).await else {
            return resp;
        };
        resp.diagnostics.push(Diagnostic::warning(
            "Apply outcome not recorded",
            format!(
                "The change was made, but its outcome could not be written to the audit log {}: {why}. Fix the \
                 log (permissions, disk space, `dbpolicy audit verify`); the next plan fails closed until it is \
                 writable.",
                path.display()
            ),
        ));
        resp
    }

    async fn read(&self, req: crate::framework::ReadRequest) -> crate::framework::ReadResponse {
        self.inner.read(req).await
    }

    async fn import(&self, id: &str) -> crate::framework::ImportResponse {
        self.inner.import(id).await
    }

    async fn upgrade_state(
        &self,
        version: i64,
        raw: serde_json::Value,
    ) -> Result<serde_json::Value, crate::framework::Diagnostics> {
        self.inner.upgrade_state(version, raw).await
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::framework::{PlanRequest, PlanResponse, Resource, Severity, Value};
    use crate::resources::provider::{ConfiguredOverride, ProviderState};
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

    /// A resource whose apply succeeds or fails without touching any backend.
    struct FakeApply {
        fail: bool,
    }

    #[async_trait]
    impl Resource for FakeApply {
        fn type_name(&self) -> &'static str {
            "dbplatform_database"
        }
        fn schema(&self) -> crate::framework::Schema {
            crate::framework::Schema::new(0, crate::framework::Block::new("fake"))
        }
        async fn apply(
            &self,
            req: crate::framework::ApplyRequest,
        ) -> crate::framework::ApplyResponse {
            let mut resp = crate::framework::ApplyResponse {
                new_state: req.planned.clone(),
                ..Default::default()
            };
            if self.fail {
                resp.diagnostics.push(Diagnostic::error(
                    "Could not create database \"orders\"",
                    "disk full",
                ));
            }
            resp
        }
        async fn read(
            &self,
            _req: crate::framework::ReadRequest,
        ) -> crate::framework::ReadResponse {
            crate::framework::ReadResponse::default()
        }
    }

    #[tokio::test]
    async fn apply_outcomes_are_recorded_with_the_gating_decision() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let st = state(dir.path(), Some(log.clone()), &[]);
        let planned = config("tier-3", false);
        let private = br#"{"decision_id":"d-123","outcome":"pass"}"#.to_vec();
        for fail in [false, true] {
            let r = AuditedApply::new(Arc::new(FakeApply { fail }), Arc::clone(&st));
            r.apply(crate::framework::ApplyRequest {
                prior: Value::Null,
                planned: planned.clone(),
                config: planned.clone(),
                planned_private: private.clone(),
            })
            .await;
        }
        let records = lines(&log);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["kind"], "apply");
        assert_eq!(records[0]["action"], "create");
        assert_eq!(records[0]["address"], "dbplatform_database \"orders\"");
        assert_eq!(records[0]["succeeded"], true);
        assert_eq!(records[0]["decision_id"], "d-123");
        assert_eq!(records[1]["succeeded"], false);
        assert!(
            records[1]["error"].as_str().unwrap().contains("disk full"),
            "{}",
            records[1]
        );

        // No audit log: nothing is written, the apply result is untouched.
        let st = state(dir.path(), None, &[]);
        let r = AuditedApply::new(Arc::new(FakeApply { fail: false }), st);
        let resp = r
            .apply(crate::framework::ApplyRequest {
                prior: Value::Null,
                planned: planned.clone(),
                config: planned,
                planned_private: vec![],
            })
            .await;
        assert!(resp.diagnostics.is_empty());
        assert_eq!(lines(&log).len(), 2);
    }
}
