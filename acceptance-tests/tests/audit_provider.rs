//! The provider's audit trail through the real Terraform CLI (plans only, except one apply): every plan appends
//! a decision record that `dbpolicy audit verify` accepts; a soft-mandatory override is refused without an
//! audit log and accepted (with a warning naming who and why, and an `overrides` entry in the record) with one,
//! from the provider block or `DBPLATFORM_OVERRIDES`; an audit log that cannot be written fails the plan closed;
//! one apply (a small tier-3 cluster) shows the `apply` records after the decision that gated them.
//!
//! Needs `target/debug/terraform-provider-dbplatform` and `target/debug/dbpolicy` (`make build`).

use std::path::{Path, PathBuf};
use std::process::Command;

use acceptance_tests::{TfOutput, Workdir};
use serde_json::Value;

/// Provider block for the local backend; `policy` is the body of the `policy` block.
fn provider(data_dir: &Path, policy: &str) -> String {
    format!(
        r#"
provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{dd}"
  }}
  policy {{
{policy}
  }}
  default_tags = {{
    owner               = "acceptance"
    cost_center         = "cc-acc"
    data_classification = "internal"
  }}
}}
"#,
        dd = data_dir.display()
    )
}

/// A tier-3 database: passes every guardrail on the local backend.
const TIER3: &str = r#"
resource "dbplatform_database" "audited" {
  name = "acc-audited"
  tier = "tier-3"
}
"#;

/// A tier-2 database (deletion protection by tier) that would be deleted without a final snapshot: fails the
/// soft-mandatory rule DBP-DEL-002, which an override may allow.
const TIER2_NO_FINAL_SNAPSHOT: &str = r#"
resource "dbplatform_database" "legacy" {
  name                = "acc-legacy"
  tier                = "tier-2"
  skip_final_snapshot = true
}
"#;

const OVERRIDE_BLOCK: &str = r#"    override {
      rule   = "DBP-DEL-002"
      reason = "decommissioning, data exported (OPS-1234)"
      by     = "alice@example.com"
    }"#;

fn ok<T>(r: Result<T, acceptance_tests::HarnessError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `terraform plan` (no plan file) with `env`.
fn plan(wd: &Workdir, env: &[(&str, &str)]) -> TfOutput {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ok(wd.run_env(&["plan", "-input=false", "-no-color"], &env))
}

fn records(log: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(log).unwrap_or_else(|e| panic!("reading {}: {e}", log.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `dbpolicy audit verify LOG`: must exit 0.
fn verify(log: &Path) {
    let out = Command::new(acceptance_tests::dbpolicy_binary())
        .args(["audit", "verify"])
        .arg(log)
        .output()
        .unwrap_or_else(|e| panic!("running dbpolicy: {e}"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "dbpolicy audit verify {}\nstdout: {}\nstderr: {}",
        log.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The last decision record for `address`.
fn last_decision<'a>(records: &'a [Value], address: &str) -> &'a Value {
    records
        .iter()
        .rev()
        .find(|r| {
            r["kind"] == "decision"
                && r["result"]["resources"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x["address"] == address))
        })
        .unwrap_or_else(|| panic!("no decision record for {address}: {records:#?}"))
}

/// A working directory with a data dir and an `audit/` directory for the log, initialised once; the
/// environment variables the provider reads are cleared so the caller's shell cannot leak into the test.
fn setup() -> (Workdir, PathBuf, PathBuf) {
    let mut wd = ok(Workdir::new());
    wd.set_env("DBPOLICY_AUDIT_LOG", "");
    wd.set_env("DBPLATFORM_OVERRIDES", "");
    wd.set_env("DBPOLICY_AUDIT_KEY", "");
    wd.set_env("DBPOLICY_AUDIT_PG", "");
    let data = wd.path().join("data");
    let audit_dir = wd.path().join("audit");
    for d in [&data, &audit_dir] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    }
    ok(wd.init());
    let log = audit_dir.join("decisions.jsonl");
    (wd, data, log)
}

#[test]
fn plans_are_recorded_in_a_verifiable_audit_log() {
    let (wd, data, log) = setup();
    let policy = format!("    audit_log = \"{}\"", log.display());
    ok(wd.write_config(&format!("{}{TIER3}", provider(&data, &policy))));
    let out = plan(&wd, &[("TF_WORKSPACE", "default")]);
    assert!(out.success(), "{out}");
    assert!(
        out.stdout.contains("1 to add"),
        "a plan, not an apply: {out}"
    );

    let all = records(&log);
    let r = last_decision(&all, "dbplatform_database \"acc-audited\"");
    assert_eq!(r["schema"], "dbplatform.audit-record/v1");
    assert_eq!(r["source"]["kind"], "provider", "{r:#}");
    assert_eq!(r["source"]["version"], env!("CARGO_PKG_VERSION"), "{r:#}");
    let (major, minor, patch) =
        acceptance_tests::terraform_version().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r["terraform"]["version"],
        format!("{major}.{minor}.{patch}").as_str(),
        "{r:#}"
    );
    assert_eq!(r["terraform"]["workspace"], "default", "{r:#}");
    assert!(
        r["input_sha256"]
            .as_str()
            .is_some_and(|h| h.starts_with("sha256:")),
        "{r:#}"
    );
    assert!(
        r["bundles"]["dbplatform"]["revision"]
            .as_str()
            .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit())),
        "{r:#}"
    );
    assert!(
        r["bundles"]["dbplatform"]["rules"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == "DBP-DEL-002")),
        "{r:#}"
    );
    let resource = &r["result"]["resources"][0];
    assert_eq!(resource["rules"]["DBP-TAG-001"], "pass", "{resource:#}");
    assert_eq!(resource["rules"]["DBP-TIER-001"], "pass", "{resource:#}");
    assert_eq!(r["outcome"], "pass", "{r:#}");
    verify(&log);

    // Every plan adds a record to the same chain.
    let before = all.len();
    assert!(plan(&wd, &[]).success());
    assert!(records(&log).len() > before);
    verify(&log);

    // DBPOLICY_AUDIT_LOG alone also turns recording on.
    let env_log = log.with_file_name("from-env.jsonl");
    ok(wd.write_config(&format!("{}{TIER3}", provider(&data, ""))));
    let env_log_s = env_log.display().to_string();
    assert!(plan(&wd, &[("DBPOLICY_AUDIT_LOG", &env_log_s)]).success());
    last_decision(&records(&env_log), "dbplatform_database \"acc-audited\"");
    verify(&env_log);
    assert!(!data.join("databases").exists(), "plans create nothing");
}

