//! The CI flags of `dbpolicy check`, decided by the gate and written into the decision and the audit record:
//! `--soft-fail`, `--skip-rule` (refused for hard-mandatory rules), `--baseline` with `dbpolicy baseline create`.
//! Golden plan and policies: G-ENC-001 and G-KMS-001 are hard-mandatory, G-BAK-001 soft-mandatory, G-TAG-001
//! advisory. Without the exceptions file the plan fails on G-BAK-001 (aws_db_instance.reports).

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");
const PLAN: &str = "tests/golden/plan/plan.json";
const NOW: &str = "2026-11-25T12:00:00Z";

fn dbpolicy(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DBPOLICY_AUDIT_LOG")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run dbpolicy")
}

/// `dbpolicy check PLAN` with the golden bundle, a fixed time and `extra` flags.
fn check(plan: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        plan,
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    dbpolicy(&args)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

/// The golden plan with aws_db_instance.orders no longer encrypted: one new G-ENC-001 violation.
fn plan_with_new_violation(dir: &Path) -> String {
    let mut plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(PLAN)).unwrap(),
    )
    .unwrap();
    let rc = plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["address"] == "aws_db_instance.orders")
        .unwrap();
    rc["change"]["after"]["storage_encrypted"] = false.into();
    let p = dir.join("plan-new.json");
    std::fs::write(&p, serde_json::to_vec(&plan).unwrap()).unwrap();
    p.display().to_string()
}

/// Validates `doc` against `dbpolicy schema WHICH`.
fn assert_schema(which: &str, doc: &serde_json::Value) {
    let o = dbpolicy(&["schema", which]);
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{which}: {errors:?}");
}

