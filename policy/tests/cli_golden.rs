//! Golden tests: `dbpolicy check` output in every format, byte for byte, on a fixed plan, bundle, exceptions
//! file and `--now`. `UPDATE_GOLDEN=1 cargo test -p dbplatform-policy --test cli_golden` rewrites the files.
//! What differs from run to run or machine to machine (the invocation's times, the run's duration, the
//! repository's absolute path) is replaced by a placeholder before the comparison, see [`normalize`].

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");

/// The repository root: what GitHub paths are relative to, pinned so a run inside GitHub Actions (whose
/// workspace is another directory) gives the same paths.
fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn dbpolicy(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DBPOLICY_AUDIT_LOG")
        .env("GITHUB_WORKSPACE", repo_root())
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run dbpolicy")
}

/// Replaces the values that change between runs: SARIF start/end times, the JUnit run time, and the absolute
/// repository root in SARIF `originalUriBaseIds`.
fn normalize(s: &str) -> String {
    let root = format!("file://{}/", repo_root().display());
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        if t.starts_with("\"startTimeUtc\": ") || t.starts_with("\"endTimeUtc\": ") {
            let key = t.split(':').next().unwrap();
            let comma = if t.trim_end().ends_with(',') { "," } else { "" };
            out.push_str(&format!("{indent}{key}: \"TIME\"{comma}\n"));
        } else if let Some(rest) = t.strip_prefix("<testsuites ") {
            let (head, tail) = rest.split_once(" time=\"").unwrap();
            let (_, after) = tail.split_once('"').unwrap();
            out.push_str(&format!("{indent}<testsuites {head} time=\"TIME\"{after}"));
        } else {
            out.push_str(&line.replace(&root, "file:///REPO/"));
        }
    }
    out
}

