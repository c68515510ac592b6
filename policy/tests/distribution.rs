//! The files that put dbpolicy where users run it, exercised as those tools would: `action.yml` (its shell
//! steps run with a fake `GITHUB_*` environment, in order, passing step outputs along), `.pre-commit-hooks.yaml`
//! (each hook's entry run on matching files), and the generated completions and man page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn yaml_file(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(name)).unwrap();
    policy::yaml::to_json(&text).unwrap()
}

/// PATH with the built dbpolicy first, as the install step would leave it.
fn path_with_dbpolicy() -> String {
    let dir = Path::new(BIN).parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Substitutes the `${{ ... }}` expressions GitHub would: inputs, github.action_path and step outputs.
fn expand(
    s: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").unwrap() + i;
        out.push_str(&resolve(rest[i + 3..j].trim(), inputs, steps));
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out
}

/// The value of one expression: a quoted literal, an input, the action's path or a step output.
fn resolve(
    expr: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
        lit.to_string()
    } else if let Some(name) = expr.strip_prefix("inputs.") {
        inputs
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("unknown input {name}"))
    } else if expr == "github.action_path" {
        repo_root().display().to_string()
    } else if let Some(p) = expr.strip_prefix("steps.") {
        let (id, key) = p.split_once(".outputs.").unwrap();
        steps
            .get(id)
            .and_then(|o| o.get(key))
            .cloned()
            .unwrap_or_default()
    } else {
        panic!("unsupported expression {expr}")
    }
}

/// Evaluates the `if:` conditions the action uses: always() and comparisons joined by `&&`.
fn holds(
    cond: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> bool {
    let cond = cond.trim().trim_start_matches("${{").trim_end_matches("}}");
    cond.split("&&").all(|c| {
        let c = c.trim();
        if c == "always()" {
            return true;
        }
        let (eq, (l, r)) = match c.split_once("!=") {
            Some(x) => (false, x),
            None => (
                true,
                c.split_once("==")
                    .unwrap_or_else(|| panic!("unsupported condition {c}")),
            ),
        };
        (resolve(l.trim(), inputs, steps) == resolve(r.trim(), inputs, steps)) == eq
    })
}

#[test]
fn action_steps_check_a_plan_write_sarif_and_summary_and_fail_on_findings() {
    let action = yaml_file("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.path().join("infra")).unwrap();
    std::fs::copy(
        repo_root().join("policy/tests/golden/plan/plan.json"),
        ws.path().join("infra/plan.json"),
    )
    .unwrap();
    std::fs::copy(
        repo_root().join("policy/tests/golden/plan/main.tf"),
        ws.path().join("infra/main.tf"),
    )
    .unwrap();
    let gh = |f: &str| ws.path().join(format!(".github-{f}"));
    for f in ["output", "summary", "path"] {
        std::fs::write(gh(f), "").unwrap();
    }
    let mut inputs: BTreeMap<String, String> = action["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["default"].as_str().unwrap_or("").to_string()))
        .collect();
    inputs.insert("plan".into(), "infra/plan.json".into());
    inputs.insert(
        "args".into(),
        format!(
            "--no-default-bundle --policy {} --now 2026-11-25T12:00:00Z",
            repo_root().join("policy/tests/golden/policies").display()
        ),
    );
    inputs.insert("max-annotations".into(), "2".into());
    let mut steps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut ran = Vec::new();
    let mut failed_step = None;
    for step in action["runs"]["steps"].as_array().unwrap() {
        let id = step["id"].as_str().unwrap().to_string();
        if let Some(cond) = step["if"].as_str() {
            if !holds(cond, &inputs, &steps) {
                continue;
            }
        }
        if let Some(uses) = step["uses"].as_str() {
            assert!(
                uses.starts_with("github/codeql-action/upload-sarif@"),
                "{uses}"
            );
            let sarif = expand(
                step["with"]["sarif_file"].as_str().unwrap(),
                &inputs,
                &steps,
            );
            let v: Value =
                serde_json::from_slice(&std::fs::read(ws.path().join(&sarif)).unwrap()).unwrap();
            assert_eq!(
                v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
                    ["uri"],
                "infra/main.tf"
            );
            ran.push(id);
            continue;
        }
        let script = expand(step["run"].as_str().unwrap(), &inputs, &steps);
        let mut c = Command::new("bash");
        c.args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            &script,
        ])
        .current_dir(ws.path())
        .env("PATH", path_with_dbpolicy())
        .env("GITHUB_WORKSPACE", ws.path())
        .env("GITHUB_OUTPUT", gh("output"))
        .env("GITHUB_STEP_SUMMARY", gh("summary"))
        .env("GITHUB_PATH", gh("path"))
        .env("RUNNER_TEMP", ws.path());
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            c.env(k, expand(v.as_str().unwrap(), &inputs, &steps));
        }
        let o = c.output().unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout).to_string();
        let outputs: BTreeMap<String, String> = std::fs::read_to_string(gh("output"))
            .unwrap()
            .lines()
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        steps.insert(id.clone(), outputs);
        std::fs::write(gh("output"), "").unwrap();
        if id == "check" {
            assert_eq!(
                o.status.code(),
                Some(0),
                "{stdout}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(
                stdout
                    .lines()
                    .filter(|l| l.starts_with("::error file=infra/main.tf"))
                    .count(),
                2,
                "{stdout}"
            );
        }
        ran.push(id.clone());
        if !o.status.success() {
            failed_step = Some((id, stdout));
            break;
        }
    }
    assert_eq!(ran, ["install", "check", "upload", "verdict"]);
    assert_eq!(steps["check"]["exit-code"], "1");
    let (id, out) = failed_step.expect("a failing plan fails the job");
    assert_eq!(id, "verdict");
    assert!(out.contains("::error title=dbpolicy::"), "{out}");
    let summary = std::fs::read_to_string(gh("summary")).unwrap();
    assert!(summary.contains("## dbpolicy: **fail**"), "{summary}");
}