/// The one decision record of an audit log.
fn only_record(log: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn baseline_then_check_passes_and_a_new_violation_is_all_that_fails() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("baseline.yaml");
    let base_s = base.to_str().unwrap();
    let o = dbpolicy(&[
        "baseline",
        "create",
        PLAN,
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
        "--now",
        NOW,
        "-o",
        base_s,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(text.starts_with("schema: dbpolicy.baseline/v1\n"), "{text}");
    assert!(
        text.contains("rule_id: G-BAK-001") && text.contains("address: aws_db_instance.reports"),
        "{text}"
    );

    // Same plan: nothing new, exit 0; the findings are `baselined`, not `pass`.
    let o = check(PLAN, &["--baseline", base_s, "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let dec = json(&o);
    assert_eq!(dec["outcome"], "pass");
    assert_eq!(dec["summary"]["fail"], 0);
    assert_eq!(dec["summary"]["baselined"], 7, "{}", dec["summary"]);
    let bak = dec["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == "G-BAK-001" && r["address"] == "aws_db_instance.reports")
        .unwrap();
    assert_eq!(bak["status"], "baselined");
    assert_eq!(bak["suppression"]["was"], "fail");
    assert_eq!(bak["suppression"]["origin"], format!("--baseline {base_s}"));
    assert_eq!(dec["ci"]["baseline"]["matched"], 7);
    assert_schema("decision", &dec);
    assert!(dec["ci"]["baseline"]["sha256"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    // One new violation: exit 1, and it is the only failure in the report.
    let new_plan = plan_with_new_violation(d.path());
    let o = check(&new_plan, &["--baseline", base_s]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let s = out(&o);
    let fails: Vec<&str> = s.lines().filter(|l| l.contains("FAIL G-")).collect();
    assert_eq!(
        fails,
        ["  FAIL G-ENC-001 [high, hard-mandatory] storage_encrypted: storage is not encrypted"],
        "{s}"
    );
    assert!(s.contains("1 failed"), "{s}");
    assert!(s.contains("7 baselined"), "{s}");
}

#[test]
fn stale_baseline_entries_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("b.json");
    std::fs::write(
        &base,
        r#"{"schema": "dbpolicy.baseline/v1", "findings": [
            {"rule_id": "G-BAK-001", "address": "aws_db_instance.reports", "path": "backup_retention_period"},
            {"rule_id": "G-BAK-001", "address": "aws_db_instance.gone", "path": "backup_retention_period"}]}"#,
    )
    .unwrap();
    let b = base.to_str().unwrap();
    let o = check(PLAN, &["--baseline", b, "--on-unknown", "warn"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let s = out(&o);
    assert!(
        s.contains(&format!(
            "warning: 1 of 2 baseline entries in {b} matched no finding"
        )) && s.contains("  G-BAK-001 aws_db_instance.gone backup_retention_period"),
        "{s}"
    );
    let dec = json(&check(PLAN, &["--baseline", b, "-o", "json"]));
    assert_eq!(
        dec["ci"]["baseline"]["stale"],
        serde_json::json!([{"rule_id": "G-BAK-001", "address": "aws_db_instance.gone", "path": "backup_retention_period"}])
    );
}

#[test]
fn a_bad_baseline_exits_2_naming_file_entry_field_and_fix() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("b.yaml");
    std::fs::write(
        &base,
        "schema: dbpolicy.baseline/v1\nfindings:\n  - {rule_id: G-BAK-001, address: a}\n  - {address: b, path: x}\n",
    )
    .unwrap();
    let o = check(PLAN, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        format!(
            "dbpolicy: {}: findings[1]: `rule_id` is missing; every entry needs rule_id, address and path (path may be \"\")\n",
            base.display()
        )
    );
    std::fs::write(&base, "findings: []\n").unwrap();
    let o = check(PLAN, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("`schema` is missing") && err(&o).contains("dbpolicy baseline create"),
        "{}",
        err(&o)
    );
}

#[test]
fn soft_fail_exits_0_on_findings_but_keeps_the_failing_outcome() {
    let o = check(PLAN, &["--soft-fail"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).ends_with("FAIL (--soft-fail: exit 0; recorded as failing)\n"),
        "{}",
        out(&o)
    );
    let dec = json(&check(PLAN, &["--soft-fail", "-o", "json"]));
    assert_eq!(dec["outcome"], "fail");
    assert_eq!(dec["ci"]["soft_fail"], true);
    // Without the flag the same plan fails; errors still exit 2 with it.
    assert_eq!(check(PLAN, &[]).status.code(), Some(1));
    let o = check("tests/golden/missing.json", &["--soft-fail"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}

#[test]
fn skip_rule_gives_skipped_results_in_every_format() {
    // The unknown G-KMS-001 results would fail too: counted as warnings here.
    let check = |plan: &str, extra: &[&str]| {
        let mut args = vec!["--on-unknown", "warn"];
        args.extend_from_slice(extra);
        check(plan, &args)
    };
    assert_eq!(check(PLAN, &[]).status.code(), Some(1));
    let o = check(PLAN, &["--skip-rule", "G-BAK-001"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let s = out(&o);
    assert!(
        s.contains("  SKIPPED G-BAK-001 [medium, soft-mandatory]")
            && s.contains("    skipped by --skip-rule (was fail)")
            && s.contains("1 skipped (--skip-rule G-BAK-001)"),
        "{s}"
    );
    let dec = json(&check(PLAN, &["--skip-rule", "G-BAK-001", "-o", "json"]));
    assert_eq!(dec["ci"]["skip_rules"], serde_json::json!(["G-BAK-001"]));
    assert_eq!(dec["summary"]["skipped"], 1);
    assert_schema("decision", &dec);
    let sarif = json(&check(PLAN, &["--skip-rule", "G-BAK-001", "-o", "sarif"]));
    let res = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "G-BAK-001")
        .unwrap()
        .clone();
    assert_eq!(res["level"], "note");
    assert_eq!(res["properties"]["status"], "skipped");
    assert_eq!(
        res["suppressions"][0]["justification"],
        "skipped for this run by --skip-rule (was fail)"
    );
    let junit = out(&check(PLAN, &["--skip-rule", "G-BAK-001", "-o", "junit"]));
    assert!(
        junit.contains("<skipped message=\"skipped by --skip-rule: backup retention"),
        "{junit}"
    );
    let gh = out(&check(PLAN, &["--skip-rule", "G-BAK-001", "-o", "github"]));
    assert!(
        gh.lines().any(|l| l.starts_with("::notice ")
            && l.contains("G-BAK-001")
            && l.contains("(skipped by --skip-rule, was fail)")),
        "{gh}"
    );
}

#[test]
fn skip_rule_is_refused_for_hard_mandatory_and_unknown_rules() {
    let o = check(PLAN, &["--skip-rule", "G-ENC-001"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "dbpolicy: --skip-rule G-ENC-001: the rule is hard-mandatory and cannot be skipped; it needs an approved exception (--exceptions FILE) for the resources it fails on\n"
    );
    assert!(o.stdout.is_empty());
    let o = check(PLAN, &["--skip-rule", "G-NOPE-9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).starts_with("dbpolicy: --skip-rule G-NOPE-9: unknown rule id;"),
        "{}",
        err(&o)
    );
}

#[test]
fn audit_record_carries_soft_fail_skip_and_baseline() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("b.yaml");
    std::fs::write(
        &base,
        "schema: dbpolicy.baseline/v1\nfindings:\n  - {rule_id: G-TAG-001, address: aws_db_instance.reports, path: tags.owner}\n",
    )
    .unwrap();
    let log = d.path().join("decisions.jsonl");
    let o = check(
        PLAN,
        &[
            "--soft-fail",
            "--skip-rule",
            "G-BAK-001",
            "--baseline",
            base.to_str().unwrap(),
            "--audit-log",
            log.to_str().unwrap(),
        ],
    );
    // G-KMS-001 unknowns fail (hard-mandatory) and are neither skipped nor baselined: soft-fail lets them pass.
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let rec = only_record(&log);
    assert_eq!(rec["kind"], "decision");
    assert_eq!(rec["outcome"], "fail");
    assert_eq!(rec["ci"]["soft_fail"], true);
    assert_eq!(rec["ci"]["skip_rules"], serde_json::json!(["G-BAK-001"]));
    assert_eq!(rec["ci"]["baseline"]["file"], base.to_str().unwrap());
    assert_eq!(rec["ci"]["baseline"]["matched"], 1);
    assert_schema("audit-record", &rec);
    let statuses: Vec<&str> = rec["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["address"] == "aws_db_instance.reports")
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"skipped") && statuses.contains(&"baselined"),
        "{statuses:?}"
    );
    // The log still verifies with the new fields.
    let v = dbpolicy(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}{}", out(&v), err(&v));
}

#[test]
fn sarif_with_skips_and_a_baseline_is_valid_sarif() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("b.yaml");
    std::fs::write(
        &base,
        "schema: dbpolicy.baseline/v1\nfindings:\n  - {rule_id: G-TAG-001, address: aws_db_instance.reports, path: tags.owner}\n",
    )
    .unwrap();
    let o = check(
        PLAN,
        &[
            "--skip-rule",
            "G-BAK-001",
            "--baseline",
            base.to_str().unwrap(),
            "-o",
            "sarif",
        ],
    );
    let sarif = json(&o);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/schemas/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v
        .iter_errors(&sarif)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let states: std::collections::BTreeSet<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["properties"]["status"].as_str().unwrap(),
                r["baselineState"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(states.contains(&("baselined", "unchanged")), "{states:?}");
    assert!(states.contains(&("skipped", "new")), "{states:?}");
    assert!(states
        .iter()
        .all(|(s, b)| (*s == "baselined") == (*b == "unchanged")));
    assert_eq!(
        sarif["runs"][0]["properties"]["ci"]["skip_rules"][0],
        "G-BAK-001"
    );
}

#[test]
fn conftest_findings_are_baselined_by_message_since_they_have_no_path() {
    let d = tempfile::tempdir().unwrap();
    let policy = d.path().join("policy");
    std::fs::create_dir_all(&policy).unwrap();
    std::fs::write(
        policy.join("main.rego"),
        "package main\n\ndeny[msg] {\n  rc := input.resource_changes[_]\n  rc.change.actions[_] == \"delete\"\n  msg := sprintf(\"%s would be deleted\", [rc.address])\n}\n",
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let base = d.path().join("b.yaml");
    let b = base.to_str().unwrap();
    let conftest = ["--no-default-bundle", "-p", p, "-n", "main", "--now", NOW];
    // conftest results are addressed by the plan file: both runs read it under the same name, as CI does.
    let plan_file = d.path().join("plan.json");
    let plan_s = plan_file.to_str().unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(PLAN), &plan_file).unwrap();
    let mut args = vec!["baseline", "create", plan_s, "-o", b];
    args.extend(conftest);
    let o = dbpolicy(&args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // The golden plan deletes two resources: two entries, told apart by their messages.
    let text = std::fs::read_to_string(&base).unwrap();
    assert_eq!(text.matches("rule_id: main.deny").count(), 2, "{text}");

    // The same plan with aws_db_instance.orders deleted too: only that message is new.
    let mut plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(PLAN)).unwrap(),
    )
    .unwrap();
    for rc in plan["resource_changes"].as_array_mut().unwrap() {
        if rc["address"] == "aws_db_instance.orders" {
            rc["change"]["actions"] = serde_json::json!(["delete"]);
        }
    }
    std::fs::write(&plan_file, serde_json::to_vec(&plan).unwrap()).unwrap();
    let mut args = vec!["check", plan_s, "--baseline", b];
    args.extend(conftest);
    let o = dbpolicy(&args);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let s = out(&o);
    let fails: Vec<&str> = s.lines().filter(|l| l.contains("FAIL main.deny")).collect();
    assert_eq!(
        fails,
        ["  FAIL main.deny [high, hard-mandatory] aws_db_instance.orders would be deleted"],
        "{s}"
    );
    assert!(s.contains("2 baselined"), "{s}");
}
