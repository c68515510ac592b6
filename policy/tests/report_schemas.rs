//! The reports CI tools read, checked against their published schemas and against what GitHub documents as
//! required, on a generated plan with no `.tf` files beside it (the case where code scanning used to show
//! nothing): SARIF 2.1.0, Jenkins xunit JUnit, GitHub annotations and job summary, and several reports from
//! one run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");
const NOW: &str = "2026-11-25T12:00:00Z";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A throwaway repository (`.git` marks its root) holding `infra/plan.json`, generated, with no `.tf` files.
fn repo_with_generated_plan() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join(".git")).unwrap();
    std::fs::create_dir_all(d.path().join("infra/sub")).unwrap();
    let plan = d.path().join("infra/plan.json");
    std::fs::write(&plan, serde_json::to_vec(&bench::generate(12, 42)).unwrap()).unwrap();
    (d, plan)
}

/// Runs `dbpolicy` in `cwd` outside GitHub Actions (no `GITHUB_*` variables inherited).
fn dbpolicy(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn sarif_of(cwd: &Path, plan: &str) -> serde_json::Value {
    let o = dbpolicy(cwd, &["check", plan, "--now", NOW, "-o", "sarif"], &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn validate_sarif(v: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tests/fixtures/schemas/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(v)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not match the 2.1.0 schema: {errors:#?}"
    );
}

/// What GitHub's SARIF documentation lists as required or used for placing and deduplicating alerts.
fn check_github_requirements(v: &serde_json::Value) {
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "dbpolicy");
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for r in rules {
        assert!(
            r["id"].is_string() && r["shortDescription"]["text"].is_string(),
            "{r}"
        );
        assert!(r["help"]["text"].is_string(), "{r}");
    }
    let inv = &run["invocations"][0];
    assert_eq!(inv["exitCode"], 1);
    assert_eq!(inv["executionSuccessful"], true);
    assert!(inv["startTimeUtc"].as_str().unwrap() <= inv["endTimeUtc"].as_str().unwrap());
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert!(r["ruleId"].as_str().is_some_and(|s| s.len() <= 255), "{r}");
        assert!(r["message"]["text"].is_string(), "{r}");
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_else(|| panic!("no physicalLocation: {r}"));
        assert!(
            !uri.starts_with('/') && !uri.contains(':'),
            "not repository-relative: {uri}"
        );
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r}");
        assert!(
            loc["region"]["endColumn"].as_u64() > loc["region"]["startColumn"].as_u64(),
            "{r}"
        );
        let fp = r["partialFingerprints"]["dbpolicyFinding/v1"]
            .as_str()
            .unwrap();
        assert_eq!(fp.len(), 64, "{r}");
    }
}

