//! One privilege a role holds, in a canonical text shown in state (so a hand-made grant is a visible diff) and
//! the SQL that grants or revokes it.

use super::ident::quote_ident;

/// Objects default privileges apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Tables,
    Sequences,
    Functions,
    Types,
    Schemas,
}

impl ObjectKind {
    /// From `pg_default_acl.defaclobjtype`.
    pub fn from_defacl(c: &str) -> Option<Self> {
        match c {
            "r" => Some(Self::Tables),
            "S" => Some(Self::Sequences),
            "f" => Some(Self::Functions),
            "T" => Some(Self::Types),
            "n" => Some(Self::Schemas),
            _ => None,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Tables => "TABLES",
            Self::Sequences => "SEQUENCES",
            Self::Functions => "FUNCTIONS",
            Self::Types => "TYPES",
            Self::Schemas => "SCHEMAS",
        }
    }
}

/// One privilege or role attribute. Ordered so a role's grants list is stable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// A role attribute a managed role must never have (SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS).
    Attribute(&'static str),
    /// Membership in another role (`pg_monitor`, or anything granted by hand).
    Member(String),
    /// A privilege on the current database (CONNECT, TEMPORARY, CREATE).
    Database(String),
    /// A privilege on a schema (USAGE, CREATE).
    Schema { privilege: String, schema: String },
    /// A privilege held on every table, view and materialized view of a schema.
    AllTables { privilege: String, schema: String },
    /// A privilege on one table (held on some but not all, or in a schema the template does not cover).
    Table {
        privilege: String,
        schema: String,
        name: String,
    },
    /// A privilege held on every sequence of a schema.
    AllSequences { privilege: String, schema: String },
    /// A privilege on one sequence.
    Sequence {
        privilege: String,
        schema: String,
        name: String,
    },
    /// A default privilege: objects `creator` makes later (in `schema`, or anywhere) get it. `creator` is `None`
    /// for the database owner.
    Default {
        privilege: String,
        kind: ObjectKind,
        schema: Option<String>,
        creator: Option<String>,
    },
}

/// Role attributes a managed role never has, as `pg_roles` columns and SQL keywords.
pub const FORBIDDEN_ATTRIBUTES: &[(&str, &str)] = &[
    ("rolsuper", "SUPERUSER"),
    ("rolcreaterole", "CREATEROLE"),
    ("rolcreatedb", "CREATEDB"),
    ("rolreplication", "REPLICATION"),
    ("rolbypassrls", "BYPASSRLS"),
];

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grant::Attribute(a) => write!(f, "{a}"),
            Grant::Member(r) => write!(f, "MEMBER OF {r}"),
            Grant::Database(p) => write!(f, "{p} ON DATABASE"),
            Grant::Schema { privilege, schema } => write!(f, "{privilege} ON SCHEMA {schema}"),
            Grant::AllTables { privilege, schema } => {
                write!(f, "{privilege} ON ALL TABLES IN SCHEMA {schema}")
            }
            Grant::Table {
                privilege,
                schema,
                name,
            } => write!(f, "{privilege} ON TABLE {schema}.{name}"),
            Grant::AllSequences { privilege, schema } => {
                write!(f, "{privilege} ON ALL SEQUENCES IN SCHEMA {schema}")
            }
            Grant::Sequence {
                privilege,
                schema,
                name,
            } => write!(f, "{privilege} ON SEQUENCE {schema}.{name}"),
            Grant::Default {
                privilege,
                kind,
                schema,
                creator,
            } => {
                write!(f, "DEFAULT {privilege} ON {}", kind.sql())?;
                if let Some(s) = schema {
                    write!(f, " IN SCHEMA {s}")?;
                }
                match creator {
                    None => write!(f, " FOR OWNER"),
                    Some(c) => write!(f, " FOR ROLE {c}"),
                }
            }
        }
    }
}

/// Names the SQL needs besides the grant itself.
#[derive(Debug, Clone)]
pub struct SqlContext<'a> {
    /// The role the grant is to or from.
    pub role: &'a str,
    /// The current database.
    pub database: &'a str,
    /// The database owner (what [`Grant::Default`] with no creator means).
    pub owner: &'a str,
}

impl Grant {
    /// The statement that gives `ctx.role` this privilege.
    pub fn grant_sql(&self, ctx: &SqlContext<'_>) -> String {
        self.sql(ctx, true)
    }

