//! Short-lived logins for a role over SQL: a `LOGIN` role that is a member of the group role, with a random
//! password (sent as a SCRAM verifier) and `VALID UNTIL`, so the database itself refuses it after expiry even if
//! nobody closes it. Renew moves the expiry; close ends its sessions and drops it.

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use tokio_postgres::Client;

use super::ident::{quote_ident, quote_literal};
use crate::backend::BackendError;

/// A login handed to Terraform for one run.
#[derive(Clone, PartialEq)]
pub struct Login {
    pub username: String,
    pub password: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Marker in the comment of every short-lived login, so reviews and clean-ups can find them.
pub const LOGIN_COMMENT_PREFIX: &str = "dbplatform credential of ";

fn sql_error(db: &str, what: &str, e: &tokio_postgres::Error) -> BackendError {
    BackendError::Sql {
        name: db.to_string(),
        message: format!(
            "{what}: {}",
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string())
        ),
    }
}

/// A random password of 32 letters and digits (about 190 bits).
pub fn random_password() -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// The login name for `role`: the role, `_tmp_` and 8 random hex digits (within PostgreSQL's 63 bytes).
pub fn login_name(role: &str) -> String {
    let suffix: u32 = rand::thread_rng().gen();
    let base: String = role.chars().take(50).collect();
    format!("{base}_tmp_{suffix:08x}")
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Creates a login member of `role`, valid for `ttl`. The role must exist (a managed dbplatform_role).
pub async fn open_login(
    client: &Client,
    db: &str,
    role: &str,
    ttl: std::time::Duration,
) -> Result<Login, BackendError> {
    let exists = client
        .query_opt(
            "SELECT rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .map_err(|e| sql_error(db, "looking up the role", &e))?;
    match exists {
        None => {
            return Err(BackendError::Invalid {
                field: "role_id".into(),
                message: format!("there is no role {role:?} in database {db:?}; create it with a dbplatform_role first"),
            })
        }
        Some(row) if row.get::<_, bool>(0) => {
            return Err(BackendError::Invalid {
                field: "role_id".into(),
                message: format!("role {role:?} has superuser-like attributes; short-lived logins are only issued for least-privilege roles"),
            })
        }
        Some(_) => {}
    }
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    let expires_at = Utc::now() + ttl;
    let username = login_name(role);
    let password = random_password();
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    let user = quote_ident(&username);
    let sql = format!(
        "BEGIN; SELECT pg_advisory_xact_lock({}); CREATE ROLE {user} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT \
         PASSWORD {} VALID UNTIL {} IN ROLE {}; COMMENT ON ROLE {user} IS {}; COMMIT",
        super::reconcile::ROLE_LOCK,
        quote_literal(&verifier),
        quote_literal(&ts(expires_at)),
        quote_ident(role),
        quote_literal(&format!("{LOGIN_COMMENT_PREFIX}{role} until {}", ts(expires_at)))
    );
    client.batch_execute(&sql).await.map_err(|e| {
        sql_error(
            db,
            &format!("creating login {username:?} for role {role:?}"),
            &e,
        )
    })?;
    Ok(Login {
        username,
        password,
        expires_at,
    })
}

/// Moves a login's expiry to now + `ttl`.
pub async fn renew_login(
    client: &Client,
    db: &str,
    username: &str,
    ttl: std::time::Duration,
) -> Result<DateTime<Utc>, BackendError> {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    let expires_at = Utc::now() + ttl;
    client
        .batch_execute(&format!(
            "ALTER ROLE {} VALID UNTIL {}",
            quote_ident(username),
            quote_literal(&ts(expires_at))
        ))
        .await
        .map_err(|e| sql_error(db, &format!("renewing login {username:?}"), &e))?;
    Ok(expires_at)
}

/// Ends a login's sessions, takes `role` away and drops the login (what it created goes to `role`): NOLOGIN first,
/// so no session starts between ending them and the drop. A login already gone is fine; so is a role already gone.
pub async fn drop_login(
    client: &Client,
    db: &str,
    username: &str,
    role: &str,
) -> Result<(), BackendError> {
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&username])
        .await
        .map_err(|e| sql_error(db, "looking up the login", &e))?
        .is_some();
    if !exists {
        return Ok(());
    }
    let user = quote_ident(username);
    // NOLOGIN first, so no new session starts between ending the sessions and dropping the role.
    client
        .batch_execute(&format!("ALTER ROLE {user} NOLOGIN"))
        .await
        .map_err(|e| sql_error(db, &format!("disabling login {username:?}"), &e))?;
    client
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            &[&username],
        )
        .await
        .map_err(|e| sql_error(db, &format!("ending the sessions of {username:?}"), &e))?;
    let role_exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
        .await
        .map_err(|e| sql_error(db, "looking up the role", &e))?
        .is_some();
    let reassign = if role_exists {
        format!(
            "REVOKE {role} FROM {user}; REASSIGN OWNED BY {user} TO {role}; ",
            role = quote_ident(role)
        )
    } else {
        String::new()
    };
    client
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({}); {reassign}DROP OWNED BY {user}; DROP ROLE {user}; COMMIT",
            super::reconcile::ROLE_LOCK
        ))
        .await
        .map_err(|e| sql_error(db, &format!("revoking and dropping login {username:?}"), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords_are_random_and_fit() {
        let a = login_name(&"r".repeat(63));
        assert!(a.len() <= 63 && a.contains("_tmp_"), "{a}");
        assert_ne!(login_name("app"), login_name("app"));
        let p = random_password();
        assert_eq!(p.len(), 32);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        let l = Login {
            username: "u".into(),
            password: p.clone(),
            expires_at: Utc::now(),
        };
        assert!(!format!("{l:?}").contains(&p));
    }
}
