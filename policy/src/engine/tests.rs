//! Engine tests on small hand-written bundles (the default bundle has its own Rego tests).

use std::path::Path;

use chrono::TimeZone;

use super::*;
use crate::model::decision::{Outcome, Override, Status};

const ENC: &str = r#"# METADATA
# title: Storage must be encrypted
# custom:
#   id: T-ENC-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: Set storage_encrypted = true.
#   references:
#     checkov: [CKV_AWS_16]
#   applies_to: [instance]
#   attributes: [settings.storage_encrypted]
package dbplatform.rules.enc

import rego.v1

violation contains {"msg": "storage is not encrypted", "path": "storage_encrypted"} if {
	input.settings.storage_encrypted == false
}
"#;

const BAK: &str = r#"# METADATA
# title: Backups kept long enough
# custom:
#   id: T-BAK-001
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: Raise backup_retention_days.
#   attributes: [settings.backup_retention_days]
package dbplatform.rules.bak

import rego.v1

violation contains {"msg": sprintf("retention %d is below %d", [input.settings.backup_retention_days, data.dbplatform.tiers[input.tier].min_backup_retention_days]), "path": "backup_retention_days"} if {
	input.settings.backup_retention_days < data.dbplatform.tiers[input.tier].min_backup_retention_days
}
"#;

const TAG: &str = r#"# METADATA
# title: Owner tag
# custom:
#   id: T-TAG-001
#   severity: low
#   enforcement: advisory
package dbplatform.rules.tag

import rego.v1

violation contains {"msg": "no owner tag", "path": "tags.owner"} if {
	not input.tags.owner
}
"#;

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

fn bundle() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "enc.rego", ENC);
    write(d.path(), "bak.rego", BAK);
    write(d.path(), "tag.rego", TAG);
    d
}

fn opts(dir: &Path) -> EngineOptions {
    EngineOptions {
        extra_dirs: vec![dir.to_path_buf()],
        include_default_bundle: false,
        ..EngineOptions::default()
    }
}

fn ctx() -> EvalContext {
    EvalContext {
        now: chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
            .unwrap(),
        overrides: vec![],
        on_unknown: None,
        source: "test".into(),
    }
}

fn input(address: &str, settings: serde_json::Value, unknown: &[&str]) -> Input {
    serde_json::from_value(serde_json::json!({
        "schema": "dbplatform.input/v1", "address": address, "module": "", "type": "aws_db_instance", "name": "db",
        "index": null, "kind": "instance", "action": "create", "backend": "aws", "engine": "postgres",
        "engine_major": "16", "tier": "tier-1", "tags": {}, "settings": settings, "settings_before": null,
        "before": null, "after": {}, "unknown": unknown, "sensitive": [],
        "paths": {"backup_retention_days": "backup_retention_period", "storage_encrypted": "storage_encrypted"},
        "related": {"parameter_groups": [], "source": null},
        "context": {"source": "plan", "terraform_version": "1.0.3", "format_version": "0.2"}
    }))
    .unwrap()
}

fn statuses(d: &Decision) -> Vec<(String, String, &'static str)> {
    d.results
        .iter()
        .map(|r| {
            (
                r.address.to_string(),
                r.rule_id.to_string(),
                r.status.as_str(),
            )
        })
        .collect()
}

#[test]
fn statuses_follow_enforcement_and_unknowns() {
    let dir = bundle();
    let pe = PolicyEngine::load(&opts(dir.path())).unwrap();
    assert_eq!(
        pe.rules().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["T-BAK-001", "T-ENC-001", "T-TAG-001"]
    );
    let inputs = vec![
        input(
            "aws_db_instance.a",
            serde_json::json!({"storage_encrypted": false, "backup_retention_days": 3}),
            &[],
        ),
        input(
            "aws_db_instance.b",
            serde_json::json!({"backup_retention_days": 30}),
            &["settings.storage_encrypted"],
        ),
    ];
    let d = pe.evaluate(&inputs, &ctx()).unwrap();
    assert_eq!(
        statuses(&d),
        [
            ("aws_db_instance.a".into(), "T-BAK-001".into(), "fail"),
            ("aws_db_instance.a".into(), "T-ENC-001".into(), "fail"),
            ("aws_db_instance.a".into(), "T-TAG-001".into(), "warn"),
            ("aws_db_instance.b".into(), "T-BAK-001".into(), "pass"),
            ("aws_db_instance.b".into(), "T-ENC-001".into(), "unknown"),
            ("aws_db_instance.b".into(), "T-TAG-001".into(), "warn"),
        ]
    );
    assert_eq!(d.results[0].message, "retention 3 is below 14");
    assert_eq!(d.results[0].path, "backup_retention_period");
    assert_eq!(d.outcome, Outcome::Fail);
    assert_eq!(
        (
            d.summary.fail,
            d.summary.warn,
            d.summary.unknown,
            d.summary.pass
        ),
        (2, 2, 1, 1)
    );
    // Same inputs, same id.
    assert_eq!(
        d.decision_id,
        pe.evaluate(&inputs, &ctx()).unwrap().decision_id
    );
}

