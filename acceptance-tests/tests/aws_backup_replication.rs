//! Tier-0 disaster recovery on aws through the real Terraform CLI: a tier-0 `dbplatform_database` replicates its
//! automated backups to the catalogue's DR region (us-west-2) with a KMS key of that region; refresh reads the
//! replication back (a replication stopped outside Terraform shows as drift and the next apply restarts it);
//! destroy stops it before the instance is deleted. A tier-0 database without cross-region protection is refused
//! naming DBP-DR-001, by the provider at plan and by `dbpolicy check` on the plan JSON.
//!
//! moto does not implement the replication calls (HTTP 500), so the provider talks to
//! [`BackupReplicationStub`]: a recorded-response stub of exactly those RDS actions in front of moto, which
//! forwards everything else (see its module doc).

use std::path::PathBuf;
use std::process::Command;

use acceptance_tests::backup_replication_stub::BackupReplicationStub;
use acceptance_tests::{moto_port, Workdir};
use serde_json::json;

const ADDR: &str = "dbplatform_database.db";
const KEY_EAST: &str =
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_WEST: &str =
    "arn:aws:kms:us-west-2:123456789012:key/dr-1234abcd-12ab-34cd-56ef-1234567890ab";

fn stub() -> &'static BackupReplicationStub {
    static STUB: std::sync::OnceLock<BackupReplicationStub> = std::sync::OnceLock::new();
    STUB.get_or_init(|| BackupReplicationStub::start(moto_port()).unwrap_or_else(|e| panic!("{e}")))
}

/// A tier-0 database; `extra` lines go into the resource, `policy` into the provider's policy block.
fn config(name: &str, policy: &str, extra: &str) -> String {
    format!(
        r#"provider "dbplatform" {{
  backend = "aws"
  aws {{
    endpoint = "http://127.0.0.1:{port}"
    region   = "us-east-1"
  }}
  policy {{
{policy}  }}
}}

resource "dbplatform_database" "db" {{
  name                = "{name}"
  engine              = "postgres"
  tier                = "tier-0"
  kms_key_id          = "{KEY_EAST}"
  monitoring_role_arn = "arn:aws:iam::123456789012:role/rds-monitoring"
  tags = {{
    owner               = "payments"
    cost_center         = "cc-1234"
    data_classification = "confidential"
  }}
{extra}}}
"#,
        port = stub().port()
    )
}

fn workdir(hcl: &str) -> Workdir {
    let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        wd.set_env(k, v);
    }
    wd.write_config(hcl).unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    wd
}

