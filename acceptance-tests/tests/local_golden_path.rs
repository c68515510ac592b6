//! The golden path on the local backend, for real: for every tier the catalogue allows locally (tier-2 and tier-3,
//! postgres), a minimal `dbplatform_database` (name, engine, tier, required tags) plans with zero failed and zero
//! unknown guardrail results and no warning, applies, accepts a connection from its master user over TLS, re-plans
//! as a no-op (the harness checks after every apply) and is destroyed. tier-2 requires deletion protection, so it
//! is decommissioned as the provider's destroy message says: an exception for DBP-DEL-001 lets it be turned off.

use acceptance_tests::local::{psql, reachable_data_dir, StopServersUnder};
use acceptance_tests::{Check, ExpectPlan, State, Step, TestCase, Workdir};

const ADDR: &str = "dbplatform_database.db";

fn config(dd: &std::path::Path, name: &str, tier: &str, exceptions: &str, extra: &str) -> String {
    format!(
        r#"provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{dd}"
  }}
  policy {{
    exceptions_file = "{exceptions}"
    audit_log       = "{dd}/decisions.jsonl"
  }}
}}

resource "dbplatform_database" "db" {{
  name   = "{name}"
  engine = "postgres"
  tier   = "{tier}"
  tags = {{
    owner               = "orders-team"
    cost_center         = "cc-1234"
    data_classification = "internal"
  }}
{extra}}}
"#,
        dd = dd.display()
    )
}

fn connects(s: &State) -> Result<(), String> {
    let get = |p: &str| {
        s.attr(ADDR, p)
            .map_err(|e| e.to_string())
            .map(|v| v.as_str().unwrap_or_default().to_string())
    };
    let pw = std::fs::read_to_string(get("master_user_secret_path")?).map_err(|e| e.to_string())?;
    let out = psql(
        &get("connection_string")?,
        &pw,
        "CREATE TABLE hello (id int); SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )?;
    if out.ends_with('t') {
        Ok(())
    } else {
        Err(format!("not over TLS: {out}"))
    }
}

fn golden_path(tier: &str) {
    let (tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let name = format!("golden-{tier}");
    let exceptions = tmp.path().join("exceptions.yaml");
    let date = |offset: &str| {
        let out = std::process::Command::new("date")
            .args(["-u", "+%F", "-d", offset])
            .output()
            .unwrap_or_else(|e| panic!("date: {e}"));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    std::fs::write(
        &exceptions,
        format!(
            "- id: EXC-DBP-DEL-001-{name}\n  rule: DBP-DEL-001\n  resource: 'dbplatform_database \"{name}\"'\n  \
             owner: orders-team\n  reason: decommission after the golden-path test\n  ticket: OPS-1\n  \
             approved_by: platform-lead\n  created: {}\n  expires: {}\n",
            date("today"),
            date("+7 days")
        ),
    )
    .unwrap_or_else(|e| panic!("write exceptions: {e}"));
    let e = exceptions.display().to_string();
    let protected = tier == "tier-2";
    // The plan a user sees first: it succeeds with no warning at all (no guardrail left unknown).
    let wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    wd.write_config(&config(&dd, &name, tier, &e, ""))
        .unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    let plan = wd.plan_env(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.success(), "plan failed:\n{plan}");
    assert!(
        !plan.all_normalized().contains("Warning"),
        "the plan warns:\n{plan}"
    );
    drop(wd);
    let mut case = TestCase::new().step(
        Step::apply(config(&dd, &name, tier, &e, ""))
            .expect(ExpectPlan::creates(1))
            .plan_check("no guardrail result is failed or unknown at plan", {
                let audit = dd.join("decisions.jsonl");
                move |_| {
                    let text = std::fs::read_to_string(&audit)
                        .map_err(|e| format!("{}: {e}", audit.display()))?;
                    let last: serde_json::Value = text
                        .lines()
                        .last()
                        .and_then(|l| serde_json::from_str(l).ok())
                        .ok_or("no decision recorded at plan")?;
                    let rules = last
                        .pointer("/result/resources/0/rules")
                        .and_then(|r| r.as_object())
                        .ok_or_else(|| format!("no rule results in {last}"))?;
                    let bad: Vec<_> = rules
                        .iter()
                        .filter(|(_, s)| *s == "fail" || *s == "unknown")
                        .collect();
                    if rules.is_empty() || !bad.is_empty() {
                        Err(format!("rule results at plan: {rules:?}"))
                    } else {
                        Ok(())
                    }
                }
            })
            .check(Check::attr_equals(ADDR, "status", "available"))
            .check(Check::attr_equals(ADDR, "deletion_protection", protected))
            .check(Check::attr_equals(ADDR, "policy_decision.fail", "0"))
            .check(Check::attr_equals(ADDR, "policy_decision.unknown", "0"))
            .check(Check::custom("the master user connects over TLS", connects)),
    );
    if protected {
        case = case.step(
            Step::apply(config(
                &dd,
                &name,
                tier,
                &e,
                "  deletion_protection = false\n",
            ))
            .expect(ExpectPlan::Changes {
                create: 0,
                update: 1,
                replace: 0,
                destroy: 0,
            })
            .check(Check::attr_equals(ADDR, "deletion_protection", false))
            .check(Check::attr_equals(ADDR, "policy_decision.exempted", "1")),
        );
    }
    let dd_after = dd.clone();
    case.check_destroy("the database directory is gone", move |_| {
        let left: Vec<_> = std::fs::read_dir(dd_after.join("databases"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("left behind: {left:?}"))
        }
    })
    .run();
}

#[test]
fn tier_3_golden_path_applies_connects_and_destroys() {
    golden_path("tier-3");
}

#[test]
fn tier_2_golden_path_applies_connects_and_decommissions() {
    golden_path("tier-2");
}
