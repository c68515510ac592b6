//! Bad input, table driven: every case runs the built `dbpolicy` and must exit with the documented code (2 for
//! usage/input errors) and one line on stderr naming the file and the problem, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");
const GOOD_PLAN: &str = "tests/golden/plan/plan.json";
const POLICIES: &str = "tests/golden/policies";
const NOW: &str = "2026-11-25T12:00:00Z";

const RULE: &str = "# METADATA\n# title: T\n# custom:\n#   id: X-001\n#   severity: high\n#   enforcement: hard-mandatory\npackage dbplatform.rules.x\n\nimport rego.v1\n\nviolation contains {\"msg\": \"m\", \"path\": \"p\"} if {\n\tinput.settings.storage_encrypted == false\n}\n";

const EXC: &str = "- id: E1\n  rule: G-ENC-001\n  resource: '*'\n  owner: o\n  reason: r\n  ticket: T-1\n  approved_by: a\n  created: 2026-11-01\n  expires: 2026-11-30\n";

/// One case: files to create in a temp dir, arguments (`{d}` = the temp dir), expected code and stderr parts.
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    code: i32,
    stderr: &'static [&'static str],
    /// clap's own usage errors span several lines; ours are one line.
    multi_line_ok: bool,
}

const fn case(
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    stderr: &'static [&'static str],
) -> Case {
    Case {
        name,
        files,
        args,
        code: 2,
        stderr,
        multi_line_ok: false,
    }
}

