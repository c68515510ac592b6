//! `ephemeral "dbplatform_credentials"`: a short-lived login for a `dbplatform_role`, opened for one Terraform
//! run (1.10+) and never written to plan or state. Locally a `VALID UNTIL` login member of the role with a random
//! password; renew moves the expiry, close drops the login. What each backend does is
//! [`crate::backend::DatabaseBackend::open_login`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::framework::access::{get_string, Field};
use crate::framework::duration::parse_duration;
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, EphemeralResource, OpenResponse,
    RenewResponse, Schema, Type, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_credentials";
/// `ttl` when unset.
pub const DEFAULT_TTL: &str = "1h";
/// The longest `ttl` accepted: a credential outliving a working day is no longer short-lived.
pub const MAX_TTL: Duration = Duration::from_secs(12 * 3600);

/// The ephemeral resource.
pub struct CredentialsResource {
    env: Arc<dyn DatabaseEnv>,
}

impl CredentialsResource {
    /// Credentials issued through `env`'s backend.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

/// What renew and close need, kept by Terraform between calls (never shown, never stored).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Handle {
    database: String,
    role: String,
    username: String,
    ttl_seconds: u64,
}

fn parse_ttl(s: &str) -> Result<Duration, String> {
    match parse_duration(s) {
        None => Err(format!("{s:?} is not a duration; use e.g. \"15m\", \"1h\" or \"1h30m\".")),
        Some(d) if d.is_zero() => Err("ttl must be longer than zero.".into()),
        Some(d) if d > MAX_TTL => Err(format!(
            "{s:?} is longer than the 12h a short-lived credential may live; use a shorter ttl (renewals extend it while Terraform runs)."
        )),
        Some(d) => Ok(d),
    }
}

fn parse_role_id(id: &str) -> Result<(String, String), String> {
    id.split_once('/')
        .filter(|(d, r)| !d.is_empty() && !r.is_empty() && !r.contains('/'))
        .map(|(d, r)| (d.to_string(), r.to_string()))
        .ok_or_else(|| format!("{id:?} is not a role id; use a dbplatform_role's id (DATABASE/ROLE), e.g. dbplatform_role.app_ro.id."))
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Renew a third of the ttl before expiry, so a long run never holds an expired login.
fn renew_at(expires: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    expires - chrono::Duration::from_std(ttl / 3).unwrap_or(chrono::Duration::zero())
}

fn error(path: &str, summary: &str, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail).at(AttributePath::attr(path))
}

#[async_trait]
impl EphemeralResource for CredentialsResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let s = Type::String;
        Schema::new(
            0,
            Block::new("A short-lived database login for a dbplatform_role, for one Terraform run; never in plan or state (Terraform 1.10+).")
                .attribute(Attribute::required("role_id", s.clone(), "id of the dbplatform_role (DATABASE/ROLE) the login is a member of."))
                .attribute(Attribute::optional("ttl", s.clone(), "How long the login is valid, e.g. \"15m\" (default 1h, at most 12h); renewals extend it while Terraform runs."))
                .attribute(Attribute::computed("username", s.clone(), "Login name."))
                .attribute(Attribute::computed("password", s.clone(), "Password (or IAM authentication token on aws).").sensitive())
                .attribute(Attribute::computed("expires_at", s, "When the database stops accepting the login, RFC 3339.")),
        )
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Ok(Field::Known(id)) = get_string(config, "role_id") {
            if let Err(m) = parse_role_id(&id) {
                d.push(error("role_id", "Invalid role_id", m));
            }
        }
        if let Ok(Field::Known(t)) = get_string(config, "ttl") {
            if let Err(m) = parse_ttl(&t) {
                d.push(error("ttl", "Invalid ttl", m));
            }
        }
        d
    }

    async fn open(&self, config: Value) -> OpenResponse {
        let mut resp = OpenResponse::default();
        let role_id = get_string(&config, "role_id")
            .ok()
            .and_then(Field::known)
            .unwrap_or_default();
        let ttl_text = get_string(&config, "ttl").ok().and_then(Field::known);
        let parsed = parse_role_id(&role_id)
            .map_err(|m| error("role_id", "Invalid role_id", m))
            .and_then(|r| {
                parse_ttl(ttl_text.as_deref().unwrap_or(DEFAULT_TTL))
                    .map(|t| (r, t))
                    .map_err(|m| error("ttl", "Invalid ttl", m))
            });
        let ((database, role), ttl) = match parsed {
            Ok(x) => x,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        let login = match backend.open_login(&database, &role, ttl).await {
            Ok(l) => l,
            Err(e) => {
                resp.diagnostics.push(error(
                    "role_id",
                    "Cannot open a short-lived login",
                    format!("role {role:?} of database {database:?}: {e}"),
                ));
                return resp;
            }
        };
        let handle = Handle {
            database,
            role,
            username: login.username.clone(),
            ttl_seconds: ttl.as_secs(),
        };
        resp.private = serde_json::to_vec(&handle).unwrap_or_default();
        resp.renew_at = Some(renew_at(login.expires_at, ttl));
        resp.result = Value::object([
            ("role_id", Value::string(role_id)),
            ("ttl", ttl_text.map(Value::string).unwrap_or(Value::Null)),
            ("username", Value::string(&login.username)),
            ("password", Value::string(&login.password)),
            ("expires_at", Value::string(ts(login.expires_at))),
        ]);
        resp
    }

    async fn renew(&self, private: Vec<u8>) -> RenewResponse {
        let mut resp = RenewResponse {
            private: private.clone(),
            ..Default::default()
        };
        let Ok(h) = serde_json::from_slice::<Handle>(&private) else {
            resp.diagnostics.error(
                "Cannot renew the login",
                "Terraform handed back data this provider did not write.",
            );
            return resp;
        };
        let ttl = Duration::from_secs(h.ttl_seconds);
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        match backend.renew_login(&h.database, &h.username, ttl).await {
            Ok(expires) => resp.renew_at = Some(renew_at(expires, ttl)),
            Err(e) => resp
                .diagnostics
                .error("Cannot renew the login", format!("{}: {e}", h.username)),
        }
        resp
    }

    async fn close(&self, private: Vec<u8>) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Ok(h) = serde_json::from_slice::<Handle>(&private) else {
            d.error(
                "Cannot close the login",
                "Terraform handed back data this provider did not write.",
            );
            return d;
        };
        match self.env.backend().await {
            Err(e) => d.push(e),
            Ok(backend) => {
                if let Err(e) = backend.close_login(&h.database, &h.username, &h.role).await {
                    d.warning(
                        "Short-lived login not dropped",
                        format!("{} stays until it expires (VALID UNTIL): {e}", h.username),
                    );
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_and_role_id_are_checked_with_the_fix() {
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert!(parse_ttl("13h").is_err_and(|m| m.contains("12h")));
        assert!(parse_ttl("soon").is_err_and(|m| m.contains("15m")));
        assert_eq!(
            parse_role_id("orders/app_ro"),
            Ok(("orders".into(), "app_ro".into()))
        );
        assert!(parse_role_id("app_ro").is_err_and(|m| m.contains("DATABASE/ROLE")));
    }

    #[test]
    fn renewal_comes_before_expiry() {
        let now = Utc::now();
        let ttl = Duration::from_secs(900);
        let at = renew_at(now + chrono::Duration::seconds(900), ttl);
        assert_eq!(at, now + chrono::Duration::seconds(600));
    }
}
