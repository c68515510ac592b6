//! Gate tests on a small hand-written bundle: override checks, refusal without an audit log, enforcement modes,
//! fail-closed recording, CI flags (skips, baselines, soft-fail) and several plan files.

use std::cell::RefCell;
use std::path::Path;

use chrono::TimeZone;

use super::*;
use crate::audit::{AuditConfig, AuditError, DecisionRecord, RecordBody};
use crate::engine::{EngineOptions, OnUnknown};
use crate::model::decision::{Enforcement, Outcome, Override, Status};
use crate::model::input::Input;

const ENC: &str = r#"# METADATA
# title: Storage must be encrypted
# custom:
#   id: T-ENC-001
#   severity: high
#   enforcement: hard-mandatory
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
#   attributes: [settings.backup_retention_days]
package dbplatform.rules.bak

import rego.v1

violation contains {"msg": "retention too short", "path": "backup_retention_days"} if {
	input.settings.backup_retention_days < 7
}
"#;

/// The bundle directory (kept alive by the caller) and its engine.
fn engine() -> (tempfile::TempDir, PolicyEngine) {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("enc.rego"), ENC).unwrap();
    std::fs::write(d.path().join("bak.rego"), BAK).unwrap();
    let pe = PolicyEngine::load(&EngineOptions {
        extra_dirs: vec![d.path().to_path_buf()],
        include_default_bundle: false,
        ..EngineOptions::default()
    })
    .unwrap();
    (d, pe)
}

fn input(settings: serde_json::Value, unknown: &[&str]) -> Input {
    serde_json::from_value(serde_json::json!({
        "schema": "dbplatform.input/v1", "address": "aws_db_instance.a", "module": "", "type": "aws_db_instance",
        "name": "a", "index": null, "kind": "instance", "action": "create", "backend": "aws", "engine": "postgres",
        "engine_major": "16", "tier": "tier-1", "tags": {}, "settings": settings, "settings_before": null,
        "before": null, "after": {}, "unknown": unknown, "sensitive": [],
        "paths": {"backup_retention_days": "backup_retention_period", "storage_encrypted": "storage_encrypted"},
        "related": {"parameter_groups": [], "source": null},
        "context": {"source": "plan", "terraform_version": "1.0.3", "format_version": "0.2"}
    }))
    .unwrap()
}

/// Encrypted, with backups too short: only the soft-mandatory T-BAK-001 fails.
fn short_backups() -> Input {
    input(
        serde_json::json!({"storage_encrypted": true, "backup_retention_days": 3}),
        &[],
    )
}

/// Not encrypted: the hard-mandatory T-ENC-001 fails.
fn unencrypted() -> Input {
    input(
        serde_json::json!({"storage_encrypted": false, "backup_retention_days": 30}),
        &[],
    )
}

fn request(inputs: Vec<Input>) -> GateRequest {
    GateRequest::new(
        inputs,
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
            .unwrap(),
        Provenance::new(Source::Cli, "9.9.9"),
    )
}

fn override_of(rule_id: &str, reason: &str, by: &str) -> RequestedOverride {
    RequestedOverride {
        origin: "--override".into(),
        rule: Override {
            rule_id: rule_id.into(),
            reason: reason.into(),
            by: by.into(),
        },
    }
}

/// A sink that keeps records in memory, or refuses every one.
#[derive(Default)]
struct Memory {
    records: RefCell<Vec<RecordBody>>,
    broken: bool,
}

impl DecisionSink for Memory {
    fn location(&self) -> String {
        "memory.jsonl".into()
    }
    fn append(&self, body: RecordBody) -> Result<(), AuditError> {
        if self.broken {
            return Err(AuditError::Config("disk full".into()));
        }
        self.records.borrow_mut().push(body);
        Ok(())
    }
}

impl Memory {
    fn decisions(&self) -> Vec<DecisionRecord> {
        self.records
            .borrow()
            .iter()
            .filter_map(|b| match b {
                RecordBody::Decision(d) => Some((**d).clone()),
                _ => None,
            })
            .collect()
    }
}

fn status_of(d: &Decision, rule: &str) -> Status {
    d.results
        .iter()
        .find(|r| &*r.rule_id == rule)
        .map(|r| r.status)
        .unwrap_or_else(|| panic!("no result for {rule}: {:?}", d.results))
}