/// (rule, fingerprint, uri, line) of every result.
fn identities(v: &serde_json::Value) -> Vec<(String, String, String, u64)> {
    let mut out: Vec<_> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["dbpolicyFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sarif_of_a_plan_without_tf_files_is_valid_and_placed_in_the_plan_file() {
    let (repo, _plan) = repo_with_generated_plan();
    let v = sarif_of(repo.path(), "infra/plan.json");
    validate_sarif(&v);
    check_github_requirements(&v);
    let ids = identities(&v);
    assert!(
        ids.iter().all(|(_, _, uri, _)| uri == "infra/plan.json"),
        "{ids:?}"
    );
    // Rules of the embedded bundle link to their documentation.
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let enc = rules.iter().find(|r| r["id"] == "DBP-ENC-001").unwrap();
    assert!(
        enc["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("docs/policy-rules.md#dbp-enc-001"),
        "{enc}"
    );
    // The region is the resource's entry in the plan: it starts with its `{` and names the address.
    let text = std::fs::read_to_string(repo.path().join("infra/plan.json")).unwrap();
    let r = &v["runs"][0]["results"][0];
    let region = &r["locations"][0]["physicalLocation"]["region"];
    let line = text
        .lines()
        .nth(region["startLine"].as_u64().unwrap() as usize - 1)
        .unwrap();
    let entry: String = line
        .chars()
        .skip(region["startColumn"].as_u64().unwrap() as usize - 1)
        .take(200)
        .collect();
    let address = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap();
    assert!(
        entry.starts_with('{')
            && entry.contains(&format!(
                "\"address\":{}",
                serde_json::to_string(address).unwrap()
            )),
        "{entry}"
    );
}

#[test]
fn same_finding_same_fingerprint_and_uri_from_any_working_directory() {
    let (repo, plan) = repo_with_generated_plan();
    let from_root = identities(&sarif_of(repo.path(), "infra/plan.json"));
    let from_sub = identities(&sarif_of(&repo.path().join("infra/sub"), "../plan.json"));
    let absolute = identities(&sarif_of(Path::new("/"), plan.to_str().unwrap()));
    assert_eq!(from_root, from_sub);
    // Outside the repository the root is found from... the working directory: `/` has no `.git`, so only the
    // fingerprints must agree there.
    let fps =
        |v: &[(String, String, String, u64)]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    assert_eq!(fps(&from_root), fps(&absolute));
    // In GitHub Actions the workspace names the root, wherever the check runs.
    let o = dbpolicy(
        Path::new("/"),
        &["check", plan.to_str().unwrap(), "--now", NOW, "-o", "sarif"],
        &[("GITHUB_WORKSPACE", repo.path())],
    );
    let in_actions = identities(&serde_json::from_slice(&o.stdout).unwrap());
    assert_eq!(from_root, in_actions);
}

#[test]
fn fingerprints_survive_line_moves() {
    let (repo, plan) = repo_with_generated_plan();
    let before = identities(&sarif_of(repo.path(), "infra/plan.json"));
    // The same plan pretty-printed: every line moves, no finding changes.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    std::fs::write(&plan, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let after = identities(&sarif_of(repo.path(), "infra/plan.json"));
    assert_eq!(before.len(), after.len());
    let fps =
        |v: &[(String, String, String, u64)]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    assert_eq!(fps(&before), fps(&after));
    assert!(
        after.iter().any(|x| x.3 > 1),
        "pretty-printed plan has entries past line 1"
    );
}

#[test]
fn golden_sarif_is_valid_too() {
    let o = dbpolicy(
        &fixture(""),
        &[
            "check",
            "tests/golden/plan/plan.json",
            "--no-default-bundle",
            "-p",
            "tests/golden/policies",
            "--exceptions",
            "tests/golden/exceptions.yaml",
            "--now",
            NOW,
            "-o",
            "sarif",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    validate_sarif(&v);
    // A suppressed (exempted) finding keeps its location and fingerprint.
    let exempted = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["suppressions"].is_array())
        .unwrap();
    assert!(exempted["partialFingerprints"]["dbpolicyFinding/v1"].is_string());
}

/// Validates `xml` against the Jenkins xunit schema with xmllint; a missing xmllint fails the test (CI
/// installs it with scripts/install-tools.sh), so the check can never be skipped silently.
fn validate_junit(xml: &str) {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("report.xml");
    std::fs::write(&f, xml).unwrap();
    let o = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(fixture("tests/fixtures/schemas/junit-10.xsd"))
        .arg(&f)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint not runnable ({e}): install libxml2-utils (scripts/install-tools.sh does)"
            )
        });
    assert!(
        o.status.success(),
        "JUnit report does not match junit-10.xsd:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn junit_is_valid_against_the_jenkins_xunit_schema() {
    let (repo, _plan) = repo_with_generated_plan();
    let o = dbpolicy(
        repo.path(),
        &["check", "infra/plan.json", "--now", NOW, "-o", "junit"],
        &[],
    );
    let xml = String::from_utf8(o.stdout).unwrap();
    validate_junit(&xml);
    let head = xml.lines().nth(1).unwrap();
    assert!(
        head.starts_with("<testsuites ") && !head.contains("skipped="),
        "{head}"
    );
    assert!(head.contains(" time=\""), "{head}");
    assert!(xml.contains("<property name=\"enforcement\" value=\"hard-mandatory\"/>"));
    // The schema check is not vacuous: the old `skipped` on <testsuites> is refused.
    let bad = xml.replacen("<testsuites ", "<testsuites skipped=\"1\" ", 1);
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bad.xml"), bad).unwrap();
    let o = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(fixture("tests/fixtures/schemas/junit-10.xsd"))
        .arg(d.path().join("bad.xml"))
        .output()
        .unwrap();
    assert!(!o.status.success());
}

#[test]
fn github_annotations_are_capped_worst_first_and_the_summary_lists_everything() {
    let (repo, _plan) = repo_with_generated_plan();
    let summary = repo.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let o = dbpolicy(
        repo.path(),
        &[
            "check",
            "infra/plan.json",
            "--now",
            NOW,
            "-o",
            "github",
            "--max-annotations",
            "3",
        ],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let annotations: Vec<&str> = out.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 3, "{out}");
    assert!(
        annotations
            .iter()
            .all(|a| a.starts_with("::error file=infra/plan.json,line=1,")),
        "{out}"
    );
    assert!(
        out.contains("more findings are not annotated (--max-annotations 3)"),
        "{out}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n## dbpolicy: **fail**"),
        "{md}"
    );
    assert!(md.contains("| status | count |"), "{md}");
    assert!(md.contains("### Failures by rule"), "{md}");
    assert!(
        md.contains("| [DBP-") && md.contains("/docs/policy-rules.md#dbp-"),
        "{md}"
    );
    let rows = md.lines().filter(|l| l.starts_with("| **fail** |")).count();
    let total = out.lines().filter(|l| l.starts_with("::")).count()
        + out
            .lines()
            .find_map(|l| {
                l.split(' ')
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|_| l.contains("more findings"))
            })
            .unwrap();
    assert!(rows >= 3 && rows <= total, "{rows} failing rows of {total}");
}

