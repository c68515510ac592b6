//! The public corpus as a regression suite: `dbpolicy check` on every plan JSON of `../shared/external-plans`
//! (36 files from 11 public repositories, listed with their origin in its SOURCES.md; kept outside the repository
//! because not every source states a licence that allows redistribution). Checks exit codes (0/1 for plans, 2 with
//! one line naming the file for the 3 files that are not plans), that results name exactly the plan's database
//! resources, that no result is `unknown` on an attribute the plan knows, and that every RDS finding checkov
//! reports there (fixtures/checkov_rds_findings.json, the pairs of issue 12) is reported by dbpolicy too.
//!
//! The directory is found through `$DBPOLICY_EXTERNAL_PLANS`, else as `shared/external-plans` next to the
//! repository root or one of its parents (CI checks it out at `../shared/external-plans`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");
const NOW: &str = "2026-11-25T12:00:00Z";

/// Files that are not plans, and what the one error line must say.
const NOT_PLANS: &[(&str, &str)] = &[
    ("tfjson-invalid.json", "not JSON"),
    ("infracost-state-v014.json", "looks like a state file"),
    ("scalr-rds-mock-tfplan.json", "no `format_version`"),
];

/// Resource types the default bundle has rules for.
const DB_TYPES: &[&str] = &[
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_db_parameter_group",
    "aws_rds_cluster_parameter_group",
];

fn corpus() -> PathBuf {
    if let Some(d) = std::env::var_os("DBPOLICY_EXTERNAL_PLANS") {
        return PathBuf::from(d);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in root.ancestors() {
        let c = dir.join("../shared/external-plans");
        if c.join("SOURCES.md").is_file() {
            return c;
        }
    }
    panic!(
        "the public plan corpus is missing: expected ../shared/external-plans next to the repository root (with \
         SOURCES.md), or set DBPOLICY_EXTERNAL_PLANS to its directory"
    );
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

struct Run {
    code: i32,
    stderr: String,
    decision: Option<Value>,
}

fn check(plan: &Path) -> Run {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("d.json");
    let o = Command::new(BIN)
        .args(["check", "--now", NOW, "--format", "json", "--output"])
        .arg(&out)
        .arg(plan)
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        decision: std::fs::read(&out)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
    }
}

/// Whether `path` (a raw attribute path like `kms_key_id` or `tags.tier`) is unknown, or absent, in the change.
fn unknown_in_plan(change: &Value, path: &str) -> bool {
    let mut unknown = &change["after_unknown"];
    let mut after = &change["after"];
    if unknown == &Value::Bool(true) {
        return true;
    }
    for seg in path.split('.') {
        unknown = &unknown[seg];
        after = &after[seg];
        if unknown == &Value::Bool(true) {
            return true;
        }
    }
    after.is_null()
}

#[test]
fn every_public_plan_checks_with_exact_addresses_and_no_false_unknowns() {
    let dir = corpus();
    let all = files(&dir);
    assert!(
        all.len() >= 36,
        "{}: only {} plan files",
        dir.display(),
        all.len()
    );
    let mut problems = Vec::new();
    let mut decisions: BTreeMap<String, Value> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for path in &all {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let run = check(path);
        if let Some((_, says)) = NOT_PLANS.iter().find(|(n, _)| *n == name) {
            let lines: Vec<&str> = run.stderr.lines().collect();
            if run.code != 2
                || lines.len() != 1
                || !lines[0].contains(&name)
                || !lines[0].contains(says)
            {
                problems.push(format!(
                    "{name}: want exit 2 and one line naming the file and {says:?}, got {} {:?}",
                    run.code, run.stderr
                ));
            }
            continue;
        }
        if run.code != 0 && run.code != 1 {
            problems.push(format!("{name}: exit {}: {}", run.code, run.stderr.trim()));
            continue;
        }
        let Some(decision) = run.decision else {
            problems.push(format!("{name}: no decision written"));
            continue;
        };
        decisions.insert(name.clone(), decision.clone());
        let plan: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let changes: BTreeMap<&str, &Value> = plan["resource_changes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|rc| {
                rc["mode"] == "managed" && DB_TYPES.contains(&rc["type"].as_str().unwrap_or(""))
            })
            .filter(|rc| rc["change"]["actions"] != serde_json::json!(["delete"]))
            .filter_map(|rc| Some((rc["address"].as_str()?, &rc["change"])))
            .collect();
        let results = decision["results"].as_array().cloned().unwrap_or_default();
        let got: BTreeSet<&str> = results
            .iter()
            .filter_map(|r| r["address"].as_str())
            .collect();
        let want: BTreeSet<&str> = changes.keys().copied().collect();
        if got != want {
            problems.push(format!(
                "{name}: results name {got:?}, the plan's database resources are {want:?}"
            ));
        }
        for r in &results {
            let status = r["status"].as_str().unwrap_or("");
            *counts.entry(status.to_string()).or_default() += 1;
            if status != "unknown" {
                continue;
            }
            let addr = r["address"].as_str().unwrap_or("");
            let rpath = r["path"].as_str().unwrap_or("");
            let Some(change) = changes.get(addr) else {
                continue;
            };
            // A related resource (parameter group, source) not in the plan is unknown whatever this one says.
            let related = r["message"].as_str().unwrap_or("").contains("related.");
            if !related && !rpath.is_empty() && !unknown_in_plan(change, rpath) {
                problems.push(format!(
                    "{name}: {addr} {} is unknown on {rpath}, which the plan knows: {}",
                    r["rule_id"], r["message"]
                ));
            }
        }
    }
    eprintln!("corpus results per status: {counts:?}");
    // Every RDS finding checkov reports on a resource is reported by dbpolicy on it: fail (warn for advisory
    // rules), or unknown when the plan leaves the deciding value unknown.
    let ckv: Value =
        serde_json::from_str(include_str!("fixtures/checkov_rds_findings.json")).unwrap();
    for f in ckv["findings"].as_array().unwrap() {
        let (file, address, check) = (
            f[0].as_str().unwrap(),
            f[1].as_str().unwrap(),
            f[2].as_str().unwrap(),
        );
        let rule = ckv["mapping"][check].as_str().unwrap();
        let statuses: Vec<&str> = decisions
            .get(file)
            .and_then(|d| d["results"].as_array())
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|r| r["rule_id"] == rule && r["address"] == address)
            .filter_map(|r| r["status"].as_str())
            .collect();
        if !statuses
            .iter()
            .any(|s| matches!(*s, "fail" | "warn" | "unknown"))
        {
            problems.push(format!(
                "{file}: checkov {check} fails {address}; dbpolicy {rule} says {statuses:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