fn check(format: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        "tests/golden/plan/plan.json",
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
        "--exceptions",
        "tests/golden/exceptions.yaml",
        "--now",
        "2026-11-25T12:00:00Z",
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    dbpolicy(&args)
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/expected")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(
        actual, expected,
        "{name} differs from the golden file; rerun with UPDATE_GOLDEN=1 if intended"
    );
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn text_report() {
    let o = check("text", &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = stdout(&o);
    assert!(
        s.contains("13 resources, 4 rules: 0 failed, 3 warnings, 3 unknown, 1 exempted"),
        "{s}"
    );
    assert!(
        s.contains("EXC-2 (G-TAG-001 on aws_db_subnet_group.*): expired"),
        "{s}"
    );
    golden("check.txt", &s);
}

#[test]
fn json_report_is_the_decision_and_matches_its_schema() {
    let o = check("json", &[]);
    assert_eq!(o.status.code(), Some(1));
    let s = stdout(&o);
    golden("check.json", &s);
    let decision: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(decision["schema"], "dbplatform.decision/v1");
    assert_eq!(decision["outcome"], "fail");
    let schema_out = dbpolicy(&["schema", "decision"]);
    assert_eq!(schema_out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&schema_out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&decision)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "decision does not match its schema: {errors:?}"
    );
    // The schema is not vacuous: a decision with a bad status is refused.
    let mut bad = decision.clone();
    bad["results"][0]["status"] = "maybe".into();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn sarif_report() {
    let o = check("sarif", &[]);
    assert_eq!(o.status.code(), Some(1));
    let s = stdout(&o);
    golden("check.sarif", &normalize(&s));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let shop = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("aws_db_instance.shop")
        })
        .unwrap();
    assert_eq!(
        shop["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "policy/tests/golden/plan/main.tf"
    );
    assert_eq!(
        shop["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
    assert_eq!(shop["level"], "error");
}

#[test]
fn junit_report() {
    let o = check("junit", &[]);
    let s = stdout(&o);
    assert!(
        s.contains("<testsuite name=\"G-KMS-001 Customer-managed KMS key\""),
        "{s}"
    );
    golden("check.junit.xml", &normalize(&s));
}

#[test]
fn github_annotations() {
    let o = check("github", &[]);
    let s = stdout(&o);
    assert!(s.contains("::error file=policy/tests/golden/plan/main.tf,line=10,endLine=12,title=G-KMS-001 Customer-managed KMS key::aws_db_instance.shop"), "{s}");
    golden("check.github.txt", &s);
}

#[test]
fn unknown_as_warning_and_override_pass_the_check() {
    let o = check("text", &["--on-unknown", "warn"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("PASS\n"));
    // Without the exception, the soft-mandatory backup rule fails; an override turns it into `overridden`.
    let base = [
        "check",
        "tests/golden/plan/plan.json",
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
        "--now",
        "2026-11-25T12:00:00Z",
        "--on-unknown",
        "warn",
    ];
    let o = dbpolicy(&base);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("FAIL G-BAK-001"), "{}", stdout(&o));
    let mut args = base.to_vec();
    args.extend([
        "--override",
        "G-BAK-001",
        "--reason",
        "restore test pending",
        "--by",
        "jane",
        "--format",
        "json",
    ]);
    // An override counts only once recorded: without an audit log it is refused, and nothing is reported.
    let o = dbpolicy(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("dbpolicy: --override G-BAK-001 on ")
            && err.contains("--audit-log")
            && err.contains("DBPOLICY_AUDIT_LOG")
            && err.lines().count() == 1,
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    args.extend(["--audit-log", log.to_str().unwrap()]);
    let o = dbpolicy(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = d["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == "G-BAK-001" && r["status"] == "overridden")
        .unwrap();
    assert_eq!(r["override"]["by"], "jane");
    assert_eq!(r["override"]["reason"], "restore test pending");
}

#[test]
fn advisory_enforcement_reports_failures_as_warnings_and_passes() {
    let o = check("json", &["--enforcement", "advisory"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["outcome"], "pass");
    assert_eq!(d["summary"]["fail"], 0);
    assert!(d["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] != "fail"));
}

#[test]
fn stdin_plan_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let plan =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/plan/plan.json"))
            .unwrap();
    let mut child = Command::new(BIN)
        .args([
            "check",
            "-",
            "--no-default-bundle",
            "--policy",
            "tests/golden/policies",
            "--now",
            "2026-11-25T12:00:00Z",
            "--on-unknown",
            "warn",
            "--format",
            "json",
            "--output",
        ])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&plan).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(d["summary"]["fail"], 1);
}

#[test]
fn rules_explain_and_schemas() {
    let o = dbpolicy(&[
        "rules",
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(
        s.lines()
            .nth(1)
            .unwrap()
            .starts_with("G-BAK-001  medium    soft-mandatory"),
        "{s}"
    );
    let o = dbpolicy(&[
        "rules",
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
        "--format",
        "markdown",
    ]);
    assert!(stdout(&o).contains("## G-ENC-001"));
    let o = dbpolicy(&[
        "explain",
        "G-ENC-001",
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(
        s.contains("enforcement: hard-mandatory")
            && s.contains("package dbplatform.rules.golden_encryption"),
        "{s}"
    );
    for which in ["input", "decision", "exceptions", "audit-record"] {
        let o = dbpolicy(&["schema", which]);
        assert_eq!(o.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v.get("$schema").is_some(), "{which}");
    }
}

#[test]
fn audit_log_records_the_decision_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit/decisions.jsonl");
    let log_s = log.display().to_string();
    let o = dbpolicy(&[
        "check",
        "tests/golden/plan/plan.json",
        "--no-default-bundle",
        "--policy",
        "tests/golden/policies",
        "--now",
        "2026-11-25T12:00:00Z",
        "--on-unknown",
        "warn",
        "--override",
        "G-BAK-001",
        "--reason",
        "restore pending",
        "--by",
        "jane",
        "--audit-log",
        &log_s,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1);
    let rec: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(rec["kind"], "decision");
    assert!(
        text.contains("restore pending"),
        "override reason must be on record: {text}"
    );
    let v = dbpolicy(&["audit", "verify", &log_s]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert!(
        stdout(&v).starts_with("OK: 1 records intact"),
        "{}",
        stdout(&v)
    );
}

#[test]
fn rego_tests_pass_on_the_bundle_and_failures_are_listed() {
    let o = dbpolicy(&["test"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(" passed, 0 failed"), "{}", stdout(&o));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.rego"),
        "package dbplatform.rules.x\n\nimport rego.v1\n\nviolation contains \"m\" if { input.a == 1 }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("x_test.rego"),
        "package dbplatform.rules.x_test\n\nimport rego.v1\n\ntest_passes if { count(data.dbplatform.rules.x.violation) == 1 with input as {\"a\": 1} }\n\ntest_fails if { count(data.dbplatform.rules.x.violation) == 1 with input as {\"a\": 2} }\n",
    )
    .unwrap();
    let d = dir.path().display().to_string();
    let o = dbpolicy(&["test", &d]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let s = stdout(&o);
    assert!(
        s.contains("FAIL  data.dbplatform.rules.x_test.test_fails"),
        "{s}"
    );
    assert!(s.contains("2 tests: 1 passed, 1 failed"), "{s}");
    let o = dbpolicy(&["test", &d, "--run", "test_passes", "--coverage"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("coverage:"), "{}", stdout(&o));
}
