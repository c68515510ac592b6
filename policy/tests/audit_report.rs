//! Reports and queries over a log with decisions, exceptions, overrides, restore tests and applies, and the
//! JSON Schema of a record.

mod audit_support;

use chrono::{DateTime, TimeZone, Utc};
use policy::audit::cli::{run, AuditCommand, ReportFormat};
use policy::audit::query::{parse_date, read_records, Filter};
use policy::audit::record::{ApplyRecord, RestoreTestRecord};
use policy::audit::report;
use policy::audit::{
    decision_record, input_sha256, record_schema, verify_log, AuditLog, DecisionMeta, RecordBody,
    VerifyOptions,
};
use serde_json::{json, Value};

fn day(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
}

fn decision(id: &str, outcome: &str, results: Value) -> RecordBody {
    let d = json!({
        "decision_id": id, "outcome": outcome, "bundle_hash": "sha256:ab",
        "rules": [{"id": "DBP-ENC-001"}, {"id": "DBP-BAK-001"}], "results": results,
    });
    let meta = DecisionMeta {
        source: "provider".into(),
        version: "0.1.0".into(),
        terraform_workspace: Some("prod".into()),
        terraform_version: Some("1.0.3".into()),
        input_sha256: input_sha256(&json!({"id": id})).unwrap(),
        bundle_name: None,
    };
    decision_record(&d, &meta).unwrap()
}

fn restore(db: &str, ok: bool, secs: f64, finished: &str, rp: &str) -> RecordBody {
    RecordBody::RestoreTest(RestoreTestRecord {
        database: db.into(),
        succeeded: ok,
        restore_seconds: secs,
        recovery_point: Some(rp.into()),
        checked_queries: 2,
        finished_at: finished.into(),
        error: (!ok).then(|| "checksum mismatch".into()),
        source: None,
    })
}

fn apply(ok: bool) -> RecordBody {
    RecordBody::Apply(ApplyRecord {
        address: "dbplatform_database.orders".into(),
        action: "update".into(),
        succeeded: ok,
        finished_at: "2026-11-21T10:00:00Z".into(),
        error: None,
        decision_id: None,
        source: None,
    })
}

/// A log spanning 20-22 November 2026.
fn sample(log: &std::path::Path) {
    let mut w = AuditLog::open(log).unwrap();
    let fail_enc = json!([
        {"rule_id": "DBP-ENC-001", "status": "fail", "address": "aws_db_instance.legacy", "path": "storage_encrypted", "message": "not encrypted"},
        {"rule_id": "DBP-BAK-001", "status": "pass", "address": "aws_db_instance.legacy"}
    ]);
    let exempted = json!([
        {"rule_id": "DBP-BAK-001", "status": "exempted", "address": "module.data.aws_db_instance.orders",
         "exception": {"id": "EX-7", "owner": "payments", "ticket": "SEC-42", "approved_by": "cso", "expires": "2026-12-01"}},
        {"rule_id": "DBP-ENC-001", "status": "overridden", "address": "module.data.aws_db_instance.orders",
         "override": {"rule_id": "DBP-ENC-001", "reason": "migration window | tonight", "by": "alice"}}
    ]);
    let long_exc = json!([
        {"rule_id": "DBP-BAK-001", "status": "exempted", "address": "aws_db_instance.lab",
         "exception": {"id": "EX-9", "owner": "lab", "ticket": "OPS-1", "expires": "2027-06-30"}}
    ]);
    w.append_at(decision("d1", "fail", fail_enc.clone()), day(20, 9))
        .unwrap();
    w.append_at(decision("d2", "pass", exempted), day(20, 10))
        .unwrap();
    w.append_at(decision("d3", "fail", fail_enc), day(21, 9))
        .unwrap();
    w.append_at(decision("d4", "pass", long_exc), day(22, 9))
        .unwrap();
    w.append_at(
        restore(
            "orders",
            true,
            8.0,
            "2026-11-21T03:00:00Z",
            "2026-11-21T02:55:00Z",
        ),
        day(21, 3),
    )
    .unwrap();
    w.append_at(
        restore(
            "orders",
            true,
            12.5,
            "2026-11-22T03:00:00Z",
            "2026-11-22T02:45:00Z",
        ),
        day(22, 3),
    )
    .unwrap();
    w.append_at(
        restore(
            "users",
            false,
            30.0,
            "2026-11-22T04:00:00Z",
            "2026-11-22T03:00:00Z",
        ),
        day(22, 4),
    )
    .unwrap();
    w.append_at(apply(true), day(21, 10)).unwrap();
    w.append_at(apply(true), day(21, 11)).unwrap();
    w.append_at(apply(true), day(21, 12)).unwrap();
    w.append_at(apply(false), day(21, 13)).unwrap();
}

