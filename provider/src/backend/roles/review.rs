//! Access review evidence: every role of a database that is not PostgreSQL's own or the provider's, with what it
//! holds, who is a member of it, whether it can log in and until when, read from the catalogue.

use std::collections::BTreeSet;

use tokio_postgres::Client;

use super::observe::observe;
use super::reconcile::{folded, parse_comment};
use super::Template;
use crate::backend::BackendError;

/// One role as an access review shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewedRole {
    pub name: String,
    pub login: bool,
    pub valid_until: Option<String>,
    /// The dbplatform template it was made from, `None` for roles made otherwise.
    pub template: Option<Template>,
    pub grants: Vec<String>,
    /// Roles that are members of this one (and so hold its privileges).
    pub members: Vec<String>,
}

/// Every reviewable role of the current database, by name.
pub async fn review(client: &Client, db: &str) -> Result<Vec<ReviewedRole>, BackendError> {
    let err = |e: tokio_postgres::Error| BackendError::Sql {
        name: db.to_string(),
        message: e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string()),
    };
    let rows = client
        .query(
            "SELECT r.rolname::text, shobj_description(r.oid, 'pg_authid'), \
                    coalesce(array_agg(m.rolname::text ORDER BY m.rolname) FILTER (WHERE m.rolname IS NOT NULL), '{}') \
             FROM pg_roles r LEFT JOIN pg_auth_members am ON am.roleid = r.oid \
             LEFT JOIN pg_roles m ON m.oid = am.member \
             WHERE r.rolname !~ '^pg_' AND r.rolname <> $1 GROUP BY r.oid, r.rolname ORDER BY r.rolname",
            &[&crate::backend::local::identity::ADMIN_ROLE],
        )
        .await
        .map_err(err)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.get(0);
        let comment: Option<String> = row.get(1);
        let members: Vec<String> = row.get(2);
        let managed = comment.as_deref().and_then(parse_comment);
        let [t, s] = match &managed {
            Some((template, schemas)) => folded(*template, schemas),
            None => [BTreeSet::new(), BTreeSet::new()],
        };
        let Some(facts) = observe(client, db, &name, &t, &s).await? else {
            continue; // dropped while reading
        };
        out.push(ReviewedRole {
            name,
            login: facts.login,
            valid_until: facts.valid_until,
            template: managed.map(|(t, _)| t),
            grants: facts.grants.iter().map(ToString::to_string).collect(),
            members,
        });
    }
    Ok(out)
}
