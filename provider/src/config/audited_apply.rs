//! Apply outcomes on record: a wrapper resource that appends an `apply` record to the audit log after each
//! apply, so `dbpolicy audit report` can count failed changes against the decisions that let them through.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use policy::audit::RecordBody;

use super::audit::{append_record, provider_audit_config};
use super::state::ProviderState;
use crate::framework::Diagnostic;

/// Wraps a resource so each apply appends an `apply` record (succeeded or failed, with the id of the decision
/// that gated it) when an audit log is configured: the change failure rate of `dbpolicy audit report`. The change
/// has already happened when the record is written, so a write failure is a warning, not a failed apply.
pub struct AuditedApply {
    inner: Arc<dyn crate::framework::Resource>,
    state: Arc<ProviderState>,
}

impl AuditedApply {
    /// `inner` with apply outcomes recorded through the audit settings of `state`.
    pub fn new(inner: Arc<dyn crate::framework::Resource>, state: Arc<ProviderState>) -> Self {
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
    use super::*;
    use crate::config::ProviderConfig;
    use crate::framework::{Resource, Value};

    /// A provider state for the local backend with `audit_log` set.
    fn state(dir: &std::path::Path, audit_log: Option<std::path::PathBuf>) -> Arc<ProviderState> {
        let mut cfg = ProviderConfig::local(dir.join("data"));
        cfg.terraform_version = "1.9.8".into();
        cfg.policy.audit_log = audit_log;
        Arc::new(ProviderState::with_config(cfg))
    }

    /// A planned `dbplatform_database` named "orders".
    fn config() -> Value {
        let mut v = Value::Object(BTreeMap::new());
        v.set("name", Value::string("orders"));
        v.set("tier", Value::string("tier-3"));
        v.set("skip_final_snapshot", Value::Bool(false));
        v
    }

    fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
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
        let st = state(dir.path(), Some(log.clone()));
        let planned = config();
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
        let st = state(dir.path(), None);
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
