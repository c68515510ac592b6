//! The four least-privilege templates and the exact grants each stands for, including the default privileges
//! that make tables the database owner creates later readable (or writable) too.

use std::collections::BTreeSet;

use super::grant::{Grant, ObjectKind};

/// A role template: what a role may do, named after the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// SELECT on tables and views.
    Readonly,
    /// SELECT, INSERT, UPDATE, DELETE on tables and use of sequences; no DDL.
    Readwrite,
    /// DDL in the schemas (CREATE), every table privilege, sequences; never superuser.
    Migrator,
    /// Membership in `pg_monitor` (statistics and activity views), nothing on the data.
    Monitoring,
}

/// Every template name, as written in configuration.
pub const NAMES: &[&str] = &["readonly", "readwrite", "migrator", "monitoring"];

const READ: &[&str] = &["SELECT"];
const WRITE: &[&str] = &["DELETE", "INSERT", "SELECT", "UPDATE"];
const MIGRATE: &[&str] = &[
    "DELETE",
    "INSERT",
    "REFERENCES",
    "SELECT",
    "TRIGGER",
    "TRUNCATE",
    "UPDATE",
];

impl Template {
    /// The template named `name`, or `None`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "readonly" => Some(Self::Readonly),
            "readwrite" => Some(Self::Readwrite),
            "migrator" => Some(Self::Migrator),
            "monitoring" => Some(Self::Monitoring),
            _ => None,
        }
    }

    /// Its name in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Readonly => "readonly",
            Self::Readwrite => "readwrite",
            Self::Migrator => "migrator",
            Self::Monitoring => "monitoring",
        }
    }

    /// How much it can change, for guardrails: 0 reads nothing of the data, 1 reads, 2 writes, 3 changes the
    /// schema.
    pub fn rank(self) -> u8 {
        match self {
            Self::Monitoring => 0,
            Self::Readonly => 1,
            Self::Readwrite => 2,
            Self::Migrator => 3,
        }
    }

    /// Privileges on every table of a covered schema.
    pub fn table_privileges(self) -> &'static [&'static str] {
        match self {
            Self::Readonly => READ,
            Self::Readwrite => WRITE,
            Self::Migrator => MIGRATE,
            Self::Monitoring => &[],
        }
    }

    /// Privileges on every sequence of a covered schema.
    pub fn sequence_privileges(self) -> &'static [&'static str] {
        match self {
            Self::Readonly | Self::Monitoring => &[],
            Self::Readwrite => &["SELECT", "USAGE"],
            Self::Migrator => &["SELECT", "UPDATE", "USAGE"],
        }
    }

    /// Exactly the grants a role of this template holds in `schemas`.
    pub fn grants(self, schemas: &[String]) -> BTreeSet<Grant> {
        let mut out = BTreeSet::new();
        out.insert(Grant::Database("CONNECT".into()));
        if self == Self::Monitoring {
            out.insert(Grant::Member("pg_monitor".into()));
            return out;
        }
        if self == Self::Migrator {
            out.insert(Grant::Database("TEMPORARY".into()));
        }
        for s in schemas {
            out.insert(Grant::Schema {
                privilege: "USAGE".into(),
                schema: s.clone(),
            });
            if self == Self::Migrator {
                out.insert(Grant::Schema {
                    privilege: "CREATE".into(),
                    schema: s.clone(),
                });
            }
            for p in self.table_privileges() {
                out.insert(Grant::AllTables {
                    privilege: (*p).into(),
                    schema: s.clone(),
                });
                out.insert(Grant::Default {
                    privilege: (*p).into(),
                    kind: ObjectKind::Tables,
                    schema: Some(s.clone()),
                    creator: None,
                });
            }
            for p in self.sequence_privileges() {
                out.insert(Grant::AllSequences {
                    privilege: (*p).into(),
                    schema: s.clone(),
                });
                out.insert(Grant::Default {
                    privilege: (*p).into(),
                    kind: ObjectKind::Sequences,
                    schema: Some(s.clone()),
                    creator: None,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: Template) -> Vec<String> {
        t.grants(&["public".to_string()])
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn readonly_selects_and_nothing_else() {
        assert_eq!(
            texts(Template::Readonly),
            vec![
                "CONNECT ON DATABASE",
                "USAGE ON SCHEMA public",
                "SELECT ON ALL TABLES IN SCHEMA public",
                "DEFAULT SELECT ON TABLES IN SCHEMA public FOR OWNER",
            ]
        );
    }

    #[test]
    fn readwrite_has_dml_and_sequences_but_no_ddl() {
        let t = texts(Template::Readwrite);
        assert!(t.contains(&"INSERT ON ALL TABLES IN SCHEMA public".to_string()));
        assert!(t.contains(&"USAGE ON ALL SEQUENCES IN SCHEMA public".to_string()));
        assert!(t.contains(&"DEFAULT INSERT ON TABLES IN SCHEMA public FOR OWNER".to_string()));
        assert!(
            !t.iter()
                .any(|g| g.starts_with("CREATE") || g.contains("TRUNCATE")),
            "{t:?}"
        );
    }

    #[test]
    fn migrator_creates_in_schemas_and_monitoring_is_pg_monitor_only() {
        assert!(texts(Template::Migrator).contains(&"CREATE ON SCHEMA public".to_string()));
        assert_eq!(
            texts(Template::Monitoring),
            vec!["MEMBER OF pg_monitor", "CONNECT ON DATABASE"]
        );
    }

    #[test]
    fn no_template_holds_a_forbidden_attribute_or_server_file_role() {
        for n in NAMES {
            let t = Template::parse(n).map(texts).unwrap_or_default();
            assert!(!t.is_empty());
            assert!(
                !t.iter().any(|g| g.contains("SUPERUSER")
                    || g.contains("CREATEROLE")
                    || g.contains("server_files")
                    || g.contains("execute_server_program")),
                "{n}: {t:?}"
            );
        }
    }
}