fn build(log: &std::path::Path, filter: &Filter) -> report::ReportData {
    let verify = verify_log(log, &VerifyOptions::default()).unwrap();
    let records = read_records(log).unwrap();
    report::build("sample", &records, &verify, filter, day(25, 12))
}

#[test]
fn report_figures_match_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    sample(&log);
    let d = build(&log, &Filter::default());
    assert!(d.chain.intact);
    assert_eq!(d.chain.records, 11);
    assert_eq!(d.kpis.decisions, 4);
    assert_eq!(d.kpis.policy_pass_rate, Some(0.5));
    assert_eq!((d.kpis.applies, d.kpis.failed_applies), (4, 1));
    assert_eq!(d.kpis.change_failure_rate, Some(0.25));
    assert_eq!(d.decisions_per_day["2026-11-20"].total, 2);
    assert_eq!(d.decisions_per_day["2026-11-20"].fail, 1);
    assert_eq!(d.decisions_per_day["2026-11-21"].fail, 1);
    assert_eq!(d.failures_per_rule["DBP-ENC-001"], 2);
    assert_eq!(d.failures_per_resource["aws_db_instance.legacy"], 2);
    assert_eq!(d.exceptions.len(), 2);
    assert_eq!(d.expiring_within_30_days.len(), 1);
    let soon = &d.expiring_within_30_days[0];
    assert_eq!(
        (soon.id.as_str(), soon.ticket.as_str(), soon.days_left),
        ("EX-7", "SEC-42", Some(6))
    );
    assert_eq!(d.overrides.len(), 1);
    assert_eq!(d.overrides[0].by, "alice");
    assert_eq!(d.restore.tests, 3);
    assert_eq!(d.restore.succeeded, 2);
    assert_eq!(d.restore.median_seconds, Some(10.25));
    assert_eq!(d.restore.worst_seconds, Some(12.5));
    assert_eq!(
        d.restore.latest_recovery_point.as_deref(),
        Some("2026-11-22T02:45:00Z")
    );
    assert_eq!(d.restore.worst_recovery_gap_seconds, Some(900.0));

    // A window keeps only what happened in it.
    let f = Filter {
        from: Some(parse_date("2026-11-21", false, "--from").unwrap()),
        to: Some(parse_date("2026-11-21", true, "--to").unwrap()),
        ..Default::default()
    };
    let d = build(&log, &f);
    assert_eq!(d.kpis.decisions, 1);
    assert_eq!(d.restore.tests, 1);
    assert!(d.overrides.is_empty());
}

#[test]
fn html_report_is_self_contained_printable_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    sample(&log);
    let out = dir.path().join("report.html");
    let code = run(AuditCommand::Report {
        log: Some(log.clone()),
        from: None,
        to: None,
        format: None,
        output: Some(out.clone()),
        public_key: None,
        section: policy::audit::report::Section::All,
    });
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for needle in [
        "@media print",
        "<svg",
        "INTACT",
        "Decisions per day",
        "Failures per rule",
        "Exceptions expiring within 30 days",
        "SEC-42",
        "migration window | tonight",
        "Restore tests",
        "Change failure rate",
        "25.0%",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    for forbidden in ["<script", "<link", " src=", "url("] {
        assert!(
            !html.contains(forbidden),
            "not self-contained: {forbidden:?}"
        );
    }
    // Damage shows up in the report instead of being hidden.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text = text.replacen("aws_db_instance.legacy", "aws_db_instance.legacx", 1);
    std::fs::write(&log, text).unwrap();
    let d = build(&log, &Filter::default());
    assert!(!d.chain.intact);
    let html = report::to_html(&d);
    assert!(
        html.contains("DAMAGED") && html.contains("line 1 (seq 1): edited"),
        "{}",
        d.chain.first_damage.unwrap()
    );
}

