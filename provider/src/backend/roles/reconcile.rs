//! Bringing a role to its template in one transaction (create it or fix its attributes, revoke what it holds
//! beyond the template, grant what it lacks), and dropping it. Run with administrative rights on the database.

use std::collections::BTreeSet;

use tokio_postgres::Client;

use super::grant::SqlContext;
use super::ident::{quote_ident, quote_literal};
use super::observe::{observe, RoleFacts};
use super::template::Template;
use crate::backend::BackendError;

/// The advisory lock key serializing role changes on one server ("dbp-role" in ASCII).
pub const ROLE_LOCK: i64 = 0x6462_702d_726f_6c65;

/// What a managed role should be.
#[derive(Clone)]
pub struct RoleSpec {
    pub name: String,
    pub template: Template,
    pub schemas: Vec<String>,
    pub login: bool,
    /// -1 for no limit.
    pub connection_limit: i64,
    /// A new password to set (write-only argument); `None` leaves the current one.
    pub password: Option<String>,
}

impl std::fmt::Debug for RoleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSpec")
            .field("name", &self.name)
            .field("template", &self.template)
            .field("schemas", &self.schemas)
            .field("login", &self.login)
            .field("connection_limit", &self.connection_limit)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The comment dbplatform leaves on a role it manages: the template and schemas, so import can read them back.
pub fn role_comment(spec: &RoleSpec) -> String {
    format!(
        "dbplatform template={} schemas={}",
        spec.template.name(),
        spec.schemas.join(",")
    )
}