#[test]
fn overrides_are_checked_before_anything_is_evaluated_and_name_their_origin() {
    let (_dir, pe) = engine();
    let sink = Memory::default();
    let cases = [
        (
            override_of("T-NOPE-1", "r", "b"),
            "--override: unknown rule id \"T-NOPE-1\"",
        ),
        (
            override_of("T-ENC-001", "r", "b"),
            "--override: rule T-ENC-001 is hard-mandatory; only soft-mandatory rules can be overridden",
        ),
        (
            override_of("T-BAK-001", " ", "b"),
            "--override: override of T-BAK-001 needs a non-empty --reason and --by",
        ),
        (
            override_of("T-BAK-001", "r", ""),
            "needs a non-empty --reason and --by",
        ),
    ];
    for (o, expected) in cases {
        let mut req = request(vec![short_backups()]);
        req.overrides = vec![o];
        let err = decide(&pe, req, Some(&sink)).unwrap_err();
        assert!(matches!(err, GateError::Override { .. }), "{err:?}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(sink.records.borrow().is_empty(), "nothing is recorded");
}

#[test]
fn an_override_the_plan_needs_is_refused_without_an_audit_log() {
    let (_dir, pe) = engine();
    let mut req = request(vec![short_backups()]);
    req.overrides = vec![override_of("T-BAK-001", "migration", "alice")];
    let err = decide(&pe, req, None).unwrap_err();
    let GateError::OverrideNotRecorded { refused } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].rule_id, "T-BAK-001");
    assert_eq!(refused[0].address, "aws_db_instance.a");
    assert_eq!(refused[0].by, "alice");
    let text = err.to_string();
    assert!(
        text.starts_with("--override T-BAK-001 on aws_db_instance.a (by \"alice\"): refused")
            && text.contains("--audit-log FILE")
            && text.contains("DBPOLICY_AUDIT_LOG")
            && !text.contains('\n'),
        "{text}"
    );
}

#[test]
fn an_override_the_plan_does_not_need_is_no_error_without_an_audit_log() {
    let (_dir, pe) = engine();
    let mut req = request(vec![input(
        serde_json::json!({"storage_encrypted": true, "backup_retention_days": 30}),
        &[],
    )]);
    req.overrides = vec![override_of("T-BAK-001", "migration", "alice")];
    let d = decide(&pe, req, None).unwrap();
    assert_eq!(d.outcome, Outcome::Pass);
    assert_eq!(d.summary.overridden, 0);
}

#[test]
fn a_recorded_override_applies_and_is_on_record_with_the_input_hash() {
    let (_dir, pe) = engine();
    let sink = Memory::default();
    let inputs = vec![short_backups()];
    let expected_hash =
        crate::audit::input_sha256(&serde_json::to_value(&inputs).unwrap()).unwrap();
    let mut req = request(inputs);
    req.overrides = vec![override_of("T-BAK-001", "migration", "alice")];
    req.provenance.terraform_workspace = Some("prod".into());
    let d = decide(&pe, req, Some(&sink)).unwrap();
    assert_eq!(status_of(&d, "T-BAK-001"), Status::Overridden);
    assert_eq!(d.outcome, Outcome::Pass);
    let records = sink.decisions();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.decision_id, d.decision_id);
    assert_eq!(r.outcome, "pass");
    assert_eq!(r.source.kind, "cli");
    assert_eq!(r.source.version, "9.9.9");
    assert_eq!(r.input_sha256, expected_hash);
    assert_eq!(
        r.terraform.as_ref().and_then(|t| t.workspace.as_deref()),
        Some("prod")
    );
    assert_eq!(r.overrides.len(), 1);
    assert_eq!(r.overrides[0].rule_id, "T-BAK-001");
    assert_eq!(r.overrides[0].by, "alice");
    assert_eq!(r.overrides[0].reason, "migration");
}

#[test]
fn advisory_mode_downgrades_failures_and_recomputes_outcome_summary_and_id() {
    let (_dir, pe) = engine();
    let enforced = decide(&pe, request(vec![unencrypted()]), None).unwrap();
    assert_eq!(enforced.outcome, Outcome::Fail);
    assert_eq!(enforced.summary.fail, 1);

    let sink = Memory::default();
    let mut req = request(vec![unencrypted()]);
    req.mode = EnforcementMode::Advisory;
    let d = decide(&pe, req, Some(&sink)).unwrap();
    let r = d
        .results
        .iter()
        .find(|r| &*r.rule_id == "T-ENC-001")
        .unwrap();
    assert_eq!(r.status, Status::Warn);
    assert_eq!(r.enforcement, Enforcement::Advisory);
    assert_eq!(d.outcome, Outcome::Pass);
    assert_eq!((d.summary.fail, d.summary.warn), (0, 1));
    assert_eq!(d.summary.resources, 1);
    assert_eq!(d.summary.rules, enforced.summary.rules);
    assert_ne!(
        d.decision_id, enforced.decision_id,
        "the id follows the statuses"
    );
    let rec = &sink.decisions()[0];
    assert_eq!(rec.outcome, "pass");
    assert_eq!(rec.decision_id, d.decision_id);
    assert_eq!(rec.result.summary.get("warn"), Some(&1));
    assert_eq!(rec.result.resources[0].rules["T-ENC-001"], "warn");
}