#[test]
fn unknown_hard_mandatory_fails_by_default_and_warn_mode_passes() {
    let dir = bundle();
    let pe = PolicyEngine::load(&opts(dir.path())).unwrap();
    let mut i = input(
        "aws_db_instance.b",
        serde_json::json!({"backup_retention_days": 30}),
        &["settings.storage_encrypted"],
    );
    i.tags.insert("owner".into(), "x".into());
    let d = pe.evaluate(std::slice::from_ref(&i), &ctx()).unwrap();
    assert_eq!(d.outcome, Outcome::Fail);
    let c = EvalContext {
        on_unknown: Some(OnUnknown::Warn),
        ..ctx()
    };
    assert_eq!(pe.evaluate(&[i], &c).unwrap().outcome, Outcome::Pass);
}

#[test]
fn an_override_the_gate_passes_in_is_applied_and_recorded_in_the_result() {
    let dir = bundle();
    let pe = PolicyEngine::load(&opts(dir.path())).unwrap();
    let i = input(
        "aws_db_instance.a",
        serde_json::json!({"storage_encrypted": true, "backup_retention_days": 3}),
        &[],
    );
    let c = EvalContext {
        overrides: vec![Override {
            rule_id: "T-BAK-001".into(),
            reason: "migration".into(),
            by: "jane".into(),
        }],
        ..ctx()
    };
    let d = pe.evaluate(std::slice::from_ref(&i), &c).unwrap();
    let r = d
        .results
        .iter()
        .find(|r| &*r.rule_id == "T-BAK-001")
        .unwrap();
    assert_eq!(r.status, Status::Overridden);
    assert_eq!(r.override_.as_ref().unwrap().by, "jane");
    assert_eq!(d.outcome, Outcome::Pass);
    // Which overrides are allowed (soft-mandatory only, reason and by given) is the gate's to decide:
    // see gate::tests::overrides_are_checked_before_anything_is_evaluated_and_name_their_origin.
}

#[test]
fn exceptions_apply_only_when_approved_and_unexpired() {
    let dir = bundle();
    let exc = dir.path().join("exc.yaml");
    std::fs::write(
        &exc,
        "- {id: E1, rule: T-ENC-001, resource: 'aws_db_instance.a*', owner: o, reason: r, ticket: T-1, approved_by: jane, created: 2026-11-01, expires: 2026-11-30}\n\
         - {id: E2, rule: T-BAK-001, resource: 'aws_db_instance.*', owner: o, reason: r, ticket: T-2, approved_by: jane, created: 2026-10-01, expires: 2026-11-01}\n\
         - {id: E3, rule: T-TAG-001, resource: 'nothing.*', owner: o, reason: r, ticket: T-3, approved_by: '', created: 2026-11-01, expires: 2026-11-30}\n",
    )
    .unwrap();
    let pe = PolicyEngine::load(&EngineOptions {
        exceptions_file: Some(exc),
        ..opts(dir.path())
    })
    .unwrap();
    let i = input(
        "aws_db_instance.a",
        serde_json::json!({"storage_encrypted": false, "backup_retention_days": 3}),
        &[],
    );
    let d = pe.evaluate(&[i], &ctx()).unwrap();
    let enc = d
        .results
        .iter()
        .find(|r| &*r.rule_id == "T-ENC-001")
        .unwrap();
    assert_eq!(enc.status, Status::Exempted);
    assert_eq!(enc.exception.as_ref().unwrap().ticket, "T-1");
    let bak = d
        .results
        .iter()
        .find(|r| &*r.rule_id == "T-BAK-001")
        .unwrap();
    assert_eq!(bak.status, Status::Fail);
    let st: Vec<(&str, &str)> = d
        .exceptions
        .iter()
        .map(|e| (e.id.as_str(), e.status.as_str()))
        .collect();
    assert_eq!(
        st,
        [("E1", "applied"), ("E2", "expired"), ("E3", "unapproved")]
    );
}