#[test]
fn several_reports_from_one_run() {
    let (repo, _plan) = repo_with_generated_plan();
    let o = dbpolicy(
        repo.path(),
        &[
            "check",
            "infra/plan.json",
            "--now",
            NOW,
            "--format",
            "sarif=out.sarif",
            "-o",
            "junit=out.xml",
            "--format",
            "text",
        ],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8(o.stdout).unwrap().ends_with("FAIL\n"));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.path().join("out.sarif")).unwrap()).unwrap();
    validate_sarif(&v);
    validate_junit(&std::fs::read_to_string(repo.path().join("out.xml")).unwrap());
    // --output takes the one report without its own file.
    let o = dbpolicy(
        repo.path(),
        &[
            "check",
            "infra/plan.json",
            "--now",
            NOW,
            "-o",
            "json",
            "-o",
            "text=t.txt",
            "--output",
            "d.json",
        ],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty());
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.path().join("d.json")).unwrap()).unwrap();
    assert_eq!(d["outcome"], "fail");
}

#[test]
fn output_flags_refuse_what_would_silently_misfire() {
    let (repo, _plan) = repo_with_generated_plan();
    for (args, want) in [
        (
            &["--output", "sarif"][..],
            "--output sarif: --output takes a file name, not a format; use --format sarif (or -o sarif)",
        ),
        (&["-o", "sarif", "-o", "text"][..], "2 --format values have no =FILE"),
        (&["-o", "sarif=x", "-o", "text=x"][..], "x: two reports would write the same file"),
        (&["-o", "sarif=x", "--output", "y"][..], "--output y: every --format has its own =FILE"),
    ] {
        let mut all = vec!["check", "infra/plan.json"];
        all.extend_from_slice(args);
        let o = dbpolicy(repo.path(), &all, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(!repo.path().join("sarif").exists());
    let o = dbpolicy(repo.path(), &["check", "infra/plan.json", "-o", "xml"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"xml\" is not a format"));
}

#[test]
fn conftest_short_flags() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("deny.rego"),
        "package main\n\nimport rego.v1\n\ndeny contains \"no\" if { input.format_version }\n",
    )
    .unwrap();
    let plan = fixture("tests/golden/plan/plan.json");
    let o = dbpolicy(
        d.path(),
        &[
            "check",
            plan.to_str().unwrap(),
            "--no-default-bundle",
            "-p",
            ".",
            "-n",
            "main",
            "-o",
            "json",
            "--now",
            NOW,
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "fail");
}