#[test]
fn advisory_mode_also_stops_unknowns_from_failing() {
    let (_dir, pe) = engine();
    let unknown = || {
        input(
            serde_json::json!({"backup_retention_days": 30}),
            &["settings.storage_encrypted"],
        )
    };
    let d = decide(&pe, request(vec![unknown()]), None).unwrap();
    assert_eq!(status_of(&d, "T-ENC-001"), Status::Unknown);
    assert_eq!(d.outcome, Outcome::Fail);
    let mut req = request(vec![unknown()]);
    req.mode = EnforcementMode::Advisory;
    let d = decide(&pe, req, None).unwrap();
    assert_eq!(status_of(&d, "T-ENC-001"), Status::Unknown);
    assert_eq!(d.outcome, Outcome::Pass);
    // `--on-unknown warn` alone already passes; advisory changes nothing then.
    let mut req = request(vec![unknown()]);
    req.on_unknown = Some(OnUnknown::Warn);
    assert_eq!(decide(&pe, req, None).unwrap().outcome, Outcome::Pass);
}

#[test]
fn advisory_mode_applies_overrides_only_when_recorded() {
    let (_dir, pe) = engine();
    let mut req = request(vec![short_backups()]);
    req.mode = EnforcementMode::Advisory;
    req.overrides = vec![override_of("T-BAK-001", "migration", "alice")];
    let d = decide(&pe, req, None).unwrap();
    assert_eq!(
        status_of(&d, "T-BAK-001"),
        Status::Warn,
        "nothing to refuse"
    );

    let sink = Memory::default();
    let mut req = request(vec![short_backups()]);
    req.mode = EnforcementMode::Advisory;
    req.overrides = vec![override_of("T-BAK-001", "migration", "alice")];
    let d = decide(&pe, req, Some(&sink)).unwrap();
    assert_eq!(status_of(&d, "T-BAK-001"), Status::Overridden);
    assert_eq!(sink.decisions()[0].overrides.len(), 1);
}

#[test]
fn off_mode_records_but_enforces_nothing_and_applies_no_override() {
    let (_dir, pe) = engine();
    let sink = Memory::default();
    let mut req = request(vec![short_backups()]);
    req.mode = EnforcementMode::Off;
    req.overrides = vec![override_of("T-BAK-001", "migration", "alice")];
    let d = decide(&pe, req, Some(&sink)).unwrap();
    assert_eq!(status_of(&d, "T-BAK-001"), Status::Warn);
    assert_eq!(d.outcome, Outcome::Pass);
    let rec = &sink.decisions()[0];
    assert!(rec.overrides.is_empty());
    assert_eq!(rec.outcome, "pass");
    // Still checked: a bad override is an error in every mode.
    let mut req = request(vec![short_backups()]);
    req.mode = EnforcementMode::Off;
    req.overrides = vec![override_of("T-ENC-001", "r", "b")];
    assert!(decide(&pe, req, Some(&sink)).is_err());
}

#[test]
fn a_decision_that_cannot_be_recorded_fails_closed() {
    let (_dir, pe) = engine();
    let sink = Memory {
        broken: true,
        ..Memory::default()
    };
    let err = decide(&pe, request(vec![short_backups()]), Some(&sink)).unwrap_err();
    let GateError::NotRecorded { decision_id, .. } = &err else {
        panic!("{err:?}")
    };
    let text = err.to_string();
    assert!(
        text.starts_with("memory.jsonl: decision ")
            && text.contains(decision_id.as_str())
            && text.contains("was not recorded, so the check fails closed")
            && text.contains("disk full"),
        "{text}"
    );
}

