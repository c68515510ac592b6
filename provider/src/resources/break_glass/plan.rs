//! Planning a break-glass grant: the computed values a grant, renewal or revocation will have, the tier and role
//! template the guardrails judge it by, and the guardrails themselves (on a grant or renewal only).

use chrono::{DateTime, Utc};
use policy::adapter::planned_state::ProviderPlan;
use policy::model::Action;

use super::schema::{spec_of, GrantSpec, RENEWAL_ARGUMENTS};
use super::{time_of, BreakGlassResource, TYPE_NAME};
use crate::backend::roles::break_glass::{role_kind, RoleKind};
use crate::backend::DatabaseBackend;
use crate::framework::{AttributePath, Diagnostic, PlanRequest, PlanResponse, Value};
use crate::resources::database::guardrails::{self, HintContext};
use crate::resources::database::state::json_unknown_paths;
use crate::resources::role::admin_client;

/// What the plan does to the access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Grant,
    Renew,
    Revoke,
    Keep,
}

/// Which change a plan is, from the prior state and the planned arguments.
pub(super) fn change_of(prior: &Value, planned: &Value, now: DateTime<Utc>) -> Change {
    if prior.is_null() {
        return Change::Grant;
    }
    if RENEWAL_ARGUMENTS
        .iter()
        .any(|a| prior.get(a) != planned.get(a))
    {
        return Change::Renew;
    }
    let active = prior.get("active").as_bool() == Some(true);
    let past = prior.get("expired").as_bool() == Some(true)
        || time_of(prior, "expires_at").is_some_and(|t| t <= now);
    if active && past {
        Change::Revoke
    } else {
        Change::Keep
    }
}

/// The database's tier, when the database exists (unknown while it is created in the same apply).
async fn tier_of(backend: &dyn DatabaseBackend, db: &str) -> Value {
    match backend.read(db).await {
        Ok(Some(info)) if !info.spec.tier.is_empty() => Value::string(info.spec.tier),
        _ => Value::Unknown,
    }
}

/// The role's template (null for a role no dbplatform_role made), unknown while the role does not exist yet.
async fn template_of(backend: &dyn DatabaseBackend, spec: &GrantSpec) -> Result<Value, Diagnostic> {
    let Ok((client, _)) = admin_client(backend, &spec.database).await else {
        return Ok(Value::Unknown);
    };
    match role_kind(&client, &spec.database, &spec.role).await {
        Ok(Some(RoleKind::Managed(t))) => Ok(Value::string(t.name())),
        Ok(Some(RoleKind::Unmanaged)) => Ok(Value::Null),
        Ok(None) => Ok(Value::Unknown),
        Err(e) => Err(Diagnostic::error("Role cannot be granted", e.to_string())
            .at(AttributePath::attr("role"))),
    }
}

