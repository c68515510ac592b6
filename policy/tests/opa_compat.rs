//! Compatibility with existing conftest/OPA policies (fixtures in `tests/fixtures/opa-compat/`): Rego v0 and v1,
//! conftest rule names and exceptions, library folders, data loaded as OPA loads it, OPA's built-ins, and
//! `dbpolicy test` on an OPA-style test folder.
//!
//! No OPA binary is available here: every expected message below is worked out by hand from OPA's documented
//! semantics (sprintf verbs, built-in results, walk's paths, conftest's rule and exception rules), and the
//! comment above each one says how.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");

fn dbpolicy(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run dbpolicy")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `(rule_id, status, message)` of every result that is not a pass, in decision order.
fn findings(o: &Output) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out(o)));
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "pass")
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn owned(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

fn conftest_v0(extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        "tests/fixtures/opa-compat/conftest-v0/plan.json",
        "--no-default-bundle",
        "--policy",
        "tests/fixtures/opa-compat/conftest-v0/policy",
        "--policy",
        "tests/fixtures/opa-compat/conftest-v0/lib",
        "--data",
        "tests/fixtures/opa-compat/conftest-v0/data/common.yaml",
        "--data",
        "tests/fixtures/opa-compat/conftest-v0/data/dir",
        "--now",
        "2026-11-25T12:00:00Z",
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--format") {
        args.extend_from_slice(&["--format", "json"]);
    }
    dbpolicy(&args)
}

#[test]
fn conftest_v0_policy_with_library_data_and_builtins_gives_opas_messages() {
    let o = conftest_v0(&["--namespace", "main"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let expected = owned(&[
        // `not rc.change.after.tags.owner`: only aws_instance.app lacks the tag (batch has one).
        (
            "main.deny",
            "fail",
            "aws_instance.app: missing the owner tag",
        ),
        // semver.compare("1.9.3", "1.10.0") == -1 (numeric, not string order). `exception` names "old_chart",
        // conftest's name for deny_old_chart (prefix deny_ removed): the failure is an exception.
        (
            "main.deny_old_chart",
            "exempted",
            "helm_release.app: chart 1.9.3 is older than 1.10.0",
        ),
        // graph.reachable(peering, {"vpc-a"}) == {"vpc-a", "vpc-b", "vpc-c"}: a set, so reachable["vpc-c"] is
        // defined; vpc-d reaches only itself.
        (
            "main.deny_pci_reachable",
            "fail",
            "aws_instance.app: vpc-a reaches the PCI network vpc-c (3 networks reachable)",
        ),
        // Port 22 is in three ingress rules; 10.20.0.0/16 and 192.168.1.0/24 are inside the internal ranges
        // (net.cidr_contains of a CIDR in a CIDR), 0.0.0.0/0 is not.
        (
            "main.deny_public_ssh",
            "fail",
            "aws_security_group.web: SSH (22) is open to 0.0.0.0/0",
        ),
        // base64.decode of the user data gives "#!/bin/bash\n..."; hex.encode("#!") == "2321".
        (
            "main.violation_user_data",
            "fail",
            "aws_instance.app: user data pipes a download into a shell (script starts with 0x2321)",
        ),
        // units.parse_bytes("20GiB") == 20 * 2^30 == 21474836480 > 10737418240; 8GiB is under the limit.
        (
            "main.violation_volume_size",
            "fail",
            "aws_instance.app: volume 20GiB (21474836480 bytes) is over the limit",
        ),
        // yaml.unmarshal of the chart values; urlquery.encode uses `+` for spaces (Go's url.QueryEscape).
        (
            "main.warn_image_tag",
            "warn",
            "helm_release.app: image registry.example.com/app:latest is not pinned; see https://wiki.example.com/search?q=pin+image+tag",
        ),
        // json.patch adds /tags/owner; object keys iterate in sorted order (Name < owner).
        (
            "main.warn_missing_owner_fix",
            "warn",
            "aws_instance.app: suggested tags: Name=app, owner=platform",
        ),
        // [path, value] := walk(input.resource_changes): the security group is resource_changes[2].
        (
            "main.warn_open_cidr",
            "warn",
            "0.0.0.0/0 appears at resource_changes/2/change/after/ingress/0/cidr_blocks/0",
        ),
    ]);
    assert_eq!(findings(&o), expected, "{}", out(&o));

    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["fail"], 5);
    assert_eq!(v["summary"]["warn"], 3);
    assert_eq!(v["summary"]["exempted"], 1);
    let result = |id: &str| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule_id"] == id)
            .unwrap()
            .clone()
    };
    // Object messages: `msg` is the message, every other key is metadata. crypto.sha256 of the decoded script:
    // sha256("#!/bin/bash\ncurl -s https://get.example.com/install | sh\n").
    assert_eq!(
        result("main.violation_user_data")["metadata"],
        serde_json::json!({"sha256": "74574e223bddd1200793f85c3cb0906a166f0ccd62e53916ec31ed735ead3a5d"})
    );
    assert_eq!(
        result("main.violation_volume_size")["metadata"],
        serde_json::json!({"limit_bytes": 10737418240u64})
    );
    assert_eq!(
        result("main.deny_old_chart")["exception"]["reason"],
        "data.main.exception[_][_] == \"old_chart\""
    );

    // --all-namespaces finds the same namespace; the library package defines no conftest rule.
    let all = conftest_v0(&["--all-namespaces"]);
    assert_eq!(findings(&all), expected, "{}", out(&all));
}