#[test]
fn exception_for_unknown_rule_is_an_error() {
    let dir = bundle();
    let exc = dir.path().join("exc.json");
    std::fs::write(&exc, r#"[{"id":"E1","rule":"NOPE-1","resource":"*","owner":"o","reason":"r","ticket":"t","approved_by":"a","created":"2026-11-01","expires":"2026-11-02"}]"#).unwrap();
    let e = PolicyEngine::load(&EngineOptions {
        exceptions_file: Some(exc),
        ..opts(dir.path())
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("exception E1: unknown rule id \"NOPE-1\""),
        "{e}"
    );
}

#[test]
fn load_errors_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.rego", ENC);
    write(
        d.path(),
        "b.rego",
        &ENC.replace(
            "package dbplatform.rules.enc",
            "package dbplatform.rules.enc2",
        ),
    );
    let e = PolicyEngine::load(&opts(d.path()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("b.rego:1: duplicate rule id T-ENC-001: already defined at")
            && e.contains("a.rego:1"),
        "{e}"
    );

    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.rego",
        "package dbplatform.rules.x\n\nviolation contains {\"msg\": \"m\"} if { true }\n",
    );
    let e = PolicyEngine::load(&opts(d.path()))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("a.rego:1: rule module dbplatform.rules.x defines `violation` but has no METADATA custom.id"), "{e}");

    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.rego",
        &ENC.replace(
            "input.settings.storage_encrypted == false",
            "input.settings.storage_encrypted == == false",
        ),
    );
    let e = PolicyEngine::load(&opts(d.path()))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("a.rego:17"), "{e}");

    let d = tempfile::tempdir().unwrap();
    write(d.path(), "lib.rego", "package helpers\n\nx := 1\n");
    // A library alone is no error of its own; with nothing else loaded there is nothing to evaluate.
    let e = PolicyEngine::load(&opts(d.path()))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no rules to evaluate"), "{e}");
}

#[test]
fn conftest_namespaces_run_on_the_raw_plan() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "main.rego",
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tsome rc in input.resource_changes\n\trc.change.after.storage_encrypted == false\n\tmsg := sprintf(\"%s: not encrypted\", [rc.address])\n}\n\nwarn contains {\"msg\": \"just a warning\"} if { true }\n",
    );
    let o = EngineOptions {
        namespaces: vec!["main".into()],
        ..opts(d.path())
    };
    let pe = PolicyEngine::load(&o).unwrap();
    let raw = serde_json::json!({"resource_changes": [{"address": "aws_db_instance.x", "change": {"after": {"storage_encrypted": false}}}]});
    let dec = pe
        .evaluate_with_raw(&[], &[(&raw, "plan.json")], &ctx())
        .unwrap();
    let got: Vec<(&str, &str, &str)> = dec
        .results
        .iter()
        .map(|r| (&*r.rule_id, r.status.as_str(), r.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("main.deny", "fail", "aws_db_instance.x: not encrypted"),
            ("main.warn", "warn", "just a warning")
        ]
    );
    assert_eq!(dec.outcome, Outcome::Fail);

    let o = EngineOptions {
        namespaces: vec!["other".into()],
        ..opts(d.path())
    };
    let e = PolicyEngine::load(&o).err().unwrap().to_string();
    assert!(
        e.starts_with("namespace other defines no deny/violation/warn rules in"),
        "{e}"
    );
}

