//! Break-glass logins over SQL: a named person's own `LOGIN` role, member of the role they were granted, with
//! `VALID UNTIL` the end of the approved window, so the database itself refuses the login once the window is over
//! (nobody has to remember to revoke). Revocation ends its sessions, takes the membership away and drops the login.
//!
//! The login name is derived from the person and the role (`bg_alice_example_com_1a2b3c4d`), so refresh and
//! revocation find it again without anything else being stored, and two grants to one person for two roles are two
//! logins that expire separately.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::ident::{quote_ident, quote_literal};
use super::reconcile::{parse_comment, ROLE_LOCK};
use super::Template;
use crate::backend::BackendError;

/// Prefix of every break-glass login's comment, so reviews can tell them from application logins.
pub const BREAK_GLASS_COMMENT_PREFIX: &str = "dbplatform break-glass of ";

/// The role a grant names, as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleKind {
    /// Made by `dbplatform_role` from this template.
    Managed(Template),
    /// Made some other way: what it holds is not bounded by a template.
    Unmanaged,
}

/// A break-glass login as the database sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFacts {
    /// `VALID UNTIL`, RFC 3339 UTC; `None` when the login has no expiry (someone changed it by hand).
    pub valid_until: Option<String>,
    /// Whether the database's clock is past `valid_until` (it refuses the login).
    pub expired: bool,
    /// Whether the login is still a member of the granted role.
    pub member: bool,
}

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

/// The login name of `person`'s break-glass access to `role`: `bg_`, the person in lower-case letters, digits and
/// `_` (at most 40), and 8 hex digits of a hash of person and role (within PostgreSQL's 63 bytes).
pub fn login_name(person: &str, role: &str) -> String {
    let cleaned: String = person
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    let digest = Sha256::digest(format!("{person}\n{role}").as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("bg_{}_{hex}", cleaned.trim_matches('_'))
}

/// RFC 3339 with whole seconds, as state and the audit log show times.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What role `role` is: `None` when there is no such role. Refuses roles with superuser-like attributes, which
/// no break-glass grant hands out.
pub async fn role_kind(
    client: &Client,
    db: &str,
    role: &str,
) -> Result<Option<RoleKind>, BackendError> {
    let row = client
        .query_opt(
            "SELECT rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls, shobj_description(oid, 'pg_authid') \
             FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .map_err(|e| sql_error(db, &format!("looking up role {role:?}"), &e))?;
    let Some(row) = row else { return Ok(None) };
    if row.get::<_, bool>(0) {
        return Err(BackendError::Invalid {
            field: "role".into(),
            message: format!(
                "role {role:?} has superuser-like attributes (SUPERUSER, CREATEROLE, REPLICATION or BYPASSRLS); break-glass access is only granted to roles without them"
            ),
        });
    }
    let comment: Option<String> = row.get(1);
    Ok(Some(match comment.as_deref().and_then(parse_comment) {
        Some((t, _)) => RoleKind::Managed(t),
        None => RoleKind::Unmanaged,
    }))
}

/// Grants (or renews) `username` membership in `role` until `expires_at` with `password` (sent as a SCRAM
/// verifier): creates the login, or moves the expiry and password of the one that exists.
pub async fn grant(
    client: &Client,
    db: &str,
    username: &str,
    role: &str,
    person: &str,
    password: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), BackendError> {
    if role_kind(client, db, role).await?.is_none() {
        return Err(BackendError::Invalid {
            field: "role".into(),
            message: format!(
                "there is no role {role:?} in database {db:?}; create it with a dbplatform_role first"
            ),
        });
    }
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&username])
        .await
        .map_err(|e| sql_error(db, "looking up the login", &e))?
        .is_some();
    let user = quote_ident(username);
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    let until = quote_literal(&ts(expires_at));
    let set = if exists {
        format!(
            "ALTER ROLE {user} WITH LOGIN PASSWORD {} VALID UNTIL {until}; GRANT {} TO {user}",
            quote_literal(&verifier),
            quote_ident(role)
        )
    } else {
        format!(
            "CREATE ROLE {user} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT \
             PASSWORD {} VALID UNTIL {until} IN ROLE {}",
            quote_literal(&verifier),
            quote_ident(role)
        )
    };
    let comment = format!(
        "{BREAK_GLASS_COMMENT_PREFIX}{person} to {role} until {}",
        ts(expires_at)
    );
    let sql = format!(
        "BEGIN; SELECT pg_advisory_xact_lock({ROLE_LOCK}); {set}; COMMENT ON ROLE {user} IS {}; COMMIT",
        quote_literal(&comment)
    );
    client.batch_execute(&sql).await.map_err(|e| {
        sql_error(
            db,
            &format!("granting {role:?} to {username:?} until {}", ts(expires_at)),
            &e,
        )
    })
}

/// Reads the login, `None` when it does not exist. Only reads.
pub async fn observe_login(
    client: &Client,
    db: &str,
    username: &str,
    role: &str,
) -> Result<Option<LoginFacts>, BackendError> {
    let row = client
        .query_opt(
            "SELECT to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                    coalesce(r.rolvaliduntil <= now(), false), \
                    EXISTS (SELECT 1 FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid \
                            WHERE am.member = r.oid AND g.rolname = $2) \
             FROM pg_roles r WHERE r.rolname = $1",
            &[&username, &role],
        )
        .await
        .map_err(|e| sql_error(db, &format!("reading login {username:?}"), &e))?;
    Ok(row.map(|r| LoginFacts {
        valid_until: r.get(0),
        expired: r.get(1),
        member: r.get(2),
    }))
}

/// Ends the login's sessions, takes `role` away and drops the login (what it created goes to `role`). A login
/// already gone is fine. The same ending as a short-lived credential's ([`super::credentials::drop_login`]).
pub async fn revoke(
    client: &Client,
    db: &str,
    username: &str,
    role: &str,
) -> Result<(), BackendError> {
    super::credentials::drop_login(client, db, username, role).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_are_stable_per_person_and_role_and_fit() {
        let a = login_name("Alice.Smith@example.com", "orders_rw");
        assert!(a.starts_with("bg_alice_smith_example_com_"), "{a}");
        assert_eq!(a, login_name("Alice.Smith@example.com", "orders_rw"));
        assert_ne!(a, login_name("Alice.Smith@example.com", "orders_ro"));
        let long = login_name(&"x".repeat(200), "r");
        assert!(long.len() <= 63, "{long}");
        assert!(
            super::super::ident::role_name_problem(&long).is_none(),
            "{long}"
        );
    }
}