/// An exception for DBP-DEL-001, so the test database can be created without deletion protection and destroyed.
fn exceptions_file(dir: &std::path::Path, name: &str) -> PathBuf {
    let date = |offset: &str| {
        let out = Command::new("date")
            .args(["-u", "+%F", "-d", offset])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let path = dir.join("exceptions.yaml");
    std::fs::write(
        &path,
        format!(
            "- id: EXC-DR-{name}\n  rule: DBP-DEL-001\n  resource: 'dbplatform_database \"{name}\"'\n  \
             owner: payments\n  reason: test database\n  ticket: OPS-2\n  approved_by: platform-lead\n  \
             created: {}\n  expires: {}\n",
            date("today"),
            date("+7 days")
        ),
    )
    .unwrap();
    path
}

#[test]
fn tier0_replicates_backups_to_the_dr_region_reads_them_back_and_stops_on_destroy() {
    let name = format!("dr{}", std::process::id() % 100_000);
    let dir = tempfile::tempdir().unwrap();
    let exceptions = exceptions_file(dir.path(), &name);
    let policy = format!("    exceptions_file = \"{}\"\n", exceptions.display());
    let extra = format!(
        "  deletion_protection           = false\n  backup_replication_kms_key_id = \"{KEY_WEST}\"\n"
    );
    let wd = workdir(&config(&name, &policy, &extra));

    let plan = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    let after = &plan.resource_change(ADDR).unwrap()["change"]["after"];
    assert_eq!(
        after["backup_replication_region"],
        json!("us-west-2"),
        "the tier's DR region"
    );
    wd.run_ok(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    let state = wd.show_state().unwrap_or_else(|e| panic!("{e}"));
    for (path, want) in [
        ("region", json!("us-east-1")),
        ("backup_replication_region", json!("us-west-2")),
        ("backup_replication_kms_key_id", json!(KEY_WEST)),
        ("policy_decision.fail", json!("0")),
        ("policy_decision.unknown", json!("0")),
    ] {
        assert_eq!(
            state.attr(ADDR, path).unwrap_or_else(|e| panic!("{e}")),
            want,
            "{path}"
        );
    }
    let r = stub()
        .replication_of(&name)
        .expect("a replication was started");
    assert_eq!(
        (
            r.status.as_str(),
            r.region.as_str(),
            r.kms_key_id.as_deref(),
            r.retention_days
        ),
        ("replicating", "us-west-2", Some(KEY_WEST), 35),
        "started in the DR region with its key, keeping the tier's 35 days"
    );
    let calls = stub().calls();
    assert!(
        calls.contains(&(
            "us-west-2".into(),
            "StartDBInstanceAutomatedBackupsReplication".into()
        )),
        "{calls:?}"
    );

    // Refresh reads the replication back in the DR region: the re-plan is a no-op ...
    let again = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    assert!(again.is_noop(), "{:?}", again.changes());
    assert!(stub().calls().contains(&(
        "us-west-2".into(),
        "DescribeDBInstanceAutomatedBackups".into()
    )));
    // ... and a replication stopped outside Terraform is drift that the next apply repairs.
    stub().stop_outside_terraform(&name);
    let drift = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(drift.counts().update, 1, "{:?}", drift.changes());
    wd.run_ok(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stub().replication_of(&name).unwrap().status, "replicating");

    // Destroy stops the replication (in the DR region) before deleting the instance.
    let before = stub().calls().len();
    wd.run_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    let calls: Vec<_> = stub().calls().split_off(before);
    let stop = calls.iter().position(|c| {
        c == &(
            "us-west-2".to_string(),
            "StopDBInstanceAutomatedBackupsReplication".to_string(),
        )
    });
    let delete = calls
        .iter()
        .position(|c| c == &("us-east-1".to_string(), "DeleteDBInstance".to_string()));
    assert!(
        matches!((stop, delete), (Some(s), Some(d)) if s < d),
        "stop before delete: {calls:?}"
    );
    assert_eq!(stub().replication_of(&name).unwrap().status, "retained");
}

#[test]
fn tier0_without_cross_region_protection_is_refused_naming_dbp_dr_001() {
    let name = format!("nodr{}", std::process::id() % 100_000);
    let extra = format!("  backup_replication_region     = \"\"\n  backup_replication_kms_key_id = \"{KEY_WEST}\"\n");
    // The provider refuses the plan.
    let wd = workdir(&config(&name, "", &extra));
    let out = wd
        .run(&["plan", "-input=false", "-no-color"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.success(), "plan must fail: {}", out.stdout);
    let text = out.all_normalized();
    assert!(
        text.contains("DBP-DR-001") && text.contains("must survive the loss of its region"),
        "{text}"
    );

    // With the break-glass switch the plan goes through; CI's `dbpolicy check` on its JSON still refuses it.
    let wd = workdir(&config(
        &name,
        "    enforcement_override = \"advisory\"\n",
        &extra,
    ));
    let plan = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    let file = wd.path().join("plan.json");
    std::fs::write(&file, serde_json::to_vec(plan.raw()).unwrap()).unwrap();
    let out = Command::new(acceptance_tests::dbpolicy_binary())
        .args(["check", "--format", "text"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("DBP-DR-001") && stdout.contains(ADDR),
        "{stdout}"
    );
}