#[test]
fn an_override_counts_only_when_it_is_recorded() {
    let (wd, data, log) = setup();

    // The rule fails without an override.
    ok(wd.write_config(&format!("{}{TIER2_NO_FINAL_SNAPSHOT}", provider(&data, ""))));
    let out = plan(&wd, &[]);
    assert!(!out.success(), "{out}");
    assert!(out.stderr_normalized().contains("[DBP-DEL-002]"), "{out}");

    // No audit log: the override is refused.
    ok(wd.write_config(&format!(
        "{}{TIER2_NO_FINAL_SNAPSHOT}",
        provider(&data, OVERRIDE_BLOCK)
    )));
    let out = plan(&wd, &[]);
    assert!(!out.success(), "{out}");
    let err = out.stderr_normalized();
    assert!(
        err.contains("Policy override refused: no audit log")
            && err.contains("[DBP-DEL-002]")
            && err.contains("by \"alice@example.com\"")
            && err.contains("policy { audit_log = "),
        "{err}"
    );

    // With an audit log it is accepted, shown as a warning naming who and why, and recorded.
    let policy = format!("    audit_log = \"{}\"\n{OVERRIDE_BLOCK}", log.display());
    ok(wd.write_config(&format!(
        "{}{TIER2_NO_FINAL_SNAPSHOT}",
        provider(&data, &policy)
    )));
    let out = plan(&wd, &[]);
    assert!(out.success(), "{out}");
    let all_out = out.all_normalized();
    assert!(
        all_out.contains("Warning: [DBP-DEL-002]")
            && all_out.contains("(overridden)")
            && all_out.contains(
                "by alice@example.com (reason: decommissioning, data exported (OPS-1234))"
            ),
        "{all_out}"
    );
    let all = records(&log);
    let r = last_decision(&all, "dbplatform_database \"acc-legacy\"");
    assert_eq!(
        r["result"]["resources"][0]["rules"]["DBP-DEL-002"], "overridden",
        "{r:#}"
    );
    let o = &r["overrides"][0];
    assert_eq!(o["rule_id"], "DBP-DEL-002", "{r:#}");
    assert_eq!(o["by"], "alice@example.com", "{r:#}");
    assert_eq!(
        o["reason"], "decommissioning, data exported (OPS-1234)",
        "{r:#}"
    );
    verify(&log);

    // The same override from DBPLATFORM_OVERRIDES.
    let policy = format!("    audit_log = \"{}\"", log.display());
    ok(wd.write_config(&format!(
        "{}{TIER2_NO_FINAL_SNAPSHOT}",
        provider(&data, &policy)
    )));
    let out = plan(
        &wd,
        &[(
            "DBPLATFORM_OVERRIDES",
            "DBP-DEL-002:ci-bot:pipeline decommission: OPS-1235",
        )],
    );
    assert!(out.success(), "{out}");
    let all = records(&log);
    let r = last_decision(&all, "dbplatform_database \"acc-legacy\"");
    assert_eq!(r["overrides"][0]["by"], "ci-bot", "{r:#}");
    assert_eq!(
        r["overrides"][0]["reason"], "pipeline decommission: OPS-1235",
        "{r:#}"
    );
    verify(&log);

    // A hard-mandatory rule cannot be overridden.
    let policy = format!(
        "    audit_log = \"{}\"\n    override {{\n      rule   = \"DBP-TIER-001\"\n      reason = \"x\"\n      by     = \"bob\"\n    }}",
        log.display()
    );
    ok(wd.write_config(&format!("{}{TIER3}", provider(&data, &policy))));
    let out = plan(&wd, &[]);
    assert!(!out.success(), "{out}");
    assert!(
        out.stderr_normalized()
            .contains("policy.override[0]: rule DBP-TIER-001 is hard-mandatory; only soft-mandatory rules can be overridden"),
        "{out}"
    );
}

