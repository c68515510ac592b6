//! The runnable local examples pass their own guardrails in CI too: each is planned by the real Terraform CLI
//! (`plan -out`, `show -json`, creating nothing) and the plan JSON is handed to `dbpolicy check`, as a platform
//! team's pipeline does. The provider checks `dbplatform_database` at plan time; the other resources of an example
//! (replicas, drills, restore tests) are only seen whole by `dbpolicy check`, which is why this test exists.
//! `examples/guardrail-refused` is the counter-example: the provider refuses its plan, naming the rule.
//!
//! Needs `target/debug/terraform-provider-dbplatform` and `target/debug/dbpolicy` (`make build`). Examples that
//! need Terraform 1.11 (ephemeral resources) are checked by `local_credentials`.

use std::process::Command;

use acceptance_tests::local::reachable_data_dir;
use acceptance_tests::{repo_root, Workdir};

/// A workdir holding example `name`'s configuration, its `data_dir` variable set to a reachable directory.
fn example(name: &str) -> (Workdir, tempfile::TempDir) {
    let text = std::fs::read_to_string(repo_root().join("examples").join(name).join("main.tf"))
        .unwrap_or_else(|e| panic!("examples/{name}/main.tf: {e}"));
    let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    wd.write_file("main.tf", &text)
        .unwrap_or_else(|e| panic!("{e}"));
    let (tmp, data) = reachable_data_dir();
    wd.set_env("TF_VAR_data_dir", data.display().to_string());
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    (wd, tmp)
}

/// Plans example `name` and checks the plan JSON with `dbpolicy check`: it must pass with no failed, unknown or
/// warned result, and name every resource of the plan.
fn passes_its_own_guardrails(name: &str) {
    let (wd, _data) = example(name);
    let (path, plan) = wd
        .write_plan_json("plan.json")
        .unwrap_or_else(|e| panic!("examples/{name}: {e}"));
    let out = Command::new(acceptance_tests::dbpolicy_binary())
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("running dbpolicy: {e}"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "examples/{name}: dbpolicy check printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let bad: Vec<String> = report["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|r| !matches!(r["status"].as_str(), Some("pass") | Some("skip")))
        .map(|r| {
            format!(
                "{} {} {} {}: {}",
                r["status"], r["rule_id"], r["address"], r["path"], r["message"]
            )
        })
        .collect();
    assert!(
        bad.is_empty() && out.status.code() == Some(0),
        "examples/{name} does not pass its own guardrails (exit {:?}):\n{}",
        out.status.code(),
        bad.join("\n")
    );
    let checked: Vec<&str> = report["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r["address"].as_str())
        .collect();
    let planned = plan.raw()["resource_changes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|rc| rc["address"].as_str());
    for addr in planned {
        if addr.starts_with("dbplatform_database.") || addr.starts_with("dbplatform_replica.") {
            assert!(
                checked.contains(&addr),
                "examples/{name}: {addr} was not checked: {checked:?}"
            );
        }
    }
}

#[test]
fn quickstart_passes_its_own_guardrails() {
    passes_its_own_guardrails("quickstart");
}

#[test]
fn failover_drill_example_passes_its_own_guardrails() {
    passes_its_own_guardrails("failover-drill");
}

#[test]
fn the_refused_example_is_refused_by_the_provider_naming_the_rule() {
    let (wd, _data) = example("guardrail-refused");
    let out = wd.plan_env(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.success(), "the plan was not refused:\n{out}");
    assert!(out.stderr.contains("DBP-"), "no rule id in:\n{out}");
}