const fn clap_case(
    name: &'static str,
    args: &'static [&'static str],
    stderr: &'static [&'static str],
) -> Case {
    Case {
        name,
        files: &[],
        args,
        code: 2,
        stderr,
        multi_line_ok: true,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("not json", &[("p.json", "hello, world")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "not JSON"]),
        case("json that is not a plan", &[("p.json", "{\"a\": 1}")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "not a Terraform plan"]),
        case("json array", &[("p.json", "[1, 2]")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "not a Terraform plan"]),
        case("truncated", &[("p.json", "{\"format_version\": \"1.2\", \"resource_changes\": [{\"address\": \"aws_db")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "truncated"]),
        case("empty file", &[("p.json", "")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "empty"]),
        case("whitespace only", &[("p.json", "  \n\n ")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "empty"]),
        case("unknown format version", &[("p.json", "{\"format_version\": \"9.0\", \"resource_changes\": []}")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "format_version \"9.0\" is not supported"]),
        case("resource_changes of the wrong type", &[("p.json", "{\"format_version\": \"1.2\", \"resource_changes\": \"x\"}")], &["check", "{d}/p.json", "--no-default-bundle", "--policy", POLICIES], &["p.json", "resource_changes"]),
        case("missing plan file", &[], &["check", "{d}/nope.json", "--no-default-bundle", "--policy", POLICIES], &["nope.json", "cannot read plan"]),
        case("directory instead of plan", &[("sub/x.txt", "")], &["check", "{d}/sub", "--no-default-bundle", "--policy", POLICIES], &["sub", "is a directory"]),
        case("rego syntax error", &[("pol/x.rego", "# METADATA\n# custom:\n#   id: X-001\n#   severity: high\n#   enforcement: advisory\npackage dbplatform.rules.x\n\nviolation contains {\"msg\": \"m\"} if {\n\tinput.a == == 1\n}\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol/x.rego:9"]),
        case("rule without id", &[("pol/x.rego", "package dbplatform.rules.x\n\nviolation contains \"m\" if { false }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol/x.rego:1", "no METADATA custom.id"]),
        case("duplicate rule id", &[("pol/a.rego", RULE), ("pol/b/c.rego", "# METADATA\n# custom:\n#   id: X-001\n#   severity: low\n#   enforcement: advisory\npackage dbplatform.rules.y\n\nviolation contains \"m\" if { false }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["duplicate rule id X-001", "pol/a.rego:1"]),
        case("bad enforcement", &[("pol/a.rego", "# METADATA\n# custom:\n#   id: X-001\n#   severity: high\n#   enforcement: mandatory\npackage dbplatform.rules.x\n\nviolation contains \"m\" if { false }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol/a.rego:1", "bad custom.enforcement \"mandatory\""]),
        case("bad severity", &[("pol/a.rego", "# METADATA\n# custom:\n#   id: X-001\n#   severity: huge\n#   enforcement: advisory\npackage dbplatform.rules.x\n\nviolation contains \"m\" if { false }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol/a.rego:1", "bad custom.severity \"huge\""]),
        case("bad applies_to", &[("pol/a.rego", "# METADATA\n# custom:\n#   id: X-001\n#   severity: low\n#   enforcement: advisory\n#   applies_to: [instanse]\npackage dbplatform.rules.x\n\nviolation contains \"m\" if { false }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol/a.rego:1", "applies_to value \"instanse\""]),
        case("metadata not yaml", &[("pol/a.rego", "# METADATA\n# custom: [unclosed\npackage dbplatform.rules.x\n\nviolation contains \"m\" if { false }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol/a.rego", "METADATA is not valid YAML"]),
        case("conftest rules without --namespace", &[("pol/p.rego", "package main\n\ndeny[\"x\"] { true }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol", "defines no rule we can query"]),
        case("empty policy dir", &[("pol/README", "nothing")], &["check", GOOD_PLAN, "--policy", "{d}/pol"], &["pol", "no .rego policy files found"]),
        case("missing policy dir", &[], &["check", GOOD_PLAN, "--policy", "{d}/nope"], &["nope", "cannot read policy directory"]),
        case("policy is a plain file", &[("pol.txt", "x")], &["check", GOOD_PLAN, "--policy", "{d}/pol.txt"], &["pol.txt", "is not a directory"]),
        case("wrong namespace", &[("pol/main.rego", "package main\n\nimport rego.v1\n\ndeny contains \"x\" if { false }\n")], &["check", GOOD_PLAN, "--policy", "{d}/pol", "--namespace", "nope"], &["namespace nope defines no deny/violation/warn rules in", "pol"]),
        case("all namespaces without conftest rules", &[("pol/a.rego", RULE)], &["check", GOOD_PLAN, "--policy", "{d}/pol", "--all-namespaces"], &["--all-namespaces: no package in", "defines deny/violation/warn"]),
        case("malformed exception", &[("e.yaml", "- id: E1\n  rule: G-ENC-001\n")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--exceptions", "{d}/e.yaml"], &["e.yaml", "missing field"]),
        case("exception file not yaml", &[("e.yaml", "exceptions: [unclosed\n")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--exceptions", "{d}/e.yaml"], &["e.yaml"]),
        case("exception with a bad date", &[("e.yaml", "- id: E1\n  rule: G-ENC-001\n  resource: '*'\n  owner: o\n  reason: r\n  ticket: T-1\n  approved_by: a\n  created: 2026-11-01\n  expires: next week\n")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--exceptions", "{d}/e.yaml"], &["e.yaml", "expires"]),
        case("exception expires before created", &[("e.yaml", "- id: E1\n  rule: G-ENC-001\n  resource: '*'\n  owner: o\n  reason: r\n  ticket: T-1\n  approved_by: a\n  created: 2026-11-01\n  expires: 2026-10-01\n")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--exceptions", "{d}/e.yaml"], &["e.yaml", "exception E1", "before created"]),
        case("exception naming unknown rule", &[("e.yaml", "- id: E1\n  rule: NOPE-1\n  resource: '*'\n  owner: o\n  reason: r\n  ticket: T-1\n  approved_by: a\n  created: 2026-11-01\n  expires: 2026-11-30\n")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--exceptions", "{d}/e.yaml"], &["e.yaml", "exception E1", "unknown rule id \"NOPE-1\""]),
        case("missing exceptions file", &[], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--exceptions", "{d}/e.yaml"], &["e.yaml", "cannot read exceptions file"]),
        case("bad --now", &[], &["check", GOOD_PLAN, "--now", "yesterday"], &["--now \"yesterday\"", "RFC 3339"]),
        case("override of an unknown rule", &[], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--now", NOW, "--override", "NOPE-1", "--reason", "r", "--by", "b"], &["--override", "unknown rule id \"NOPE-1\""]),
        case("override of a hard-mandatory rule", &[], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--now", NOW, "--override", "G-ENC-001", "--reason", "r", "--by", "b"], &["G-ENC-001 is hard-mandatory", "only soft-mandatory"]),
        case("override with an empty reason", &[], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--now", NOW, "--override", "G-BAK-001", "--reason", " ", "--by", "b"], &["G-BAK-001", "non-empty --reason"]),
        case("override the plan needs, without an audit log", &[], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--now", NOW, "--on-unknown", "warn", "--override", "G-BAK-001", "--reason", "r", "--by", "b"], &["--override G-BAK-001 on ", "refused", "--audit-log", "DBPOLICY_AUDIT_LOG"]),
        clap_case("bad --enforcement", &["check", GOOD_PLAN, "--enforcement", "lenient"], &["--enforcement"]),
        case("two overrides one reason", &[], &["check", GOOD_PLAN, "--override", "A", "--override", "B", "--reason", "r", "--by", "b"], &["--override needs one --reason and one --by each"]),
        case("missing data file", &[], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--data", "{d}/d.json"], &["d.json", "cannot read data file"]),
        case("data file not json", &[("d.json", "{oops")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--data", "{d}/d.json"], &["d.json", "not valid JSON"]),
        case("data file not an object", &[("d.json", "[1]")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--data", "{d}/d.json"], &["d.json", "object at the top level"]),
        case("bad tier catalogue", &[("tiers.toml", "[tiers.x]\nmulti_az = 3\n")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--data", "{d}/tiers.toml"], &["tiers.toml", "not valid"]),
        case("output into a missing directory", &[], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--now", NOW, "--output", "{d}/no/such/dir/out.txt"], &["out.txt", "cannot write output"]),
        case("audit log that cannot be written", &[("log", "a file, not a directory")], &["check", GOOD_PLAN, "--no-default-bundle", "--policy", POLICIES, "--now", NOW, "--on-unknown", "warn", "--audit-log", "{d}/log/decisions.jsonl"], &["decisions.jsonl", "was not recorded, so the check fails closed"]),
        case("no rules at all", &[], &["check", GOOD_PLAN, "--no-default-bundle"], &["no rules to evaluate"]),
        case("explain unknown rule", &[], &["explain", "NOPE-1", "--no-default-bundle", "--policy", POLICIES], &["unknown rule id \"NOPE-1\""]),
        clap_case("bad --format", &["check", GOOD_PLAN, "--format", "yaml"], &["--format"]),
        clap_case("override without reason", &["check", GOOD_PLAN, "--override", "G-BAK-001"], &["--reason"]),
        clap_case("bad --on-unknown", &["check", GOOD_PLAN, "--on-unknown", "maybe"], &["--on-unknown"]),
        clap_case("check without a plan", &["check"], &["PLAN"]),
        clap_case("unknown subcommand", &["frobnicate"], &["frobnicate"]),
        clap_case("bad schema name", &["schema", "plan"], &["plan"]),
    ]
}

fn run(c: &Case, dir: &Path) -> (Option<i32>, String, String) {
    for (name, content) in c.files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
    }
    let d = dir.display().to_string();
    let args: Vec<String> = c.args.iter().map(|a| a.replace("{d}", &d)).collect();
    let o = Command::new(BIN)
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DBPOLICY_AUDIT_LOG")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bad_inputs_exit_2_with_one_line_naming_the_problem() {
    let all = cases();
    assert!(all.len() >= 30, "keep at least 30 cases");
    let mut failures = Vec::new();
    for c in &all {
        let dir = tempfile::tempdir().unwrap();
        let (code, _out, err) = run(c, dir.path());
        let mut problems = Vec::new();
        if code != Some(c.code) {
            problems.push(format!("exit {code:?}, want {}", c.code));
        }
        if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
            problems.push("panicked".into());
        }
        let trimmed = err.trim_end();
        if !c.multi_line_ok && (trimmed.lines().count() != 1 || !trimmed.starts_with("dbpolicy: "))
        {
            problems.push("stderr is not one `dbpolicy: ...` line".into());
        }
        for part in c.stderr {
            if !err.contains(part) {
                problems.push(format!("stderr lacks {part:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} -- stderr: {}",
                c.name,
                problems.join("; "),
                trimmed
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn expired_exception_is_reported_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let exc: PathBuf = dir.path().join("e.yaml");
    std::fs::write(&exc, EXC.replace("2026-11-30", "2026-11-20")).unwrap();
    let o = Command::new(BIN)
        .args([
            "check",
            GOOD_PLAN,
            "--no-default-bundle",
            "--policy",
            POLICIES,
            "--now",
            NOW,
            "--on-unknown",
            "warn",
            "--exceptions",
        ])
        .arg(&exc)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    // The soft-mandatory backup failure still fails: the exception is for another rule and expired anyway.
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("E1 (G-ENC-001 on *): expired: expired on 2026-11-20; matched no finding"),
        "{out}"
    );
    assert!(!out.contains("EXEMPTED"), "{out}");
}