#[test]
fn conftest_v0_policy_text_report_names_rules_and_exceptions() {
    let o = conftest_v0(&["--namespace", "main", "--format", "text"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let s = out(&o);
    for needle in [
        "main.deny_public_ssh",
        "aws_security_group.web: SSH (22) is open to 0.0.0.0/0",
        "main.warn_open_cidr",
    ] {
        assert!(s.contains(needle), "{needle} missing from:\n{s}");
    }
}

#[test]
fn opa_docs_terraform_module_example_denies_http_security_groups() {
    let o = dbpolicy(&[
        "check",
        "tests/fixtures/opa-compat/terraform-module/plan.json",
        "--no-default-bundle",
        "--policy",
        "tests/fixtures/opa-compat/terraform-module/policy",
        "--namespace",
        "terraform.modules",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    // Resources of the root module and of child modules at any depth; only descriptions containing "HTTP".
    assert_eq!(
        findings(&o),
        owned(&[
            (
                "terraform.modules.deny",
                "fail",
                "No security groups should be using HTTP. Resource in violation: module.legacy.aws_security_group.old",
            ),
            (
                "terraform.modules.deny",
                "fail",
                "No security groups should be using HTTP. Resource in violation: module.web.aws_security_group.web",
            ),
        ]),
        "{}",
        out(&o)
    );
}

#[test]
fn dbpolicy_test_runs_a_v0_test_folder_with_its_library_and_data() {
    let o = dbpolicy(&["test", "tests/fixtures/opa-compat/test-folder-v0", "-v"]);
    let s = out(&o);
    assert_eq!(o.status.code(), Some(0), "{s}");
    for t in [
        "test_good_plan_passes",
        "test_bad_plan_is_denied",
        "test_library_helper",
        "test_walk_relation",
        "test_builtins",
    ] {
        assert!(s.contains(&format!("PASS  data.naming.{t} (")), "{t}: {s}");
    }
    assert!(s.contains("5 tests: 5 passed, 0 failed, 0 errors"), "{s}");
    let o = dbpolicy(&[
        "test",
        "tests/fixtures/opa-compat/test-folder-v0",
        "--run",
        "walk",
    ]);
    assert!(out(&o).contains("1 tests: 1 passed"), "{}", out(&o));
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const PLAN: &str = "tests/fixtures/opa-compat/conftest-v0/plan.json";

#[test]
fn v0_and_v1_modules_load_side_by_side_and_the_version_can_be_forced() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "p/old.rego",
        "package old\n\ndeny[msg] {\n\tcount(input.resource_changes) > 3\n\tmsg := \"v0 rule fired\"\n}\n",
    );
    write(
        d.path(),
        "p/new.rego",
        "package new\n\nimport rego.v1\n\nwarn_count contains msg if {\n\tsome rc in input.resource_changes\n\trc.type == \"helm_release\"\n\tmsg := sprintf(\"v1 rule fired on %s\", [rc.address])\n}\n",
    );
    // v1 without `import rego.v1`, only the keywords.
    write(
        d.path(),
        "p/kw.rego",
        "package kw\n\nviolation_x contains {\"msg\": \"keywords only\"} if {\n\tinput.format_version == \"1.2\"\n}\n",
    );
    let p = d.path().join("p").display().to_string();
    let o = dbpolicy(&[
        "check",
        PLAN,
        "--no-default-bundle",
        "--policy",
        &p,
        "--all-namespaces",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert_eq!(
        findings(&o),
        owned(&[
            ("kw.violation_x", "fail", "keywords only"),
            (
                "new.warn_count",
                "warn",
                "v1 rule fired on helm_release.app"
            ),
            ("old.deny", "fail", "v0 rule fired"),
        ])
    );
    // Forcing v1 refuses the v0 module with the reason, file and line.
    let o = dbpolicy(&[
        "check",
        PLAN,
        "--no-default-bundle",
        "--policy",
        &p,
        "--all-namespaces",
        "--rego-version",
        "v1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let s = out(&o);
    assert!(s.contains("old.rego:3"), "{s}");
    assert!(s.contains("`if` keyword is required"), "{s}");
    assert!(s.contains("parsed as Rego v1"), "{s}");
}

#[test]
fn unknown_and_refused_builtins_are_load_errors_with_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "p/a.rego",
        "package main\n\ndeny[msg] {\n\tinput.x\n\tmsg := crypto.sha3(\"x\")\n}\n",
    );
    let p = d.path().join("p").display().to_string();
    let o = dbpolicy(&[
        "check",
        PLAN,
        "--no-default-bundle",
        "--policy",
        &p,
        "--namespace",
        "main",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let s = out(&o);
    assert!(s.contains("a.rego:5: unknown function crypto.sha3"), "{s}");

    write(
        d.path(),
        "p/a.rego",
        "package main\n\ndeny[msg] {\n\tr := http.send({\"method\": \"get\", \"url\": \"https://example.com\"})\n\tmsg := r.body\n}\n",
    );
    let o = dbpolicy(&[
        "check",
        PLAN,
        "--no-default-bundle",
        "--policy",
        &p,
        "--namespace",
        "main",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let s = out(&o);
    assert!(
        s.contains("a.rego:4: built-in http.send is not available: network access is off"),
        "{s}"
    );

    // A one-argument walk outside `LHS := walk(x)` is refused rather than answered differently from OPA.
    write(
        d.path(),
        "p/a.rego",
        "package main\n\ndeny[msg] {\n\tcount(walk(input)) > 0\n\tmsg := \"x\"\n}\n",
    );
    let o = dbpolicy(&[
        "check",
        PLAN,
        "--no-default-bundle",
        "--policy",
        &p,
        "--namespace",
        "main",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("a.rego:4: `walk(x)`"), "{}", out(&o));
}

#[test]
fn a_library_folder_alone_is_not_an_error_but_unselected_conftest_rules_are_named() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "lib/h.rego", "package helpers\n\nx := 1\n");
    let lib = d.path().join("lib").display().to_string();
    // Next to the default bundle a library is fine.
    let o = dbpolicy(&[
        "check",
        "tests/golden/plan/plan.json",
        "--policy",
        &lib,
        "--format",
        "json",
    ]);
    assert_ne!(o.status.code(), Some(2), "{}", out(&o));
    // conftest rules nobody selected: say how to run them.
    write(
        d.path(),
        "pol/p.rego",
        "package main\n\ndeny[\"x\"] { true }\n",
    );
    let pol = d.path().join("pol").display().to_string();
    let o = dbpolicy(&["check", "tests/golden/plan/plan.json", "--policy", &pol]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("--namespace"), "{}", out(&o));
}

#[test]
fn dbpolicy_test_reports_compile_errors_with_their_reason() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "broken.rego",
        "package broken\n\ndeny[msg] {\n\tmsg := \n}\n",
    );
    let o = dbpolicy(&["test", &d.path().display().to_string()]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let s = out(&o);
    assert!(s.contains("broken.rego:"), "{s}");
    assert!(!s.contains("no tests matched"), "{s}");
    // The reason, not only the location.
    let line = s.lines().find(|l| l.contains("broken.rego:")).unwrap();
    assert!(
        line.split("broken.rego:").nth(1).unwrap().len() > 6,
        "no reason in: {line}"
    );
}

#[test]
fn capabilities_lists_builtins_like_opa() {
    let o = dbpolicy(&["capabilities"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v["builtins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    for n in [
        "walk",
        "net.cidr_contains",
        "base64.decode",
        "yaml.unmarshal",
        "json.patch",
        "json.match_schema",
        "hex.encode",
        "urlquery.encode",
        "graph.reachable",
        "semver.compare",
        "units.parse_bytes",
        "uuid.rfc4122",
        "crypto.sha256",
        "crypto.md5",
        "crypto.hmac.sha256",
        "sprintf",
    ] {
        assert!(names.contains(&n), "{n} missing");
    }
    assert!(!names.contains(&"http.send"));
    let sha = v["builtins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "crypto.sha256")
        .unwrap();
    assert_eq!(sha["decl"]["type"], "function");
    assert_eq!(sha["decl"]["args"].as_array().unwrap().len(), 1);
}
