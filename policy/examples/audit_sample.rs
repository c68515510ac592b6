//! Writes a realistic sample audit log (two weeks of decisions with failures, exceptions, overrides, restore tests
//! and applies, timestamps ending now), for demos and `scripts/render-report.sh`.
//!
//! `cargo run -p dbplatform-policy --example audit_sample -- LOG [--report FILE.html]`
//! (`--report` renders through the same code as `dbpolicy audit report`).

use chrono::{Duration, SecondsFormat, Utc};
use policy::audit::cli::{run, AuditCommand};
use policy::audit::record::{ApplyRecord, RestoreTestRecord, SourceInfo};
use policy::audit::{decision_record, input_sha256, AuditLog, DecisionMeta, RecordBody};
use serde_json::json;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(log_path) = args.next() else {
        eprintln!("usage: audit_sample LOG [--report FILE.html]");
        std::process::exit(2);
    };
    let report = match (args.next().as_deref(), args.next()) {
        (Some("--report"), Some(f)) => Some(std::path::PathBuf::from(f)),
        (None, _) => None,
        _ => {
            eprintln!("usage: audit_sample LOG [--report FILE.html]");
            std::process::exit(2);
        }
    };
    if let Err(e) = write_sample(&log_path) {
        eprintln!("audit_sample: {e}");
        std::process::exit(1);
    }
    println!("wrote sample audit log {log_path}");
    if let Some(out) = report {
        std::process::exit(run(AuditCommand::Report {
            log: Some(log_path.into()),
            from: None,
            to: None,
            format: None,
            output: Some(out),
            public_key: None,
            section: policy::audit::report::Section::All,
        }));
    }
}

fn write_sample(path: &str) -> Result<(), policy::audit::AuditError> {
    let mut log = AuditLog::open(path)?;
    let now = Utc::now();
    let start = now - Duration::days(14);
    let dbs = [
        "module.payments.dbplatform_database.ledger",
        "module.data.aws_db_instance.orders[\"eu\"]",
        "module.data.aws_db_instance.orders[\"us\"]",
        "aws_rds_cluster.analytics",
        "dbplatform_database.catalog",
    ];
    let soon = (now + Duration::days(9)).format("%Y-%m-%d").to_string();
    let later = (now + Duration::days(120)).format("%Y-%m-%d").to_string();
    let source = SourceInfo {
        kind: "provider".into(),
        version: "0.1.0".into(),
    };
    let mut n = 0u64;
    for day in 0..14i64 {
        let per_day = 3 + (day * 7 % 5);
        for k in 0..per_day {
            n += 1;
            let at = start + Duration::days(day) + Duration::hours(8 + k);
            let db = dbs[(n as usize) % dbs.len()];
            let mut results =
                vec![json!({"rule_id": "DBP-ENC-001", "status": "pass", "address": db})];
            let mut outcome = "pass";
            match n % 7 {
                1 => {
                    results.push(json!({"rule_id": "DBP-BAK-001", "status": "fail", "address": db,
                        "path": "backup_retention_period", "message": "backup retention 1 day is below the tier-1 minimum of 14"}));
                    outcome = "fail";
                }
                3 => {
                    results.push(json!({"rule_id": "DBP-NET-001", "status": "fail", "address": db,
                        "path": "publicly_accessible", "message": "database is publicly accessible"}));
                    outcome = "fail";
                }
                4 => results.push(json!({"rule_id": "DBP-MAZ-001", "status": "exempted", "address": dbs[3],
                        "path": "multi_az", "exception": {"id": "EXC-2026-014", "owner": "analytics",
                        "ticket": "RISK-311", "approved_by": "ciso", "expires": soon}})),
                5 => results.push(json!({"rule_id": "DBP-MON-001", "status": "overridden", "address": db,
                        "override": {"rule_id": "DBP-MON-001", "reason": "monitoring role created in the next change", "by": "j.doe"}})),
                6 => results.push(json!({"rule_id": "DBP-DEL-001", "status": "exempted", "address": dbs[4],
                        "exception": {"id": "EXC-2026-002", "owner": "catalog", "ticket": "RISK-207",
                        "approved_by": "ciso", "expires": later}})),
                _ => results.push(json!({"rule_id": "DBP-BAK-001", "status": "pass", "address": db})),
            }
            let d = json!({"decision_id": format!("sample-{n:04}"), "outcome": outcome,
                "bundle_hash": "sha256:9f2c4c1d0b6e4a8f9a7d3e2b1c0f5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
                "timestamp": at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "rules": [{"id": "DBP-ENC-001", "version": "1.0.0"}, {"id": "DBP-BAK-001", "version": "1.1.0"},
                          {"id": "DBP-NET-001", "version": "1.0.0"}, {"id": "DBP-MAZ-001", "version": "1.0.0"},
                          {"id": "DBP-MON-001", "version": "1.0.0"}, {"id": "DBP-DEL-001", "version": "1.0.0"}],
                "results": results});
            let meta = DecisionMeta {
                source: if n.is_multiple_of(3) {
                    "cli"
                } else {
                    "provider"
                }
                .into(),
                version: "0.1.0".into(),
                terraform_workspace: Some("prod".into()),
                terraform_version: Some("1.0.3".into()),
                input_sha256: input_sha256(&json!({"sample": n}))?,
                bundle_name: None,
            };
            log.append_at(decision_record(&d, &meta)?, at)?;
            if outcome == "pass" && k < 2 {
                let ok = !n.is_multiple_of(11);
                log.append_at(
                    RecordBody::Apply(ApplyRecord {
                        address: db.into(),
                        action: "update".into(),
                        succeeded: ok,
                        finished_at: (at + Duration::minutes(4))
                            .to_rfc3339_opts(SecondsFormat::Secs, true),
                        error: (!ok).then(|| "InvalidParameterCombination: storage type".into()),
                        decision_id: Some(format!("sample-{n:04}")),
                        source: Some(source.clone()),
                    }),
                    at + Duration::minutes(4),
                )?;
            }
        }
        if day % 2 == 0 {
            for (i, db) in [dbs[0], dbs[4]].iter().enumerate() {
                let at = start
                    + Duration::days(day)
                    + Duration::hours(3)
                    + Duration::minutes(10 * i as i64);
                let ok = !(day == 8 && i == 1);
                log.append_at(
                    RecordBody::RestoreTest(RestoreTestRecord {
                        database: (*db).into(),
                        succeeded: ok,
                        restore_seconds: 8.4 + (day as f64) * 0.37 + i as f64 * 2.1,
                        recovery_point: Some(
                            (at - Duration::minutes(3 + day % 4))
                                .to_rfc3339_opts(SecondsFormat::Secs, true),
                        ),
                        checked_queries: if ok { 3 } else { 1 },
                        finished_at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
                        error: (!ok).then(|| "row count differs on table items".into()),
                        source: Some(source.clone()),
                    }),
                    at,
                )?;
            }
        }
    }
    Ok(())
}
