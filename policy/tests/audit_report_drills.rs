//! `dbpolicy audit report` shows failover drills beside restore tests: the last drill per database with RTO and
//! RPO against the objectives, and the pass rate, in every format.

use chrono::{TimeZone, Utc};
use policy::audit::cli::{run, AuditCommand, ReportFormat};
use policy::audit::record::RestoreTestRecord;
use policy::audit::{AuditLog, FailoverDrillRecord, RecordBody};

fn drill(
    db: &str,
    failure: &str,
    ok: bool,
    rto: f64,
    rpo: f64,
    lost: u64,
    finished: &str,
) -> RecordBody {
    RecordBody::FailoverDrill(FailoverDrillRecord {
        database: db.into(),
        replica: Some(format!("{db}-ro")),
        mode: "replica".into(),
        failure: failure.into(),
        succeeded: ok,
        rto_seconds: Some(rto),
        rpo_seconds: Some(rpo),
        rows_lost: Some(lost),
        max_rto_seconds: Some(14400.0),
        max_rpo_seconds: Some(3600.0),
        topology_restored: true,
        simulated: false,
        started_at: finished.into(),
        finished_at: finished.into(),
        error: (!ok).then(|| "topology not restored".into()),
        source: None,
    })
}

#[test]
fn drills_appear_beside_restore_tests_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let mut w = AuditLog::open(&log).unwrap();
    let t = |h| Utc.with_ymd_and_hms(2026, 11, 20, h, 0, 0).unwrap();
    w.append_at(
        RecordBody::RestoreTest(RestoreTestRecord {
            database: "orders".into(),
            succeeded: true,
            restore_seconds: 9.5,
            recovery_point: Some("2026-11-20T00:59:00Z".into()),
            checked_queries: 2,
            finished_at: "2026-11-20T01:00:00Z".into(),
            error: None,
            source: None,
        }),
        t(1),
    )
    .unwrap();
    w.append_at(
        drill(
            "orders",
            "stop",
            true,
            2.125,
            0.0,
            0,
            "2026-11-20T02:00:00Z",
        ),
        t(2),
    )
    .unwrap();
    w.append_at(
        drill(
            "orders",
            "crash",
            true,
            3.5,
            0.042,
            2,
            "2026-11-20T03:00:00Z",
        ),
        t(3),
    )
    .unwrap();
    w.append_at(
        drill(
            "billing",
            "stop",
            false,
            4.0,
            0.0,
            0,
            "2026-11-20T04:00:00Z",
        ),
        t(4),
    )
    .unwrap();
    drop(w);
    for (format, file) in [
        (ReportFormat::Md, "r.md"),
        (ReportFormat::Html, "r.html"),
        (ReportFormat::Csv, "r.csv"),
        (ReportFormat::Json, "r.json"),
    ] {
        let out = dir.path().join(file);
        let code = run(AuditCommand::Report {
            log: Some(log.clone()),
            from: None,
            to: None,
            format: Some(format),
            output: Some(out.clone()),
            public_key: None,
            section: policy::audit::report::Section::All,
        });
        assert_eq!(code, 0);
        let text = std::fs::read_to_string(&out).unwrap();
        match format {
            ReportFormat::Md => {
                assert!(text.contains("## Restore tests"), "{text}");
                assert!(text.contains("3 drills, 2 succeeded (66.7%)"), "{text}");
                assert!(
                    text.contains("| `orders` | orders-ro | crash | ok | 3.5 s / 14400.0 s | 0.0 s / 3600.0 s | 2 | yes |"),
                    "the last drill of orders, against its objectives:\n{text}"
                );
                assert!(
                    text.contains("| `billing` | billing-ro | stop | FAILED |"),
                    "{text}"
                );
                assert!(text.find("## Restore tests") < text.find("## Failover drills"));
            }
            ReportFormat::Html => assert!(
                text.contains("<h2>Failover drills</h2>") && text.contains("FAILED"),
                "{text}"
            ),
            ReportFormat::Csv => assert!(
                text.contains("drill_last,orders,rto_seconds,3.500"),
                "{text}"
            ),
            ReportFormat::Json => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["failover_drills"]["drills"], 3);
                assert_eq!(v["failover_drills"]["last_per_database"][1]["rows_lost"], 2);
            }
        }
    }
}
