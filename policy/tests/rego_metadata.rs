//! `rego.metadata.rule()` and `rego.metadata.chain()` in conftest policies and in `dbpolicy test`, with the
//! values OPA documents: the enclosing rule's METADATA annotations (plus `scope`), and the chain from the rule to
//! its package.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");

fn dbpolicy(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("DBPOLICY_AUDIT_LOG")
        .output()
        .expect("run dbpolicy")
}

const POLICY: &str = r#"# METADATA
# title: Plans of this repository
package main

# METADATA
# title: Deleting databases
# custom:
#   template: "%s would be deleted"
deny[msg] {
  rc := input.resource_changes[_]
  rc.change.actions[_] == "delete"
  meta := rego.metadata.rule()
  msg := sprintf(meta.custom.template, [rc.address])
}

warn[msg] {
  chain := rego.metadata.chain()
  count(chain) == 2
  msg := sprintf("%s / %s / %v", [chain[1].annotations.title, chain[1].annotations.scope, chain[0].path])
}
"#;

const TEST: &str = r#"package main

test_rule_metadata_has_title_custom_and_scope {
  deny["aws_db_instance.a would be deleted"] with input as {"resource_changes": [{"address": "aws_db_instance.a", "change": {"actions": ["delete"]}}]}
}
"#;

#[test]
fn metadata_calls_give_the_rules_annotations() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("policy")).unwrap();
    std::fs::write(d.path().join("policy/main.rego"), POLICY).unwrap();
    std::fs::write(d.path().join("policy/main_test.rego"), TEST).unwrap();
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/plan/plan.json");
    let o = dbpolicy(
        d.path(),
        &[
            "check",
            plan.to_str().unwrap(),
            "--no-default-bundle",
            "-p",
            "policy",
            "-n",
            "main",
            "--now",
            "2026-11-25T12:00:00Z",
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
    let msgs: Vec<(&str, &str)> = dec["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "pass")
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap(),
                r["message"].as_str().unwrap(),
            )
        })
        .collect();
    // The golden plan deletes aws_db_instance.legacy[0] and replaces (delete, create) aws_db_instance.reports.
    assert_eq!(
        msgs,
        [
            ("main.deny", "aws_db_instance.legacy[0] would be deleted"),
            ("main.deny", "aws_db_instance.reports would be deleted"),
            (
                "main.warn",
                r#"Plans of this repository / package / ["data", "main", "warn"]"#
            ),
        ]
    );
    let t = dbpolicy(d.path(), &["test", "policy", "-v"]);
    assert_eq!(
        t.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&t.stdout)
    );
}