/// Template and schemas from a role's comment, when dbplatform wrote it.
pub fn parse_comment(comment: &str) -> Option<(Template, Vec<String>)> {
    let rest = comment.strip_prefix("dbplatform ")?;
    let mut template = None;
    let mut schemas = Vec::new();
    for part in rest.split_whitespace() {
        if let Some(t) = part.strip_prefix("template=") {
            template = Template::parse(t);
        } else if let Some(s) = part.strip_prefix("schemas=") {
            schemas = s
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    Some((template?, schemas))
}

/// The `(privilege, schema)` pairs folded into "on all" when observing a role of `spec`'s template.
pub fn folded(template: Template, schemas: &[String]) -> [BTreeSet<(String, String)>; 2] {
    let pairs = |privs: &[&str]| {
        schemas
            .iter()
            .flat_map(|s| privs.iter().map(move |p| (p.to_string(), s.clone())))
            .collect()
    };
    [
        pairs(template.table_privileges()),
        pairs(template.sequence_privileges()),
    ]
}

/// Reads a managed role as its template sees it.
pub async fn read_role(
    client: &Client,
    db: &str,
    role: &str,
    template: Template,
    schemas: &[String],
) -> Result<Option<RoleFacts>, BackendError> {
    let [t, s] = folded(template, schemas);
    observe(client, db, role, &t, &s).await
}

async fn owner_of_current_db(client: &Client, db: &str) -> Result<String, BackendError> {
    client
        .query_one(
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await
        .map(|r| r.get(0))
        .map_err(|e| sql_error(db, &e))
}

fn sql_error(db: &str, e: &tokio_postgres::Error) -> BackendError {
    BackendError::Sql {
        name: db.to_string(),
        message: e
            .as_db_error()
            .map(|d| {
                let mut m = d.message().to_string();
                if let Some(h) = d.hint() {
                    m.push_str(&format!(" ({h})"));
                }
                m
            })
            .unwrap_or_else(|| e.to_string()),
    }
}

/// Creates or converges `spec` on the current database (`db` is its name, for SQL and messages) and returns the
/// role as it is afterwards. Everything happens in one transaction: a failure leaves the role as it was.
pub async fn converge(
    client: &Client,
    db: &str,
    spec: &RoleSpec,
) -> Result<RoleFacts, BackendError> {
    client
        .batch_execute("BEGIN")
        .await
        .map_err(|e| sql_error(db, &e))?;
    let result = converge_in_tx(client, db, spec).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = client
        .batch_execute(end)
        .await
        .map_err(|e| sql_error(db, &e));
    let facts = result?;
    ended?;
    Ok(facts)
}

async fn converge_in_tx(
    client: &Client,
    db: &str,
    spec: &RoleSpec,
) -> Result<RoleFacts, BackendError> {
    // Grants on the database row and role changes of concurrent applies (Terraform creates roles in parallel)
    // would fail with "tuple concurrently updated": one role change at a time per server.
    exec(
        client,
        db,
        &format!("SELECT pg_advisory_xact_lock({ROLE_LOCK})"),
    )
    .await?;
    let owner = owner_of_current_db(client, db).await?;
    let role = quote_ident(&spec.name);
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&spec.name])
        .await
        .map_err(|e| sql_error(db, &e))?
        .is_some();
    let options = format!(
        "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT {} CONNECTION LIMIT {}",
        if spec.login { "LOGIN" } else { "NOLOGIN" },
        spec.connection_limit
    );
    let verb = if exists { "ALTER" } else { "CREATE" };
    let mut stmt = format!("{verb} ROLE {role} WITH {options}");
    if let Some(pw) = &spec.password {
        // A SCRAM verifier computed here: the password itself never travels or lands in a server log.
        let verifier = postgres_protocol::password::scram_sha_256(pw.as_bytes());
        stmt.push_str(&format!(" PASSWORD {}", quote_literal(&verifier)));
    }
    exec(client, db, &stmt).await?;
    exec(
        client,
        db,
        &format!(
            "COMMENT ON ROLE {role} IS {}",
            quote_literal(&role_comment(spec))
        ),
    )
    .await?;
    let expected = spec.template.grants(&spec.schemas);
    let before = read_role(client, db, &spec.name, spec.template, &spec.schemas)
        .await?
        .ok_or_else(|| BackendError::Sql {
            name: db.to_string(),
            message: format!("role {:?} vanished while it was being set up", spec.name),
        })?;
    let ctx = SqlContext {
        role: &spec.name,
        database: db,
        owner: &owner,
    };
    // Revokes first: an individual table grant held beside a folded "on all" is revoked, then the "on all"
    // granted again, so the end state is exactly the template.
    for g in before.grants.difference(&expected) {
        exec(client, db, &g.revoke_sql(&ctx)).await?;
    }
    for g in expected.difference(&before.grants) {
        exec(client, db, &g.grant_sql(&ctx)).await?;
    }
    read_role(client, db, &spec.name, spec.template, &spec.schemas)
        .await?
        .ok_or_else(|| BackendError::Sql {
            name: db.to_string(),
            message: format!("role {:?} vanished while it was being set up", spec.name),
        })
}

async fn exec(client: &Client, db: &str, sql: &str) -> Result<(), BackendError> {
    client.batch_execute(sql).await.map_err(|e| {
        let mut err = sql_error(db, &e);
        if let BackendError::Sql { message, .. } = &mut err {
            // The statement (never a password: those go as verifiers) says which grant failed.
            let shown = if sql.contains("PASSWORD") {
                sql.split(" PASSWORD").next().unwrap_or(sql).to_string()
            } else {
                sql.to_string()
            };
            message.push_str(&format!(" in `{shown}`"));
        }
        err
    })
}

/// Drops a managed role: objects it owns go to the database owner, its privileges here are revoked, then the role
/// is dropped (logins made from it by `dbplatform_credentials` lose their membership with it). Absent is fine.
pub async fn drop_role(client: &Client, db: &str, name: &str) -> Result<(), BackendError> {
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await
        .map_err(|e| sql_error(db, &e))?
        .is_some();
    if !exists {
        return Ok(());
    }
    let owner = owner_of_current_db(client, db).await?;
    let role = quote_ident(name);
    client
        .batch_execute("BEGIN")
        .await
        .map_err(|e| sql_error(db, &e))?;
    let result = async {
        exec(
            client,
            db,
            &format!("SELECT pg_advisory_xact_lock({ROLE_LOCK})"),
        )
        .await?;
        exec(
            client,
            db,
            &format!("REASSIGN OWNED BY {role} TO {}", quote_ident(&owner)),
        )
        .await?;
        exec(client, db, &format!("DROP OWNED BY {role}")).await?;
        exec(client, db, &format!("DROP ROLE {role}")).await
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = client
        .batch_execute(end)
        .await
        .map_err(|e| sql_error(db, &e));
    result?;
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_round_trips_template_and_schemas() {
        let spec = RoleSpec {
            name: "app_ro".into(),
            template: Template::Readwrite,
            schemas: vec!["public".into(), "sales".into()],
            login: false,
            connection_limit: -1,
            password: Some("secret".into()),
        };
        let c = role_comment(&spec);
        assert_eq!(c, "dbplatform template=readwrite schemas=public,sales");
        assert_eq!(
            parse_comment(&c),
            Some((Template::Readwrite, vec!["public".into(), "sales".into()]))
        );
        assert_eq!(parse_comment("made by hand"), None);
        assert!(!format!("{spec:?}").contains("secret"));
    }
}
