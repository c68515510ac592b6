//! `dbpolicy audit report --section access` prints the break-glass evidence alone (with the chain status it was
//! read under), in every format; the full report carries the same section at its end.

use chrono::{TimeZone, Utc};
use policy::audit::cli::{run, AuditCommand, ReportFormat};
use policy::audit::record::RestoreTestRecord;
use policy::audit::report::Section;
use policy::audit::{AuditLog, BreakGlassRecord, RecordBody};

fn event(event: &str, granted: &str, expires: &str, revoked: Option<&str>) -> RecordBody {
    RecordBody::BreakGlass(BreakGlassRecord {
        event: event.into(),
        database: "orders".into(),
        person: "alice@example.com".into(),
        username: "bg_alice_example_com_0a1b2c3d".into(),
        role: "orders_rw".into(),
        role_template: Some("readwrite".into()),
        reason: "INC-42: stuck batch".into(),
        ticket: "INC-42".into(),
        approved_by: "bob@example.com".into(),
        ttl_seconds: 3600,
        granted_at: granted.into(),
        expires_at: expires.into(),
        revoked_at: revoked.map(str::to_string),
        source: None,
    })
}

fn report(log: &std::path::Path, format: ReportFormat, section: Section) -> String {
    let out = log.with_extension(format!("{format:?}-{section:?}").to_lowercase());
    let code = run(AuditCommand::Report {
        log: Some(log.to_path_buf()),
        from: None,
        to: None,
        format: Some(format),
        output: Some(out.clone()),
        public_key: None,
        section,
    });
    assert_eq!(code, 0);
    std::fs::read_to_string(&out).unwrap()
}

#[test]
fn the_access_section_shows_who_had_what_since_when_approved_by_whom() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let mut w = AuditLog::open(&log).unwrap();
    let t = |h| Utc.with_ymd_and_hms(2026, 11, 20, h, 0, 0).unwrap();
    w.append_at(
        event(
            "grant",
            "2026-11-20T01:00:00Z",
            "2026-11-20T02:00:00Z",
            None,
        ),
        t(1),
    )
    .unwrap();
    w.append_at(
        RecordBody::RestoreTest(RestoreTestRecord {
            database: "orders".into(),
            succeeded: true,
            restore_seconds: 9.5,
            recovery_point: None,
            checked_queries: 2,
            finished_at: "2026-11-20T01:30:00Z".into(),
            error: None,
            source: None,
        }),
        t(1),
    )
    .unwrap();
    w.append_at(
        event(
            "revoke",
            "2026-11-20T01:00:00Z",
            "2026-11-20T02:00:00Z",
            Some("2026-11-20T02:00:07Z"),
        ),
        t(2),
    )
    .unwrap();
    drop(w);

    let md = report(&log, ReportFormat::Md, Section::Access);
    assert!(md.starts_with("# Access review evidence"), "{md}");
    assert!(md.contains("Chain INTACT: 3 records"), "{md}");
    assert!(md.contains("1 grants, 0 renewals, 1 revocations."), "{md}");
    assert!(
        md.contains("| alice@example.com | `orders` | orders_rw (readwrite) | 2026-11-20T01:00:00Z | 2026-11-20T02:00:00Z | bob@example.com | INC-42 | INC-42: stuck batch | 0 | 2026-11-20T02:00:07Z |"),
        "{md}"
    );
    assert!(
        !md.contains("Restore tests"),
        "only the access section: {md}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&report(&log, ReportFormat::Json, Section::Access)).unwrap();
    assert_eq!(json["chain"]["intact"], true);
    assert_eq!(
        json["access"]["break_glass"][0]["approved_by"],
        "bob@example.com"
    );
    assert_eq!(
        json["access"]["break_glass"][0]["revoked_at"],
        "2026-11-20T02:00:07Z"
    );
    assert!(json.get("restore").is_none());

    let csv = report(&log, ReportFormat::Csv, Section::Access);
    assert!(
        csv.starts_with("section,key,metric,value\nchain,,intact,true\n"),
        "{csv}"
    );
    assert!(
        csv.contains("break_glass_access,orders/bg_alice_example_com_0a1b2c3d@2026-11-20T01:00:00Z,ticket,INC-42"),
        "{csv}"
    );
    let html = report(&log, ReportFormat::Html, Section::Access);
    assert!(
        html.contains("<h1>Access review evidence</h1>")
            && html.contains("<td>alice@example.com</td>")
    );

    // The full report ends with the same section.
    let full = report(&log, ReportFormat::Md, Section::All);
    assert!(
        full.contains("## Restore tests") && full.contains("## Access: break-glass"),
        "{full}"
    );
}
