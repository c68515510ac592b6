//! `dbplatform_break_glass`: a named person gets a role for a bounded time. Locally a `LOGIN` role of their own,
//! member of the role, `VALID UNTIL` the end of the window, so the database refuses it after expiry whatever
//! Terraform does ([`crate::backend::roles::break_glass`]).
//!
//! Refresh only reads (the login's expiry, and `expired` once it has passed). The plan after expiry turns `active`
//! to false: that update is the revocation, which apply carries out (REVOKE, DROP ROLE). Changing `ttl`, `reason`,
//! `ticket` or `approved_by` renews the access from apply time. Grants and renewals go through the guardrails
//! (DBP-ACC-001/002) at plan time; every grant, renewal and revocation is appended to the audit log, and
//! access is not granted without one.
//!
//! Files: [`schema`] (attributes, argument checks), `plan` (computed values and the guardrails), `apply` (SQL,
//! password file, audit records).

mod apply;
mod plan;
pub mod schema;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::backend::roles::break_glass::observe_login;
use crate::backend::{BackendError, DatabaseBackend};
use crate::framework::{
    ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, PlanRequest, PlanResponse, ReadRequest,
    ReadResponse, Resource, Schema, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;
use crate::resources::role::admin_client;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_break_glass";

/// The resource.
pub struct BreakGlassResource {
    env: Arc<dyn DatabaseEnv>,
}

impl BreakGlassResource {
    /// Break-glass grants made through `env`'s backend and recorded in its audit log.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

fn backend_error(what: &str, e: &BackendError) -> Diagnostic {
    Diagnostic::error(format!("Cannot {what}"), e.to_string())
}

/// A string attribute of state, empty when null.
fn text(v: &Value, name: &str) -> String {
    v.get(name).as_str().unwrap_or_default().to_string()
}

/// An RFC 3339 attribute of state.
fn time_of(v: &Value, name: &str) -> Option<DateTime<Utc>> {
    v.get(name)
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Reads the login of a break-glass state: its expiry as the database has it, and whether it passed. Never
/// changes the database.
async fn refresh(
    backend: &dyn DatabaseBackend,
    current: &Value,
    now: DateTime<Utc>,
) -> Result<Option<Value>, BackendError> {
    let db = text(current, "database_id");
    let username = text(current, "username");
    let role = text(current, "role_name");
    let mut state = current.clone();
    if current.get("active").as_bool() != Some(true) {
        // Revoked: nothing of it is left in the database to read.
        return Ok(Some(state));
    }
    let client = match admin_client(backend, &db).await {
        Ok((c, _)) => c,
        Err(BackendError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Some(facts) = observe_login(&client, &db, &username, &role).await? {
        if let Some(until) = &facts.valid_until {
            state.set("expires_at", Value::string(until));
        }
        state.set("expired", Value::Bool(facts.expired));
    } else {
        // The login was dropped behind Terraform's back: nothing can log in; the window still ends as recorded.
        let past = time_of(current, "expires_at").is_some_and(|t| t <= now);
        state.set("expired", Value::Bool(past));
    }
    Ok(Some(state))
}

#[async_trait]
impl Resource for BreakGlassResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        schema::validate(config)
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        self.plan_change(req, Utc::now()).await
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        self.apply_change(req, Utc::now()).await
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: req.current.clone(),
            private: req.private.clone(),
            ..Default::default()
        };
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        let now = Utc::now();
        match refresh(backend.as_ref(), &req.current, now).await {
            Ok(Some(s)) => resp.new_state = s,
            Ok(None) => resp.new_state = Value::Null,
            // A database that cannot be reached (stopped, restarting) must not block the plan that would start
            // it: the login's window is known from state, and the database enforces it anyway.
            Err(e) => {
                let mut state = req.current.clone();
                if state.get("active").as_bool() == Some(true)
                    && time_of(&state, "expires_at").is_some_and(|t| t <= now)
                {
                    state.set("expired", Value::Bool(true));
                }
                resp.new_state = state;
                resp.diagnostics.warning(
                    format!(
                        "Cannot read break-glass login {:?}",
                        text(&req.current, "username")
                    ),
                    format!(
                        "{e}. Its expiry ({}) is taken from state; the database refuses the login after it in any case.",
                        text(&req.current, "expires_at")
                    ),
                );
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::aws::{AwsBackend, AwsClientConfig};
    use crate::resources::database::env::StaticEnv;
    use policy::model::tiers::TierCatalogue;

    /// A backend the provider cannot open SQL sessions on (aws): what a stopped or unreachable server looks like
    /// to refresh.
    fn unreachable() -> BreakGlassResource {
        BreakGlassResource::new(Arc::new(StaticEnv {
            backend: Arc::new(AwsBackend::new(&AwsClientConfig::new("us-east-1"))),
            tiers: Arc::new(TierCatalogue::embedded()),
            default_tags: Default::default(),
            engine: None,
            audit_log: None,
        }))
    }

    fn grant(expires_at: &str) -> Value {
        Value::object([
            ("database_id", Value::string("orders")),
            ("username", Value::string("bg_alice_0a1b2c3d")),
            ("role_name", Value::string("orders_rw")),
            ("active", Value::Bool(true)),
            ("expired", Value::Bool(false)),
            ("expires_at", Value::string(expires_at)),
        ])
    }

    #[tokio::test]
    async fn an_unreachable_database_does_not_block_the_plan_and_expiry_comes_from_state() {
        let r = unreachable();
        let past = r
            .read(ReadRequest {
                current: grant("2020-01-01T00:00:00Z"),
                private: vec![],
            })
            .await;
        assert!(!past.diagnostics.has_errors(), "{:?}", past.diagnostics);
        let w = past
            .diagnostics
            .iter()
            .next()
            .map(|d| d.summary.clone())
            .unwrap_or_default();
        assert_eq!(w, "Cannot read break-glass login \"bg_alice_0a1b2c3d\"");
        assert_eq!(past.new_state.get("expired"), &Value::Bool(true));
        let future = r
            .read(ReadRequest {
                current: grant("2999-01-01T00:00:00Z"),
                private: vec![],
            })
            .await;
        assert_eq!(future.new_state.get("expired"), &Value::Bool(false));
    }
}