/// Splits a pre-commit `entry` the way pre-commit does (shlex: single quotes group).
fn shlex(entry: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in entry.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn run_hook(hook: &Value, cwd: &Path, files: &[&str]) -> std::process::Output {
    let re = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
    for f in files {
        assert!(re.is_match(f), "{} does not select {f}", hook["id"]);
    }
    let argv = shlex(hook["entry"].as_str().unwrap());
    Command::new(&argv[0])
        .args(&argv[1..])
        .args(files)
        .current_dir(cwd)
        .env("PATH", path_with_dbpolicy())
        .output()
        .unwrap()
}

#[test]
fn pre_commit_hooks_check_plans_and_test_policy_folders() {
    let hooks = yaml_file(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().unwrap();
    let by_id = |id: &str| {
        hooks
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("no hook {id}"))
    };
    let d = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans");
    std::fs::create_dir_all(d.path().join("infra")).unwrap();
    std::fs::copy(
        fixtures.join("no_changes_1.0.3.json"),
        d.path().join("infra/plan.json"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("mixed_0.2.json"),
        d.path().join("infra/tfplan.prod.json"),
    )
    .unwrap();

    let check = by_id("dbpolicy-check");
    assert!(!regex::Regex::new(check["files"].as_str().unwrap())
        .unwrap()
        .is_match("package.json"));
    let o = run_hook(check, d.path(), &["infra/plan.json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run_hook(
        check,
        d.path(),
        &["infra/plan.json", "infra/tfplan.prod.json"],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failing plan fails the commit: {}",
        String::from_utf8_lossy(&o.stdout)
    );

    let test = by_id("dbpolicy-test");
    std::fs::create_dir_all(d.path().join("policies/a")).unwrap();
    std::fs::write(
        d.path().join("policies/a/x.rego"),
        "package dbplatform.rules.x\n\nimport rego.v1\n\nviolation contains \"m\" if { input.a == 1 }\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("policies/a/x_test.rego"),
        "package dbplatform.rules.x_test\n\nimport rego.v1\n\ntest_flags if { count(data.dbplatform.rules.x.violation) == 1 with input as {\"a\": 1} }\n",
    )
    .unwrap();
    let o = run_hook(
        test,
        d.path(),
        &["policies/a/x.rego", "policies/a/x_test.rego"],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        out.matches(" passed, 0 failed").count(),
        1,
        "each folder tested once: {out}"
    );
    std::fs::write(
        d.path().join("policies/a/x_test.rego"),
        "package dbplatform.rules.x_test\n\nimport rego.v1\n\ntest_flags if { count(data.dbplatform.rules.x.violation) == 1 with input as {\"a\": 2} }\n",
    )
    .unwrap();
    let o = run_hook(test, d.path(), &["policies/a/x_test.rego"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn completions_and_man_pages_come_from_the_flags() {
    let o = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let script = String::from_utf8(o.stdout).unwrap();
    assert!(
        script.contains("--max-annotations") && script.contains("--format"),
        "{script}"
    );
    // The script loads in bash and registers the completion.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("c.bash"), &script).unwrap();
    let o = Command::new("bash")
        .args(["--norc", "-c", "source ./c.bash && complete -p dbpolicy"])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("dbpolicy"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(o.status.success() && !o.stdout.is_empty(), "{shell}");
    }
    let o = Command::new(BIN).args(["man"]).output().unwrap();
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(page.contains(".TH dbpolicy 1"), "{page}");
    let dir = d.path().join("man");
    let o = Command::new(BIN)
        .arg("man")
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let check = std::fs::read_to_string(dir.join("dbpolicy-check.1")).unwrap();
    assert!(check.contains("max\\-annotations"), "{check}");
}
