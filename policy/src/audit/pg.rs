//! The optional PostgreSQL sink: an append-only table (triggers refuse UPDATE, DELETE and TRUNCATE) and a role
//! that may only INSERT and SELECT. Each row keeps the exact JSON line, so the copy can be verified like the file.

use postgres::{Client, NoTls};

use super::error::AuditError;
use super::record::Record;

/// Schema-qualified table name of the sink.
pub const TABLE: &str = "dbplatform_audit.records";
/// Default name of the INSERT/SELECT-only role created by `pg-init`.
pub const DEFAULT_ROLE: &str = "dbplatform_audit_writer";

/// A connection that inserts records.
pub struct PgSink {
    client: Client,
}

fn pg_err(what: &str, e: postgres::Error) -> AuditError {
    let detail = match e.as_db_error() {
        Some(db) => format!("{what}: {} ({})", db.message(), db.code().code()),
        None => format!("{what}: {e}"),
    };
    AuditError::Pg(detail)
}

impl PgSink {
    /// Connects with a libpq-style connection string (`host=/tmp port=5432 user=... dbname=...` or a URL).
    pub fn connect(conn: &str) -> Result<Self, AuditError> {
        let client = Client::connect(conn, NoTls).map_err(|e| {
            pg_err(
                "cannot connect (check DBPOLICY_AUDIT_PG / the provider's policy.audit_pg and that `dbpolicy audit \
                 pg-init` ran)",
                e,
            )
        })?;
        Ok(PgSink { client })
    }

    /// Inserts one record; the exact line is stored next to its parsed form.
    pub fn insert(&mut self, record: &Record, line: &str) -> Result<(), AuditError> {
        let seq = i64::try_from(record.seq)
            .map_err(|_| AuditError::Pg("seq does not fit in bigint".into()))?;
        self.client
            .execute(
                "INSERT INTO dbplatform_audit.records (seq, hash, prev_hash, kind, recorded_at, line, record) \
                 VALUES ($1, $2, $3, $4, $5::text::timestamptz, $6, $6::text::jsonb)",
                &[
                    &seq,
                    &record.hash,
                    &record.prev_hash,
                    &record.body.kind(),
                    &record.timestamp,
                    &line,
                ],
            )
            .map_err(|e| pg_err("insert into dbplatform_audit.records failed", e))?;
        Ok(())
    }

    /// Every stored line in `seq` order, to verify the database copy of the chain.
    pub fn lines(&mut self) -> Result<Vec<String>, AuditError> {
        let rows = self
            .client
            .query(
                "SELECT line FROM dbplatform_audit.records ORDER BY seq",
                &[],
            )
            .map_err(|e| pg_err("reading dbplatform_audit.records failed", e))?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }
}

/// The SQL that `pg-init` runs (idempotent), with `role` as the INSERT/SELECT-only role.
pub fn init_sql(role: &str) -> Result<String, AuditError> {
    let valid = !role.is_empty()
        && role.len() <= 63
        && role
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && role
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(AuditError::Config(format!(
            "role name {role:?} is not a plain lowercase SQL identifier (use letters, digits and _)"
        )));
    }
    Ok(format!(
        r#"
CREATE SCHEMA IF NOT EXISTS dbplatform_audit;
CREATE TABLE IF NOT EXISTS dbplatform_audit.records (
    seq         bigint      PRIMARY KEY,
    hash        text        NOT NULL UNIQUE,
    prev_hash   text,
    kind        text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    line        text        NOT NULL,
    record      jsonb       NOT NULL
);
CREATE OR REPLACE FUNCTION dbplatform_audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dbplatform_audit.records is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS records_append_only ON dbplatform_audit.records;
CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON dbplatform_audit.records
    FOR EACH ROW EXECUTE FUNCTION dbplatform_audit.refuse_change();
DROP TRIGGER IF EXISTS records_no_truncate ON dbplatform_audit.records;
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON dbplatform_audit.records
    FOR EACH STATEMENT EXECUTE FUNCTION dbplatform_audit.refuse_change();
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} NOLOGIN;
    END IF;
END
$$;
REVOKE ALL ON dbplatform_audit.records FROM PUBLIC;
REVOKE ALL ON dbplatform_audit.records FROM {role};
GRANT USAGE ON SCHEMA dbplatform_audit TO {role};
GRANT SELECT, INSERT ON dbplatform_audit.records TO {role};
"#
    ))
}

/// Creates the append-only table, its triggers and the INSERT/SELECT-only role (run once, as an owner/admin).
pub fn init(conn: &str, role: &str) -> Result<(), AuditError> {
    let sql = init_sql(role)?;
    let mut client = Client::connect(conn, NoTls).map_err(|e| pg_err("cannot connect", e))?;
    client
        .batch_execute(&sql)
        .map_err(|e| pg_err("creating the append-only audit table failed", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_sql_refuses_odd_role_names() {
        assert!(init_sql("writer; DROP TABLE x").is_err());
        assert!(init_sql("Writer").is_err());
        let sql = init_sql("audit_w1").unwrap();
        assert!(sql.contains("GRANT SELECT, INSERT ON dbplatform_audit.records TO audit_w1"));
        assert!(sql.contains("BEFORE TRUNCATE"));
    }
}