    /// The statement that takes it away.
    pub fn revoke_sql(&self, ctx: &SqlContext<'_>) -> String {
        self.sql(ctx, false)
    }

    fn sql(&self, ctx: &SqlContext<'_>, grant: bool) -> String {
        let role = quote_ident(ctx.role);
        let (verb, prep) = if grant {
            ("GRANT", "TO")
        } else {
            ("REVOKE", "FROM")
        };
        let on =
            |what: String, privilege: &str| format!("{verb} {privilege} ON {what} {prep} {role}");
        match self {
            Grant::Attribute(a) => {
                if grant {
                    format!("ALTER ROLE {role} {a}")
                } else {
                    format!("ALTER ROLE {role} NO{a}")
                }
            }
            Grant::Member(r) => format!("{verb} {} {prep} {role}", quote_ident(r)),
            Grant::Database(p) => on(format!("DATABASE {}", quote_ident(ctx.database)), p),
            Grant::Schema { privilege, schema } => {
                on(format!("SCHEMA {}", quote_ident(schema)), privilege)
            }
            Grant::AllTables { privilege, schema } => on(
                format!("ALL TABLES IN SCHEMA {}", quote_ident(schema)),
                privilege,
            ),
            Grant::Table {
                privilege,
                schema,
                name,
            } => on(
                format!("TABLE {}.{}", quote_ident(schema), quote_ident(name)),
                privilege,
            ),
            Grant::AllSequences { privilege, schema } => on(
                format!("ALL SEQUENCES IN SCHEMA {}", quote_ident(schema)),
                privilege,
            ),
            Grant::Sequence {
                privilege,
                schema,
                name,
            } => on(
                format!("SEQUENCE {}.{}", quote_ident(schema), quote_ident(name)),
                privilege,
            ),
            Grant::Default {
                privilege,
                kind,
                schema,
                creator,
            } => {
                let creator = quote_ident(creator.as_deref().unwrap_or(ctx.owner));
                let scope = schema
                    .as_ref()
                    .map(|s| format!(" IN SCHEMA {}", quote_ident(s)))
                    .unwrap_or_default();
                format!(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {creator}{scope} {verb} {privilege} ON {} {prep} {role}",
                    kind.sql()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> SqlContext<'static> {
        SqlContext {
            role: "app_ro",
            database: "orders",
            owner: "orders_admin",
        }
    }

    #[test]
    fn canonical_text_names_privilege_object_and_scope() {
        let g = Grant::AllTables {
            privilege: "SELECT".into(),
            schema: "public".into(),
        };
        assert_eq!(g.to_string(), "SELECT ON ALL TABLES IN SCHEMA public");
        let d = Grant::Default {
            privilege: "SELECT".into(),
            kind: ObjectKind::Tables,
            schema: Some("public".into()),
            creator: None,
        };
        assert_eq!(
            d.to_string(),
            "DEFAULT SELECT ON TABLES IN SCHEMA public FOR OWNER"
        );
        assert_eq!(
            Grant::Member("pg_monitor".into()).to_string(),
            "MEMBER OF pg_monitor"
        );
    }

    #[test]
    fn sql_grants_and_revokes_the_same_thing() {
        let t = Grant::Table {
            privilege: "INSERT".into(),
            schema: "public".into(),
            name: "items".into(),
        };
        assert_eq!(
            t.grant_sql(&ctx()),
            "GRANT INSERT ON TABLE \"public\".\"items\" TO \"app_ro\""
        );
        assert_eq!(
            t.revoke_sql(&ctx()),
            "REVOKE INSERT ON TABLE \"public\".\"items\" FROM \"app_ro\""
        );
        let d = Grant::Default {
            privilege: "SELECT".into(),
            kind: ObjectKind::Tables,
            schema: Some("public".into()),
            creator: None,
        };
        assert_eq!(
            d.revoke_sql(&ctx()),
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"orders_admin\" IN SCHEMA \"public\" REVOKE SELECT ON TABLES FROM \"app_ro\""
        );
        assert_eq!(
            Grant::Attribute("SUPERUSER").revoke_sql(&ctx()),
            "ALTER ROLE \"app_ro\" NOSUPERUSER"
        );
    }
}
