//! `dbpolicy migration check` as a user runs it: four unsafe migrations flagged on the right lines with exit 1,
//! a safe one passing with exit 0, tier-aware enforcement, exceptions on a file and line, and reports that
//! validate against the same schemas as plan checks (SARIF 2.1.0 with the `.sql` file and line, JUnit, the
//! decision schema, GitHub annotations), plus an audit record.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");
const NOW: &str = "2026-11-25T12:00:00Z";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn migration(name: &str) -> String {
    fixture(&format!("tests/fixtures/migrations/{name}"))
        .to_string_lossy()
        .into_owned()
}

fn dbpolicy(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("DBPOLICY_AUDIT_LOG")
        .output()
        .unwrap()
}

fn check_json(file: &str, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["migration", "check", file, "--now", NOW, "-o", "json"];
    args.extend_from_slice(extra);
    let o = dbpolicy(Path::new(env!("CARGO_MANIFEST_DIR")), &args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code(), v)
}

/// (rule, path, status) of every result that is not a pass.
fn findings(d: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    d["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "pass")
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn fails(list: &[(&str, &str)]) -> BTreeSet<(String, String, String)> {
    list.iter()
        .map(|(r, l)| (r.to_string(), format!("line:{l}"), "fail".to_string()))
        .collect()
}

#[test]
fn four_unsafe_migrations_are_flagged_on_their_lines() {
    let cases: [(&str, &[(&str, &str)]); 4] = [
        (
            "bad_1_indexes.sql",
            &[("DBP-MIG-002", "4"), ("DBP-MIG-001", "5")],
        ),
        (
            "bad_2_columns.sql",
            &[
                ("DBP-MIG-003", "2"),
                ("DBP-MIG-009", "2"),
                ("DBP-MIG-006", "4"),
                ("DBP-MIG-009", "4"),
                ("DBP-MIG-003", "7"),
                ("DBP-MIG-009", "7"),
            ],
        ),
        (
            "bad_3_constraints.sql",
            &[
                ("DBP-MIG-004", "3"),
                ("DBP-MIG-005", "4"),
                ("DBP-MIG-007", "5"),
            ],
        ),
        (
            "bad_4_maintenance.sql",
            &[
                ("DBP-MIG-011", "3"),
                ("DBP-MIG-008", "4"),
                ("DBP-MIG-010", "5"),
            ],
        ),
    ];
    for (file, expected) in cases {
        let (code, d) = check_json(&migration(file), &[]);
        assert_eq!(code, Some(1), "{file}: {d:#}");
        assert_eq!(findings(&d), fails(expected), "{file}");
        assert_eq!(d["outcome"], "fail");
        // Every finding carries the rule's expand/contract recipe.
        for r in d["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "fail")
        {
            assert!(r["remediation"].as_str().unwrap().len() > 40, "{r}");
            assert_eq!(
                r["enforcement"], "hard-mandatory",
                "{file}: tier-0/1 migrations are hard-mandatory"
            );
        }
    }
}

#[test]
fn the_safe_migration_passes() {
    let (code, d) = check_json(&migration("good.sql"), &[]);
    assert_eq!(code, Some(0), "{d:#}");
    assert!(findings(&d).is_empty(), "{d:#}");
    assert!(
        d["results"].as_array().unwrap().len() >= 11,
        "every DBP-MIG rule ran: {d:#}"
    );
}

#[test]
fn tier_3_findings_are_advisory_and_the_flag_beats_the_header() {
    let (code, d) = check_json(&migration("bad_3_constraints.sql"), &["--tier", "tier-3"]);
    assert_eq!(code, Some(0), "{d:#}");
    let statuses: BTreeSet<String> = findings(&d).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(statuses, BTreeSet::from(["warn".to_string()]));
    // No tier anywhere: the catalogue's default (tier-0) is assumed, and said so.
    let o = Command::new(BIN)
        .args(["migration", "check", "-", "--now", NOW, "-o", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"DROP TABLE orders;\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let drop = d["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == "DBP-MIG-008")
        .unwrap();
    assert_eq!(drop["address"], "<stdin>");
    assert_eq!(drop["status"], "fail");
    assert_eq!(drop["enforcement"], "hard-mandatory");
}

#[test]
fn an_exception_covers_one_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let exc = d.path().join("exceptions.yaml");
    std::fs::write(
        &exc,
        "exceptions:\n  - id: EXC-7\n    rule: DBP-MIG-009\n    resource: \"*/bad_2_columns.sql\"\n    line: 4\n    owner: payments\n    reason: maintenance window\n    ticket: PAY-9\n    approved_by: jane\n    created: 2026-11-20\n    expires: 2026-12-01\n",
    )
    .unwrap();
    let (code, d) = check_json(
        &migration("bad_2_columns.sql"),
        &["--exceptions", exc.to_str().unwrap()],
    );
    assert_eq!(code, Some(1));
    let f = findings(&d);
    assert!(
        f.contains(&("DBP-MIG-009".into(), "line:4".into(), "exempted".into())),
        "{f:?}"
    );
    assert!(
        f.contains(&("DBP-MIG-009".into(), "line:2".into(), "fail".into())),
        "{f:?}"
    );
    assert_eq!(d["exceptions"][0]["status"], "applied");
}

#[test]
fn bad_sql_is_an_input_error_with_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("broken.sql");
    std::fs::write(
        &f,
        "SET lock_timeout = '2s';\n\nALTER TABLE orders ADD COLUM x int;\n",
    )
    .unwrap();
    let o = dbpolicy(d.path(), &["migration", "check", "broken.sql"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken.sql:3: not valid PostgreSQL"), "{err}");
    let o = dbpolicy(d.path(), &["migration", "check", "."]);
    assert_eq!(o.status.code(), Some(2));
    let o = dbpolicy(d.path(), &["migration", "check", "missing.sql"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.sql: cannot read migration"));
}

/// A repository holding `db/migrations/` (a folder argument), with `.git` marking its root.
fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join(".git")).unwrap();
    std::fs::create_dir_all(d.path().join("db/migrations")).unwrap();
    for f in ["bad_2_columns.sql", "good.sql"] {
        std::fs::copy(migration(f), d.path().join("db/migrations").join(f)).unwrap();
    }
    d
}

#[test]
fn sarif_points_at_the_sql_file_and_line_and_validates() {
    let repo = repo();
    let o = dbpolicy(
        repo.path(),
        &[
            "migration",
            "check",
            "db/migrations",
            "--now",
            NOW,
            "-o",
            "sarif",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tests/fixtures/schemas/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .take(5)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let places: BTreeSet<(String, u64)> = results
        .iter()
        .map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            (
                p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                p["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: BTreeSet<(String, u64)> = [2, 4, 7]
        .into_iter()
        .map(|l| ("db/migrations/bad_2_columns.sql".to_string(), l))
        .collect();
    assert_eq!(places, want);
}

#[test]
fn junit_github_and_json_reports_validate() {
    let repo = repo();
    let o = dbpolicy(
        repo.path(),
        &[
            "migration",
            "check",
            "db/migrations",
            "--now",
            NOW,
            "-o",
            "junit=out.xml",
            "-o",
            "github",
            "-o",
            "json=decision.json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let annotations = String::from_utf8_lossy(&o.stdout);
    assert!(
        annotations.contains("file=db/migrations/bad_2_columns.sql,line=4"),
        "{annotations}"
    );
    let x = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(fixture("tests/fixtures/schemas/junit-10.xsd"))
        .arg(repo.path().join("out.xml"))
        .output()
        .expect("xmllint (libxml2-utils, installed by scripts/install-tools.sh)");
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    let schema = dbpolicy(repo.path(), &["schema", "decision"]);
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    let decision: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.path().join("decision.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&decision)
        .take(5)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(decision["summary"]["resources"], 2);
}

#[test]
fn the_decision_is_recorded_in_the_audit_log() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("decisions.jsonl");
    let o = dbpolicy(
        d.path(),
        &[
            "migration",
            "check",
            &migration("bad_1_indexes.sql"),
            "--audit-log",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("DBP-MIG-002"), "{text}");
    let v = dbpolicy(d.path(), &["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
}

#[test]
fn tier_2_findings_can_be_overridden_on_record() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("decisions.jsonl");
    let file = migration("bad_3_constraints.sql");
    let mut args = vec![
        "migration",
        "check",
        file.as_str(),
        "--tier",
        "tier-2",
        "--now",
        NOW,
        "-o",
        "json",
        "--audit-log",
        log.to_str().unwrap(),
    ];
    for rule in ["DBP-MIG-004", "DBP-MIG-005", "DBP-MIG-007"] {
        args.extend_from_slice(&[
            "--override",
            rule,
            "--reason",
            "off-peak window, table has 200 rows",
            "--by",
            "jane",
        ]);
    }
    let o = dbpolicy(d.path(), &args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = findings(&v);
    assert_eq!(f.len(), 3, "{f:?}");
    assert!(f.iter().all(|(_, _, s)| s == "overridden"), "{f:?}");
    // Tier-1 keeps them hard-mandatory: the same override is refused.
    let o = dbpolicy(
        d.path(),
        &[
            "migration",
            "check",
            file.as_str(),
            "--tier",
            "tier-1",
            "--override",
            "DBP-MIG-007",
            "--reason",
            "x",
            "--by",
            "jane",
            "--audit-log",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_text_report_gives_each_rules_fix_once_after_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("0001_indexes.sql");
    std::fs::write(
        &sql,
        "SET lock_timeout = '2s';\nCREATE INDEX a_idx ON orders (a);\nCREATE INDEX b_idx ON orders (b);\n\
         CREATE INDEX c_idx ON orders (c);\nALTER TABLE orders RENAME COLUMN d TO e;\n",
    )
    .unwrap();
    let o = dbpolicy(
        dir.path(),
        &["migration", "check", "0001_indexes.sql", "--now", NOW],
    );
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let mig001: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("FAIL DBP-MIG-001"))
        .collect();
    assert_eq!(mig001.len(), 3, "{text}");
    // The three findings in a row, then the recipe once.
    assert_eq!(
        mig001,
        vec![mig001[0], mig001[0] + 1, mig001[0] + 2],
        "{text}"
    );
    assert!(
        lines[mig001[2] + 1].starts_with("    fix: Build it online"),
        "{text}"
    );
    assert_eq!(text.matches("fix: Build it online").count(), 1, "{text}");
    // Another rule's finding still gets its own fix.
    let rename = lines
        .iter()
        .position(|l| l.contains("DBP-MIG-007"))
        .expect(&text);
    assert!(lines[rename + 1].starts_with("    fix: "), "{text}");
}
