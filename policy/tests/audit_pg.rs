//! The PostgreSQL sink against a real PostgreSQL 15 started once for this test binary (as the `postgres` OS user,
//! unix socket in a temp dir, free port), stopped at the end even when an assertion fails.

mod audit_support;
mod pg_support;

use audit_support::decision_body;
use pg_support::start;
use policy::audit::cli::{run, AuditCommand, VerifyFormat};
use policy::audit::pg::{self, PgSink};
use policy::audit::record::{ApplyRecord, RestoreTestRecord};
use policy::audit::{AuditConfig, AuditLog, RecordBody};
use policy::engine::{EngineOptions, PolicyEngine};
use policy::gate::{self, DecisionSink, GateRequest, Provenance, Source};
use postgres::{Client, NoTls};

fn err_text(r: Result<u64, postgres::Error>) -> String {
    let e = r.expect_err("the statement must be refused");
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

#[test]
fn postgres_sink_is_append_only_and_mirrors_the_file() {
    let server = start();
    let admin = &server.conn;
    pg::init(admin, pg::DEFAULT_ROLE).unwrap();
    pg::init(admin, pg::DEFAULT_ROLE).expect("pg-init runs twice without error");
    let mut su = Client::connect(admin, NoTls).unwrap();
    su.batch_execute("CREATE ROLE ci_writer LOGIN; GRANT dbplatform_audit_writer TO ci_writer;")
        .unwrap();
    let writer_conn = admin.replace("user=postgres", "user=ci_writer");

    // Append through the writer role: each record goes to the file and to the table.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = AuditConfig::at(dir.path().join("decisions.jsonl"));
    cfg.pg = Some(writer_conn.clone());
    let mut log = AuditLog::from_config(&cfg).unwrap();
    log.append(decision_body(1, "fail")).unwrap();
    log.append(RecordBody::RestoreTest(RestoreTestRecord {
        database: "dbplatform_database.orders".into(),
        succeeded: true,
        restore_seconds: 9.0123,
        recovery_point: Some("2026-11-25T09:59:00Z".into()),
        checked_queries: 3,
        finished_at: "2026-11-25T10:00:00Z".into(),
        error: None,
        source: None,
    }))
    .unwrap();
    log.append(RecordBody::Apply(ApplyRecord {
        address: "dbplatform_database.orders".into(),
        action: "update".into(),
        succeeded: false,
        finished_at: "2026-11-25T10:01:00Z".into(),
        error: Some("timeout".into()),
        decision_id: None,
        source: None,
    }))
    .unwrap();
    let file_lines: Vec<String> = std::fs::read_to_string(&cfg.path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let db_lines = PgSink::connect(&writer_conn).unwrap().lines().unwrap();
    assert_eq!(
        db_lines, file_lines,
        "the table holds the exact lines of the file"
    );
    let kinds: Vec<String> = su
        .query(
            "SELECT kind FROM dbplatform_audit.records ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kinds, ["decision", "restore_test", "apply"]);
    let secs: f64 = su
        .query_one("SELECT (record->>'restore_seconds')::float8 FROM dbplatform_audit.records WHERE seq = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(secs, 9.012);

    // The writer role may not change anything: no privilege at all.
    let mut w = Client::connect(&writer_conn, NoTls).unwrap();
    for sql in [
        "UPDATE dbplatform_audit.records SET kind = 'x'",
        "DELETE FROM dbplatform_audit.records",
        "TRUNCATE dbplatform_audit.records",
    ] {
        let msg = err_text(w.execute(sql, &[]));
        assert!(msg.contains("permission denied"), "{sql}: {msg}");
    }
    // Even the owner is stopped by the triggers.
    for (sql, op) in [
        (
            "UPDATE dbplatform_audit.records SET kind = 'x' WHERE seq = 1",
            "UPDATE",
        ),
        (
            "DELETE FROM dbplatform_audit.records WHERE seq = 1",
            "DELETE",
        ),
        ("TRUNCATE dbplatform_audit.records", "TRUNCATE"),
    ] {
        let msg = err_text(su.execute(sql, &[]));
        assert_eq!(
            msg,
            format!("dbplatform_audit.records is append-only: {op} refused"),
            "{sql}"
        );
    }
    let n: i64 = su
        .query_one("SELECT count(*) FROM dbplatform_audit.records", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 3);

    // The database copy verifies on its own.
    let code = run(AuditCommand::Verify {
        public_key: None,
        expect_head: None,
        pg: Some(writer_conn.clone()),
        format: VerifyFormat::Text,
        log: None,
    });
    assert_eq!(code, 0);

    // A sink that cannot be reached fails the decision closed, naming PostgreSQL.
    let mut bad = AuditConfig::at(dir.path().join("other.jsonl"));
    bad.pg = Some(admin.replace("dbname=postgres", "dbname=no_such_db"));
    let engine = PolicyEngine::load(&EngineOptions::default()).unwrap();
    let request = GateRequest::new(
        vec![],
        chrono::Utc::now(),
        Provenance::new(Source::Provider, "0.1.0"),
    );
    let err = gate::decide(&engine, request, Some(&bad as &dyn DecisionSink))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fails closed") && err.contains("PostgreSQL"),
        "{err}"
    );
    drop(w);
    drop(su);
    drop(server);
}
