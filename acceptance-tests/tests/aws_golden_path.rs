//! The golden path on aws, through the real Terraform CLI against the moto RDS emulator: a plain tier-1
//! `dbplatform_database` (name, engine, tier, KMS key, monitoring role, required tags) plans with no guardrail
//! failure and applies, with the windows the tier chose; then it is decommissioned as the provider's destroy
//! message says: an exception for DBP-DEL-001 lets protection be turned off, and the destroy keeps a final snapshot.

use acceptance_tests::{moto_port, Check, ExpectPlan, Step, TestCase};

const ADDR: &str = "dbplatform_database.db";

fn config(name: &str, exceptions: &str, audit: &str, extra: &str) -> String {
    format!(
        r#"provider "dbplatform" {{
  backend = "aws"
  aws {{
    endpoint = "http://127.0.0.1:{port}"
    region   = "us-east-1"
  }}
  policy {{
    exceptions_file = "{exceptions}"
    audit_log       = "{audit}"
  }}
}}

resource "dbplatform_database" "db" {{
  name                = "{name}"
  engine              = "postgres"
  engine_version      = "16"
  tier                = "tier-1"
  kms_key_id          = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  monitoring_role_arn = "arn:aws:iam::123456789012:role/rds-monitoring"
  tags = {{
    owner               = "payments"
    cost_center         = "cc-1234"
    data_classification = "confidential"
  }}
{extra}}}
"#,
        port = moto_port()
    )
}

#[test]
fn plain_tier1_database_applies_and_decommissions_with_an_exception() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("golden-{}", std::process::id() % 100_000);
    let exceptions = dir.path().join("exceptions.yaml");
    let audit = dir.path().join("decisions.jsonl");
    let date = |offset: &str| {
        let out = std::process::Command::new("date")
            .args(["-u", "+%F", "-d", offset])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (today, expires) = (date("today"), date("+7 days"));
    std::fs::write(
        &exceptions,
        format!(
            "- id: EXC-DBP-DEL-001-{name}\n  rule: DBP-DEL-001\n  resource: 'dbplatform_database \"{name}\"'\n  \
             owner: payments\n  reason: decommission\n  ticket: OPS-1\n  approved_by: platform-lead\n  \
             created: {today}\n  expires: {expires}\n"
        ),
    )
    .unwrap();
    let (e, a) = (
        exceptions.display().to_string(),
        audit.display().to_string(),
    );
    moto_port();
    TestCase::new()
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .step(
            Step::apply(config(&name, &e, &a, ""))
                .expect(ExpectPlan::creates(1))
                .check(Check::attr_equals(ADDR, "status", "available"))
                .check(Check::attr_equals(ADDR, "deletion_protection", true))
                .check(Check::attr_matches(
                    ADDR,
                    "backup_window",
                    r"^0[0-3]:[0-5][05]-0[0-3]:[0-5][05]$",
                ))
                .check(Check::attr_matches(
                    ADDR,
                    "maintenance_window",
                    r"^[a-z]{3}:0[3-6]:[0-5][05]-[a-z]{3}:0[3-6]:[0-5][05]$",
                ))
                .check(Check::attr_equals(ADDR, "policy_decision.fail", "0"))
                .check(Check::attr_equals(ADDR, "policy_decision.unknown", "0")),
        )
        .step(
            Step::apply(config(&name, &e, &a, "  deletion_protection = false\n"))
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 1,
                    replace: 0,
                    destroy: 0,
                })
                .check(Check::attr_equals(ADDR, "deletion_protection", false))
                .check(Check::attr_equals(ADDR, "policy_decision.exempted", "1")),
        )
        .run();
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.contains(&format!("EXC-DBP-DEL-001-{name}")),
        "exception on record"
    );
}

/// Every tier the catalogue allows on aws, with both engines, in one configuration: a minimal database (name,
/// engine, tier, the required tags, and the KMS key and monitoring role the tier demands; for tier-0 also the KMS
/// key of its DR region, where its backups are replicated) plans with zero failed and zero unknown guardrail
/// results, applies on the emulator, and plans again as a no-op. moto does not implement backup replication, so
/// the provider talks to it through the recorded-response stub of those calls (`backup_replication_stub`). One apply for the
/// eight databases keeps the run short; deletion protection (tiers 0-2) keeps them in the emulator, which ends
/// with the test binary.
#[test]
fn every_aws_tier_and_engine_applies_and_replans_as_a_noop() {
    let stub = acceptance_tests::backup_replication_stub::BackupReplicationStub::start(moto_port())
        .unwrap_or_else(|e| panic!("{e}"));
    let port = stub.port();
    let run = std::process::id() % 100_000;
    let mut resources = String::new();
    let mut addresses = Vec::new();
    for tier in 0..4 {
        for engine in ["postgres", "mysql"] {
            let label = format!("t{tier}_{engine}");
            let needs_key = tier <= 1;
            let needs_role = tier <= 2;
            let needs_dr_key = tier == 0;
            resources.push_str(&format!(
                "resource \"dbplatform_database\" \"{label}\" {{\n  name   = \"gp{run}-t{tier}-{engine}\"\n  engine = \"{engine}\"\n  tier   = \"tier-{tier}\"\n{}{}{}  tags = {{\n    owner               = \"payments\"\n    cost_center         = \"cc-1234\"\n    data_classification = \"confidential\"\n  }}\n}}\n\n",
                if needs_key { "  kms_key_id          = \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\n" } else { "" },
                if needs_role { "  monitoring_role_arn = \"arn:aws:iam::123456789012:role/rds-monitoring\"\n" } else { "" },
                if needs_dr_key { "  backup_replication_kms_key_id = \"arn:aws:kms:us-west-2:123456789012:key/dr-1234abcd-12ab-34cd-56ef-1234567890ab\"\n" } else { "" },
            ));
            addresses.push(format!("dbplatform_database.{label}"));
        }
    }
    let config = format!(
        "provider \"dbplatform\" {{\n  backend = \"aws\"\n  aws {{\n    endpoint = \"http://127.0.0.1:{port}\"\n    region   = \"us-east-1\"\n  }}\n}}\n\n{resources}"
    );
    let mut wd = acceptance_tests::Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        wd.set_env(k, v);
    }
    wd.write_config(&config).unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    let plan = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.counts().create, 8, "{:?}", plan.changes());
    wd.run_ok(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    let state = wd.show_state().unwrap_or_else(|e| panic!("{e}"));
    for a in &addresses {
        for (path, want) in [
            ("status", "available"),
            ("policy_decision.fail", "0"),
            ("policy_decision.unknown", "0"),
        ] {
            let got = state.attr(a, path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got, serde_json::json!(want), "{a} {path}");
        }
    }
    for engine in ["postgres", "mysql"] {
        let a = format!("dbplatform_database.t0_{engine}");
        let got = state
            .attr(&a, "backup_replication_region")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, serde_json::json!("us-west-2"), "{a}");
        let r = stub.replication_of(&format!("gp{run}-t0-{engine}"));
        assert_eq!(r.map(|r| r.status), Some("replicating".to_string()), "{a}");
    }
    let again = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        again.is_noop(),
        "re-plan after apply must be a no-op: {:?}",
        again.changes()
    );
}