#[test]
fn markdown_csv_and_json_reports_carry_the_same_figures() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    sample(&log);
    for (format, file) in [
        (ReportFormat::Md, "r.md"),
        (ReportFormat::Csv, "r.csv"),
        (ReportFormat::Json, "r.json"),
    ] {
        let out = dir.path().join(file);
        let code = run(AuditCommand::Report {
            log: Some(log.clone()),
            from: Some("2026-11-20".into()),
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
                assert!(text.contains("| policy pass rate | 50.0% |"), "{text}");
                assert!(text.contains("migration window \\| tonight"), "{text}");
            }
            ReportFormat::Csv => {
                assert!(text.starts_with("section,key,metric,value\n"));
                assert!(text.contains("kpi,,change_failure_rate,0.2500"), "{text}");
                assert!(
                    text.contains("failures_per_rule,DBP-ENC-001,failures,2"),
                    "{text}"
                );
            }
            _ => {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["restore"]["worst_seconds"], 12.5);
                assert_eq!(v["chain"]["intact"], true);
            }
        }
    }
    let bad = run(AuditCommand::Report {
        log: Some(log),
        from: Some("20/11/2026".into()),
        to: None,
        format: None,
        output: None,
        public_key: None,
        section: policy::audit::report::Section::All,
    });
    assert_eq!(bad, 2, "a bad date is a usage error");
}

#[test]
fn query_filters_by_resource_rule_outcome_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    sample(&log);
    let recs = read_records(&log).unwrap();
    let count = |f: &Filter| recs.iter().filter(|r| f.matches(r)).count();
    assert_eq!(
        count(&Filter::default().with_resource("module.data.*").unwrap()),
        1
    );
    assert_eq!(
        count(&Filter::default().with_resource("*legacy").unwrap()),
        2
    );
    let f = Filter {
        outcome: Some("fail".into()),
        ..Default::default()
    };
    assert_eq!(count(&f), 2);
    let f = Filter {
        kind: Some("restore_test".into()),
        outcome: Some("failed".into()),
        ..Default::default()
    };
    assert_eq!(count(&f), 1);
    let f = Filter {
        rule: Some("DBP-ENC-001".into()),
        to: Some(parse_date("2026-11-20", true, "--to").unwrap()),
        ..Default::default()
    };
    assert_eq!(count(&f), 2);
    // The selected lines are the stored bytes, so each still matches its own hash.
    for r in &recs {
        let v: Value = serde_json::from_str(&r.line).unwrap();
        assert_eq!(
            policy::audit::hashing::record_hash(&v).unwrap(),
            v["hash"].as_str().unwrap()
        );
    }
    let bad = run(AuditCommand::Query {
        log: Some(log),
        resource: Some("[".into()),
        rule: None,
        outcome: None,
        kind: None,
        from: None,
        to: None,
    });
    assert_eq!(bad, 2);
}

#[test]
fn every_record_kind_validates_against_the_published_schema() {
    let schema = record_schema();
    let text = schema.to_string();
    for needle in ["prev_hash", "restore_test", "decision_id", "bundles", "seq"] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    sample(&log);
    let validator = jsonschema::validator_for(&schema).unwrap();
    for r in read_records(&log).unwrap() {
        let errors: Vec<String> = validator
            .iter_errors(&r.value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", r.kind());
    }
    let mut broken = read_records(&log).unwrap()[0].value.clone();
    broken.as_object_mut().unwrap().remove("seq");
    assert!(!validator.is_valid(&broken));
}