impl BreakGlassResource {
    /// Computed values for the change, and the guardrails on a grant or renewal.
    pub(super) async fn plan_change(&self, req: PlanRequest, now: DateTime<Utc>) -> PlanResponse {
        let mut resp = PlanResponse {
            planned: req.planned.clone(),
            ..Default::default()
        };
        if req.planned.is_null() {
            return resp;
        }
        let prior = &req.prior_state;
        let planned = &mut resp.planned;
        let spec = match spec_of(planned) {
            Ok(s) => s,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        match &spec {
            Some(s) => {
                planned.set(
                    "id",
                    Value::string(format!("{}/{}", s.database, s.username())),
                );
                planned.set("username", Value::string(s.username()));
                planned.set("role_name", Value::string(&s.role));
                planned.set(
                    "ttl_seconds",
                    s.ttl
                        .map_or(Value::Null, |d| Value::int(d.as_secs() as i64)),
                );
            }
            None => {
                for k in ["id", "username", "role_name", "ttl_seconds"] {
                    planned.set(k, Value::Unknown);
                }
            }
        }
        let change = change_of(prior, planned, now);
        for k in [
            "role_template",
            "tier",
            "password_file",
            "granted_at",
            "expires_at",
            "expired",
            "active",
            "revoked_at",
        ] {
            planned.set(k, prior.get(k).clone());
        }
        match change {
            Change::Keep => return resp,
            Change::Revoke => {
                planned.set("active", Value::Bool(false));
                planned.set("expired", Value::Bool(true));
                planned.set("revoked_at", Value::Unknown);
                planned.set("password_file", Value::Null);
                return resp;
            }
            Change::Grant | Change::Renew => {
                for k in ["password_file", "granted_at", "expires_at"] {
                    planned.set(k, Value::Unknown);
                }
                planned.set("active", Value::Bool(true));
                planned.set("expired", Value::Bool(false));
                planned.set("revoked_at", Value::Null);
            }
        }
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        match &spec {
            Some(s) => {
                planned.set("tier", tier_of(backend.as_ref(), &s.database).await);
                match template_of(backend.as_ref(), s).await {
                    Ok(t) => planned.set("role_template", t),
                    Err(d) => resp.diagnostics.push(d),
                }
            }
            None => {
                planned.set("tier", Value::Unknown);
                planned.set("role_template", Value::Unknown);
            }
        }
        match self.env.audit_configured().await {
            Ok(true) => {}
            Ok(false) => resp.diagnostics.push(
                Diagnostic::error(
                    "Break-glass access needs an audit log",
                    "Every grant, renewal and revocation is put on record, so access is not granted without an audit \
                     log: set policy { audit_log = \"...\" } in the provider block (or DBPOLICY_AUDIT_LOG).",
                ),
            ),
            Err(d) => resp.diagnostics.push(d),
        }
        self.guardrails(&mut resp, prior, change).await;
        if resp.planned.get("ttl").is_null() {
            resp.diagnostics.push(
                Diagnostic::error(
                    "Break-glass access without a ttl",
                    "Set ttl (e.g. \"4h\"): the database refuses the login when it runs out, so access cannot outlive the incident.",
                )
                .at(AttributePath::attr("ttl")),
            );
        }
        resp
    }

    /// The guardrails on a grant or renewal, as diagnostics on the attributes at fault.
    async fn guardrails(&self, resp: &mut PlanResponse, prior: &Value, change: Change) {
        let planned = &resp.planned;
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return;
            }
        };
        let plan = ProviderPlan {
            resource_type: TYPE_NAME.into(),
            address: None,
            action: if change == Change::Grant {
                Action::Create
            } else {
                Action::Update
            },
            before: prior.to_json().filter(|_| !prior.is_null()),
            after: planned.to_json(),
            unknown: json_unknown_paths(planned),
            sensitive: vec![],
            backend: backend.kind().into(),
            default_tags: self.env.default_tags().await,
            terraform_version: None,
        };
        let tier_name = planned.get("tier").as_str().map(str::to_string);
        let decision = match self.env.evaluate_policy(plan).await {
            Ok(Some(d)) => d,
            Ok(None) => return,
            Err(d) => {
                resp.diagnostics.push(d);
                return;
            }
        };
        let max_days = match (&tier_name, self.env.tiers().await) {
            (Some(t), Ok(cat)) => cat.get(t).map(|t| t.max_exception_days),
            _ => None,
        };
        let ctx = HintContext {
            today: Utc::now().date_naive(),
            tier: tier_name.unwrap_or_else(|| "the database's tier".into()),
            max_days: max_days.unwrap_or(30),
        };
        resp.diagnostics
            .extend(guardrails::diagnostics(&decision, &ctx));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(active: bool, expired: bool, expires_at: &str) -> Value {
        Value::object([
            ("ttl", Value::string("1h")),
            ("reason", Value::string("r")),
            ("ticket", Value::string("T-1")),
            ("approved_by", Value::string("bob")),
            ("active", Value::Bool(active)),
            ("expired", Value::Bool(expired)),
            ("expires_at", Value::string(expires_at)),
        ])
    }

    #[test]
    fn expiry_plans_a_revocation_once() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let live = state(true, false, "2026-01-01T13:00:00Z");
        assert_eq!(change_of(&Value::Null, &live, now), Change::Grant);
        assert_eq!(change_of(&live, &live, now), Change::Keep);
        // Refresh saw it expire, or the window passed since: the plan revokes.
        let seen = state(true, true, "2026-01-01T13:00:00Z");
        assert_eq!(change_of(&seen, &seen, now), Change::Revoke);
        let passed = state(true, false, "2026-01-01T11:59:59Z");
        assert_eq!(change_of(&passed, &passed, now), Change::Revoke);
        // Revoked already: nothing more to do, until a renewal.
        let revoked = state(false, true, "2026-01-01T11:00:00Z");
        assert_eq!(change_of(&revoked, &revoked, now), Change::Keep);
        let mut renewed = revoked.clone();
        renewed.set("ticket", Value::string("T-2"));
        assert_eq!(change_of(&revoked, &renewed, now), Change::Renew);
    }
}
