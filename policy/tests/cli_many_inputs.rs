//! `dbpolicy check A.json B.json`: every result names its plan file in every format, one decision (and one
//! audit record) covers both, the exit code is the worst; and conftest's `--combine`.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");
const NOW: &str = "2026-11-25T12:00:00Z";

fn dbpolicy(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("DBPOLICY_AUDIT_LOG")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_WORKSPACE")
        .output()
        .expect("run dbpolicy")
}

fn policies() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/policies")
        .display()
        .to_string()
}

/// A repository with `a.json` (the golden plan) and `b.json` (the same plan, aws_db_instance.orders not
/// encrypted): the same addresses in both, one more failure in b.
fn two_plans() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join(".git")).unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/plan/plan.json"),
    )
    .unwrap();
    std::fs::write(d.path().join("a.json"), &text).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    for rc in plan["resource_changes"].as_array_mut().unwrap() {
        if rc["address"] == "aws_db_instance.orders" {
            rc["change"]["after"]["storage_encrypted"] = false.into();
        }
    }
    std::fs::write(
        d.path().join("b.json"),
        serde_json::to_string_pretty(&plan).unwrap(),
    )
    .unwrap();
    d
}

fn check(d: &Path, plans: &[&str], extra: &[&str]) -> Output {
    let p = policies();
    let mut args = vec!["check"];
    args.extend_from_slice(plans);
    args.extend([
        "--no-default-bundle",
        "--policy",
        &p,
        "--now",
        NOW,
        "--on-unknown",
        "warn",
    ]);
    args.extend_from_slice(extra);
    dbpolicy(d, &args)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn every_result_names_its_plan_file_in_every_format() {
    let d = two_plans();
    let d = d.path();
    // a alone passes but for G-BAK-001; b adds G-ENC-001 on orders. Worst exit over both: 1.
    let o = check(d, &["a.json", "b.json"], &["-o", "json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = dec["results"].as_array().unwrap();
    assert!(results
        .iter()
        .all(|r| r["input"] == "a.json" || r["input"] == "b.json"));
    let enc: Vec<(&str, &str)> = results
        .iter()
        .filter(|r| r["rule_id"] == "G-ENC-001" && r["address"] == "aws_db_instance.orders")
        .map(|r| (r["input"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(enc, [("a.json", "pass"), ("b.json", "fail")]);
    assert_eq!(dec["summary"]["fail"], 3, "{}", dec["summary"]);
    assert_eq!(dec["summary"]["resources"], 26);
    let schema = dbpolicy(d, &["schema", "decision"]);
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&dec));

    // Text: a heading per file, the new failure under b.json only.
    let s = out(&check(d, &["a.json", "b.json"], &[]));
    let (a_part, b_part) = s.split_once("== b.json ==").unwrap();
    assert!(a_part.starts_with("== a.json ==\n"), "{s}");
    assert!(
        !a_part.contains("G-ENC-001") && b_part.contains("FAIL G-ENC-001"),
        "{s}"
    );
    // A plan without findings is named too.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/no_changes_1.0.3.json"),
        d.join("c.json"),
    )
    .unwrap();
    let s = out(&check(d, &["c.json", "b.json"], &[]));
    assert!(s.starts_with("== b.json ==\n"), "{s}");
    assert!(s.contains("\n== c.json ==\nno findings\n"), "{s}");

    // SARIF: the plan file each result comes from, with the line of the resource in it.
    let o = check(d, &["a.json", "b.json"], &["-o", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let enc = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "G-ENC-001")
        .unwrap();
    let loc = &enc["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "b.json");
    assert!(loc["region"]["startLine"].as_u64().unwrap() > 1, "{loc}");
    assert_eq!(enc["properties"]["input"], "b.json");
    let uris: std::collections::BTreeSet<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(uris, ["a.json", "b.json"].into());

    // JUnit: suites per file.
    let junit = out(&check(d, &["a.json", "b.json"], &["-o", "junit"]));
    assert!(
        junit.contains("<testsuite name=\"a.json: G-ENC-001 ")
            && junit.contains("<testsuite name=\"b.json: G-ENC-001 "),
        "{junit}"
    );
    // GitHub: file= is the plan the finding is in.
    let gh = out(&check(d, &["a.json", "b.json"], &["-o", "github"]));
    assert!(
        gh.lines()
            .any(|l| l.starts_with("::error file=b.json,line=") && l.contains("G-ENC-001")),
        "{gh}"
    );
}

#[test]
fn several_plans_make_one_recorded_decision() {
    let d = two_plans();
    let log = d.path().join("decisions.jsonl");
    let o = check(
        d.path(),
        &["a.json", "b.json"],
        &["--audit-log", log.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let rec: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(rec["outcome"], "fail");
    assert_eq!(rec["result"]["summary"]["fail"], 3);
}

#[test]
fn combine_gives_conftest_rules_one_array_of_path_and_contents() {
    let d = two_plans();
    let p = d.path().join("policy");
    std::fs::create_dir_all(&p).unwrap();
    // conftest's documented --combine shape: input is [{path, contents}, ...].
    std::fs::write(
        p.join("combined.rego"),
        "package combined\n\ndeny[msg] {\n  count(input) != 2\n  msg := sprintf(\"expected 2 files, got %d\", [count(input)])\n}\n\ndeny[msg] {\n  some i\n  input[i].path == \"b.json\"\n  rc := input[i].contents.resource_changes[_]\n  rc.change.after.storage_encrypted == false\n  msg := sprintf(\"%s: %s is not encrypted\", [input[i].path, rc.address])\n}\n",
    )
    .unwrap();
    let o = dbpolicy(
        d.path(),
        &[
            "check",
            "a.json",
            "b.json",
            "--no-default-bundle",
            "-p",
            "policy",
            "-n",
            "combined",
            "--combine",
            "--now",
            NOW,
            "-o",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fails: Vec<(&str, &str)> = dec["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| (r["input"].as_str().unwrap(), r["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fails,
        [(
            "combined",
            "b.json: aws_db_instance.orders is not encrypted"
        )]
    );
    // Without --namespace there is nothing to combine for.
    let o = dbpolicy(d.path(), &["check", "a.json", "--combine"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--combine"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
