//! Reading what a role really holds from the catalogue: attributes, memberships, and privileges on the
//! database, schemas, tables, sequences and default privileges, in the canonical form of [`Grant`].
//!
//! Privileges on every table of a schema are folded into one [`Grant::AllTables`] when the template expects
//! them there (otherwise a list of tables would change with every migration); everything else is listed one
//! object at a time, so a hand-made grant is a line of its own in the plan.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Client;

use super::grant::{Grant, ObjectKind, FORBIDDEN_ATTRIBUTES};
use crate::backend::BackendError;

/// A role as the database sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleFacts {
    pub login: bool,
    pub connection_limit: i64,
    /// `rolvaliduntil` as text (RFC 3339-ish), `None` for no expiry.
    pub valid_until: Option<String>,
    /// The role's comment (where dbplatform keeps the template it applied).
    pub comment: Option<String>,
    /// Everything the role holds.
    pub grants: BTreeSet<Grant>,
}

/// Which relations count as tables for `ALL TABLES IN SCHEMA` (what PostgreSQL's own command covers).
const TABLE_KINDS: &str = "('r','p','v','m','f')";
const SYSTEM_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

fn sql_err(db: &str) -> impl Fn(tokio_postgres::Error) -> BackendError + '_ {
    move |e| BackendError::Sql {
        name: db.to_string(),
        message: e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

/// Reads role `role` in the current database; `None` when it does not exist. `folded` are the
/// `(privilege, schema)` pairs (tables, then sequences) reported as "on all" when every object has them.
pub async fn observe(
    client: &Client,
    db: &str,
    role: &str,
    folded_tables: &BTreeSet<(String, String)>,
    folded_sequences: &BTreeSet<(String, String)>,
) -> Result<Option<RoleFacts>, BackendError> {
    let err = sql_err(db);
    let row = client
        .query_opt(
            "SELECT oid, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin, \
             rolconnlimit::int8, to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             shobj_description(oid, 'pg_authid') \
             FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .map_err(&err)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let oid: u32 = row.get(0);
    let mut grants = BTreeSet::new();
    for (i, (_, keyword)) in FORBIDDEN_ATTRIBUTES.iter().enumerate() {
        if row.get::<_, bool>(i + 1) {
            grants.insert(Grant::Attribute(keyword));
        }
    }
    let login: bool = row.get(6);
    let connection_limit: i64 = row.get(7);
    let valid_until: Option<String> = row.get(8);
    let comment: Option<String> = row.get(9);

    for r in client
        .query(
            "SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = $1",
            &[&oid],
        )
        .await
        .map_err(&err)?
    {
        grants.insert(Grant::Member(r.get(0)));
    }
    for r in client
        .query(
            "SELECT a.privilege_type::text FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a \
             WHERE d.datname = current_database() AND a.grantee = $1",
            &[&oid],
        )
        .await
        .map_err(&err)?
    {
        grants.insert(Grant::Database(r.get(0)));
    }
    for r in client
        .query(
            &format!(
                "SELECT n.nspname::text, a.privilege_type::text FROM pg_namespace n \
                 CROSS JOIN LATERAL aclexplode(n.nspacl) a WHERE a.grantee = $1 AND n.nspowner <> $1 AND {SYSTEM_SCHEMAS}"
            ),
            &[&oid],
        )
        .await
        .map_err(&err)?
    {
        grants.insert(Grant::Schema {
            privilege: r.get(1),
            schema: r.get(0),
        });
    }
    relation_grants(
        client,
        db,
        oid,
        folded_tables,
        folded_sequences,
        &mut grants,
    )
    .await?;
    for r in client
        .query(
            "SELECT CASE WHEN d.defaclrole = (SELECT datdba FROM pg_database WHERE datname = current_database()) \
                    THEN NULL ELSE pg_get_userbyid(d.defaclrole)::text END, \
                    n.nspname::text, d.defaclobjtype::text, a.privilege_type::text \
             FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace \
             CROSS JOIN LATERAL aclexplode(d.defaclacl) a WHERE a.grantee = $1",
            &[&oid],
        )
        .await
        .map_err(&err)?
    {
        let kind: String = r.get(2);
        if let Some(kind) = ObjectKind::from_defacl(&kind) {
            grants.insert(Grant::Default {
                privilege: r.get(3),
                kind,
                schema: r.get(1),
                creator: r.get(0),
            });
        }
    }
    Ok(Some(RoleFacts {
        login,
        connection_limit,
        valid_until,
        comment,
        grants,
    }))
}

/// Privileges on tables and sequences the role does not own, folded per schema where asked.
async fn relation_grants(
    client: &Client,
    db: &str,
    oid: u32,
    folded_tables: &BTreeSet<(String, String)>,
    folded_sequences: &BTreeSet<(String, String)>,
    out: &mut BTreeSet<Grant>,
) -> Result<(), BackendError> {
    let err = sql_err(db);
    // Relations per (schema, is_sequence), and which of them hold each privilege.
    let mut counts: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for r in client
        .query(
            &format!(
                "SELECT n.nspname::text, c.relkind = 'S', count(*)::int8 FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE (c.relkind IN {TABLE_KINDS} OR c.relkind = 'S') AND c.relowner <> $1 AND {SYSTEM_SCHEMAS} \
                 GROUP BY 1, 2"
            ),
            &[&oid],
        )
        .await
        .map_err(&err)?
    {
        counts.insert((r.get(0), r.get(1)), r.get::<_, i64>(2) as usize);
    }
    let mut held: BTreeMap<(String, bool, String), Vec<String>> = BTreeMap::new();
    for r in client
        .query(
            &format!(
                "SELECT n.nspname::text, c.relkind = 'S', c.relname::text, a.privilege_type::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a \
                 WHERE (c.relkind IN {TABLE_KINDS} OR c.relkind = 'S') AND a.grantee = $1 AND c.relowner <> $1 \
                 AND {SYSTEM_SCHEMAS}"
            ),
            &[&oid],
        )
        .await
        .map_err(&err)?
    {
        held.entry((r.get(0), r.get(1), r.get(3)))
            .or_default()
            .push(r.get(2));
    }
    // A folded privilege is "on all" when every relation has it (also when the schema has none yet: the
    // template's default privileges cover what comes).
    for (seq, folded) in [(false, folded_tables), (true, folded_sequences)] {
        for (privilege, schema) in folded {
            let have = held
                .get(&(schema.clone(), seq, privilege.clone()))
                .map_or(0, Vec::len);
            let total = counts.get(&(schema.clone(), seq)).copied().unwrap_or(0);
            if have == total {
                held.remove(&(schema.clone(), seq, privilege.clone()));
                out.insert(if seq {
                    Grant::AllSequences {
                        privilege: privilege.clone(),
                        schema: schema.clone(),
                    }
                } else {
                    Grant::AllTables {
                        privilege: privilege.clone(),
                        schema: schema.clone(),
                    }
                });
            }
        }
    }
    for ((schema, seq, privilege), names) in held {
        for name in names {
            out.insert(if seq {
                Grant::Sequence {
                    privilege: privilege.clone(),
                    schema: schema.clone(),
                    name,
                }
            } else {
                Grant::Table {
                    privilege: privilege.clone(),
                    schema: schema.clone(),
                    name,
                }
            });
        }
    }
    Ok(())
}