#[test]
fn an_unwritable_audit_log_fails_the_plan_closed() {
    let (wd, data, _log) = setup();
    // The directory exists (so configuration passes) but no file can be created in it, even by root.
    let log = Path::new("/proc/dbplatform-acc-decisions.jsonl");
    let policy = format!("    audit_log = \"{}\"", log.display());
    ok(wd.write_config(&format!("{}{TIER3}", provider(&data, &policy))));
    let out = plan(&wd, &[]);
    assert!(!out.success(), "{out}");
    let err = out.stderr_normalized();
    assert!(
        err.contains("Policy decision not recorded: plan fails closed")
            && err.contains(&log.display().to_string())
            && err.contains("point policy.audit_log / DBPOLICY_AUDIT_LOG at a writable file"),
        "{err}"
    );
}

#[test]
fn an_apply_records_its_outcome_after_the_decision_that_gated_it() {
    use std::os::unix::fs::PermissionsExt;
    let (wd, data, log) = setup();
    // The server runs as an unprivileged OS user when tests run as root: it must reach the data directory.
    for d in [wd.path(), data.as_path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", d.display()));
    }
    let policy = format!("    audit_log = \"{}\"", log.display());
    ok(wd.write_config(&format!("{}{TIER3}", provider(&data, &policy))));
    let applied = wd.run(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    let destroyed = wd.destroy();
    let applied = ok(applied);
    assert!(applied.success(), "{applied}");
    ok(destroyed);

    let all = records(&log);
    let kinds: Vec<&str> = all.iter().filter_map(|r| r["kind"].as_str()).collect();
    let create = all
        .iter()
        .find(|r| r["kind"] == "apply" && r["action"] == "create")
        .unwrap_or_else(|| panic!("no apply record for the create: {kinds:?}"));
    assert_eq!(
        create["address"], "dbplatform_database \"acc-audited\"",
        "{create:#}"
    );
    assert_eq!(create["succeeded"], true, "{create:#}");
    // The decision that gated it (Terraform's final plan during apply) is on record before it.
    let gating = create["decision_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{create:#}"));
    let pos_apply = all.iter().position(|r| r == create).unwrap_or(0);
    assert!(
        all[..pos_apply]
            .iter()
            .any(|r| r["kind"] == "decision" && r["decision_id"] == gating),
        "{kinds:?}"
    );
    assert!(
        all.iter()
            .any(|r| r["kind"] == "apply" && r["action"] == "delete" && r["succeeded"] == true),
        "{kinds:?}"
    );
    verify(&log);
}