#[test]
fn compiled_vm_and_interpreter_agree_on_the_default_bundle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pe = PolicyEngine::load(&EngineOptions::default()).unwrap();
    assert!(
        pe.program.is_some(),
        "the default bundle must compile to the VM"
    );
    for plan in [
        "tests/golden/plan/plan.json",
        "tests/fixtures/plans/format_1.2.json",
        "tests/fixtures/plans/format_0.1.json",
    ] {
        let bytes = std::fs::read(root.join(plan)).unwrap();
        let inputs = crate::adapter::parse_plan(&bytes, plan).unwrap().inputs;
        pe.set_interpreter_only(false);
        let vm = pe.evaluate(&inputs, &ctx()).unwrap();
        pe.set_interpreter_only(true);
        let interp = pe.evaluate(&inputs, &ctx()).unwrap();
        assert_eq!(vm, interp, "{plan}");
        assert!(vm.results.len() >= inputs.len(), "{plan}");
    }
}

/// `DBPOLICY_EQ_PLAN=plan.json cargo test -p dbplatform-policy --release --lib vm_equivalence -- --ignored`:
/// the same comparison on any plan (e.g. one from `gen_plan`).
#[test]
#[ignore]
fn vm_equivalence_on_a_given_plan() {
    let Some(plan) = std::env::var_os("DBPOLICY_EQ_PLAN") else {
        return;
    };
    let bytes = std::fs::read(&plan).unwrap();
    let inputs = crate::adapter::parse_plan(&bytes, "plan").unwrap().inputs;
    let mut pe = PolicyEngine::load(&EngineOptions::default()).unwrap();
    let vm = pe.evaluate(&inputs, &ctx()).unwrap();
    pe.set_interpreter_only(true);
    let interp = pe.evaluate(&inputs, &ctx()).unwrap();
    assert_eq!(vm.results.len(), interp.results.len());
    for (a, b) in vm.results.iter().zip(&interp.results) {
        assert_eq!(a, b);
    }
}

/// A rule over the raw attributes and the plan context: the fields it names reach it, and a rule that
/// reads `input` as a whole sees every field, whatever the other rules read.
#[test]
fn rules_see_every_input_field_they_name() {
    const RAW: &str = r#"# METADATA
# title: Raw attributes
# custom:
#   id: T-RAW-001
#   severity: low
#   enforcement: hard-mandatory
package dbplatform.rules.raw

import rego.v1

violation contains {"msg": sprintf("%s %s", [input.after.engine_version, input["context"].terraform_version]), "path": ""} if {
	input.after.engine_version
}
"#;
    const WHOLE: &str = r#"# METADATA
# title: Whole input
# custom:
#   id: T-ALL-001
#   severity: low
#   enforcement: hard-mandatory
package dbplatform.rules.whole

import rego.v1

violation contains {"msg": concat(",", sort([k | some k, _ in input])), "path": ""} if {
	true
}
"#;
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "raw.rego", RAW);
    let mut i = input("aws_db_instance.a", serde_json::json!({}), &[]);
    i.after = Some(crate::model::input::RawJson::from_value(
        &serde_json::json!({"engine_version": "16.3"}),
    ));
    let pe = PolicyEngine::load(&opts(d.path())).unwrap();
    assert!(
        !pe.input_selection.is_whole(),
        "this bundle names its paths"
    );
    let dec = pe.evaluate(std::slice::from_ref(&i), &ctx()).unwrap();
    assert_eq!(dec.results[0].message, "16.3 1.0.3");

    write(d.path(), "whole.rego", WHOLE);
    let pe = PolicyEngine::load(&opts(d.path())).unwrap();
    assert!(
        pe.input_selection.is_whole(),
        "`some k, _ in input` reads any field"
    );
    let dec = pe.evaluate(std::slice::from_ref(&i), &ctx()).unwrap();
    let all = dec
        .results
        .iter()
        .find(|r| &*r.rule_id == "T-ALL-001")
        .unwrap();
    assert_eq!(
        all.message,
        "action,address,after,backend,before,context,engine,engine_major,index,kind,module,name,paths,related,schema,sensitive,settings,settings_before,tags,tier,type,unknown"
    );
}

#[test]
fn the_default_bundle_still_compiles_to_the_vm_with_extensions_registered() {
    // Extensions (crypto.*, graph.reachable...) are registered on every engine; the bundle's aggregator must still
    // compile to regorus' VM, else every check silently falls back to the slower interpreter.
    let pe = PolicyEngine::load(&EngineOptions::default()).unwrap();
    assert!(pe.program.is_some());
}