#[test]
fn the_audit_config_sink_appends_to_its_file() {
    let (_dir, pe) = engine();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("decisions.jsonl");
    let sink = AuditConfig::at(&log);
    let d = decide(&pe, request(vec![short_backups()]), Some(&sink)).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(&d.decision_id), "{text}");
    let blocked = logs.path().join("file");
    std::fs::write(&blocked, "x").unwrap();
    let sink = AuditConfig::at(Path::new(&blocked).join("decisions.jsonl"));
    let err = decide(&pe, request(vec![short_backups()]), Some(&sink)).unwrap_err();
    assert!(matches!(err, GateError::NotRecorded { .. }), "{err:?}");
}

fn skip_of(rule_id: &str) -> RequestedSkip {
    RequestedSkip {
        origin: "--skip-rule".into(),
        rule_id: rule_id.into(),
    }
}

fn baseline_of(entries: &[(&str, &str, &str)]) -> crate::model::baseline::Baseline {
    crate::model::baseline::Baseline {
        file: "b.yaml".into(),
        sha256: "sha256:00".into(),
        entries: entries
            .iter()
            .map(|(r, a, p)| crate::model::baseline::BaselineEntry {
                rule_id: (*r).into(),
                address: (*a).into(),
                path: (*p).into(),
                status: None,
                message: String::new(),
            })
            .collect(),
    }
}

#[test]
fn a_skip_of_a_hard_mandatory_rule_is_refused_before_anything_is_evaluated() {
    let (_d, pe) = engine();
    let sink = Memory::default();
    let mut req = request(vec![unencrypted()]);
    req.skip_rules = vec![skip_of("T-ENC-001")];
    let err = decide(&pe, req, Some(&sink)).unwrap_err();
    assert!(
        matches!(&err, GateError::Skip { problem: SkipProblem::HardMandatory { rule_id }, .. } if rule_id == "T-ENC-001"),
        "{err}"
    );
    assert!(sink.decisions().is_empty());
}

#[test]
fn skips_and_baselines_get_their_own_statuses_and_go_on_record() {
    let (_d, pe) = engine();
    let sink = Memory::default();
    // Both rules fail on one resource: T-BAK-001 is skipped, T-ENC-001 baselined; the baseline also lists the
    // skipped finding (still found: not stale) and one that is gone (stale).
    let both = input(
        serde_json::json!({"storage_encrypted": false, "backup_retention_days": 3}),
        &[],
    );
    let mut req = request(vec![both]);
    req.skip_rules = vec![skip_of("T-BAK-001")];
    req.baseline = Some(baseline_of(&[
        ("T-ENC-001", "aws_db_instance.a", "storage_encrypted"),
        ("T-BAK-001", "aws_db_instance.a", "backup_retention_period"),
        ("T-ENC-001", "aws_db_instance.gone", "storage_encrypted"),
    ]));
    req.soft_fail = true;
    let d = decide(&pe, req, Some(&sink)).unwrap();
    assert_eq!(status_of(&d, "T-BAK-001"), Status::Skipped);
    assert_eq!(status_of(&d, "T-ENC-001"), Status::Baselined);
    assert_eq!(d.outcome, Outcome::Pass);
    assert_eq!(
        (d.summary.skipped, d.summary.baselined, d.summary.fail),
        (1, 1, 0)
    );
    let b = d.ci.baseline.as_ref().unwrap();
    assert_eq!(b.matched, 1);
    assert_eq!(b.stale.len(), 1);
    assert_eq!(b.stale[0].address, "aws_db_instance.gone");
    let rec = &sink.decisions()[0];
    assert_eq!(rec.ci.as_ref(), Some(&d.ci));
    assert_eq!(rec.decision_id, d.decision_id);
}

#[test]
fn several_files_keep_equal_addresses_apart_in_one_recorded_decision() {
    let (_d, pe) = engine();
    let sink = Memory::default();
    let mut req = request(vec![]);
    req.files = vec![
        InputFile {
            name: "a.json".into(),
            inputs: vec![short_backups()],
            raws: vec![],
        },
        InputFile {
            name: "b.json".into(),
            inputs: vec![unencrypted()],
            raws: vec![],
        },
    ];
    let d = decide(&pe, req, Some(&sink)).unwrap();
    let failing: Vec<(&str, &str)> = d
        .results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .map(|r| (r.input.as_deref().unwrap(), &*r.rule_id))
        .collect();
    assert_eq!(failing, [("a.json", "T-BAK-001"), ("b.json", "T-ENC-001")]);
    assert_eq!(d.inputs, ["a.json", "b.json"]);
    assert_eq!(d.summary.resources, 2);
    assert_eq!(sink.decisions().len(), 1);
}
