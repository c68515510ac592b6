//! Master password rotation of `dbplatform_database` on the local backend through the real Terraform CLI (1.0.3
//! by default): the period comes from the tier (tier-3: 180 days); once the password is older (its file's age,
//! set back here), the next plan shows the rotation and apply carries it out: a new password in the 0600 file,
//! the old one refused, the rotation in the audit log and in the access section of `dbpolicy audit report`. A
//! provider killed between setting the new password and replacing its file leaves it staged, and the next apply
//! finishes that rotation and converges. A period longer than the tier's is refused by DBP-ACC-005.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use acceptance_tests::faults::KILL_ENV;
use acceptance_tests::local::{local_provider_block, psql, reachable_data_dir, StopServersUnder};
use acceptance_tests::{Check, ExpectPlan, State, Step, TestCase};
use serde_json::Value;

const DB: &str = "dbplatform_database.db";

fn config(data_dir: &Path, extra: &str) -> String {
    format!(
        r#"
{provider}
resource "dbplatform_database" "db" {{
  name = "acc-rot"
  tier = "tier-3"
  tags = {{ owner = "acceptance" }}
  {extra}
}}
"#,
        provider = local_provider_block(data_dir, true),
    )
}

fn attr_str(state: &State, path: &str) -> Result<String, String> {
    match state.attr(DB, path).map_err(|e| e.to_string())? {
        Value::String(s) => Ok(s),
        other => Err(format!("{DB}.{path} is {other}, not a string")),
    }
}

/// `SELECT 1` as the master user with `password`, over TCP with TLS.
fn login(state: &State, password: &str) -> Result<String, String> {
    let port = state
        .attr(DB, "port")
        .map_err(|e| e.to_string())?
        .to_string();
    let user = attr_str(state, "master_username")?;
    psql(
        &format!("postgresql://{user}@127.0.0.1:{port}/acc_rot?sslmode=require"),
        password,
        "SELECT 1",
    )
}

/// Sets the password file's modification time 200 days back: what refresh reads as the password's age.
fn age_password(state: &State) -> Result<(), String> {
    let file = attr_str(state, "master_user_secret_path")?;
    let out = Command::new("touch")
        .args(["-d", "200 days ago", &file])
        .output()
        .map_err(|e| format!("touch: {e}"))?;
    out.status
        .success()
        .then_some(())
        .ok_or(format!("touch -d failed: {out:?}"))
}

fn password(state: &State) -> Result<String, String> {
    let file = attr_str(state, "master_user_secret_path")?;
    std::fs::read_to_string(&file)
        .map(|p| p.trim().to_string())
        .map_err(|e| format!("read {file}: {e}"))
}

#[test]
fn local_master_password_is_rotated_once_older_than_the_tier_allows() {
    let (_tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let cfg = config(&dd, "");
    let log = dd.join("audit.jsonl");
    let old = Arc::new(Mutex::new(String::new()));
    let (old_w, old_r) = (Arc::clone(&old), Arc::clone(&old));
    TestCase::new()
        // 1. a tier-3 database: 180 days from the tier; its password is then made 200 days old
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::creates(1))
                .check(Check::attr_equals(DB, "master_password_rotation_days", 180))
                .check(Check::attr_matches(
                    DB,
                    "master_password_rotated_at",
                    r"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                ))
                .check(Check::custom(
                    "the password works, and is then 200 days old",
                    move |s| {
                        let pw = password(s)?;
                        login(s, &pw)?;
                        *old_w.lock().map_err(|e| e.to_string())? = pw;
                        age_password(s)
                    },
                ))
                .expect_non_empty_plan_after_apply(),
        )
        // 2. the plan shows the rotation; apply sets a new password, and the old one no longer logs in
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 1,
                    replace: 0,
                    destroy: 0,
                })
                .plan_check("master_password_rotated_at is known after apply", |p| {
                    let rc = p.resource_change(DB).ok_or("no change for the database")?;
                    let before = &rc["change"]["before"]["master_password_rotated_at"];
                    let unknown = &rc["change"]["after_unknown"]["master_password_rotated_at"];
                    if !before.is_string() || unknown != true {
                        return Err(format!("before {before}, after_unknown {unknown}"));
                    }
                    Ok(())
                })
                .check(Check::custom(
                    "a new password in the file; the old one is refused",
                    move |s| {
                        let new = password(s)?;
                        let old = old_r.lock().map_err(|e| e.to_string())?.clone();
                        if new == old || new.len() < 20 {
                            return Err(
                                "the password file was not rewritten with a new password".into()
                            );
                        }
                        let file = attr_str(s, "master_user_secret_path")?;
                        let mode = std::os::unix::fs::PermissionsExt::mode(
                            &std::fs::metadata(&file)
                                .map_err(|e| e.to_string())?
                                .permissions(),
                        );
                        if mode & 0o777 != 0o600 {
                            return Err(format!("{file} has mode {:o}, want 600", mode & 0o777));
                        }
                        login(s, &new)?;
                        match login(s, &old) {
                            Ok(_) => Err("the old password still logs in".into()),
                            Err(e) if e.contains("password authentication failed") => Ok(()),
                            Err(e) => {
                                Err(format!("the old password failed for another reason: {e}"))
                            }
                        }
                    },
                ))
                .check(Check::custom(
                    "the rotation is in the audit log and the access report",
                    move |_| {
                        let recs: Vec<Value> = std::fs::read_to_string(&log)
                            .unwrap_or_default()
                            .lines()
                            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                            .filter(|v| v["kind"] == "password_rotation")
                            .collect();
                        let [r] = recs.as_slice() else {
                            return Err(format!("want one password_rotation record, got {recs:?}"));
                        };
                        if r["database"] != "acc-rot"
                            || r["max_age_days"] != 180
                            || !r["previous_rotated_at"].is_string()
                        {
                            return Err(format!("record {r}"));
                        }
                        let out = Command::new(acceptance_tests::dbpolicy_binary())
                            .args(["audit", "report", "--section", "access", "--format", "md"])
                            .arg(&log)
                            .output()
                            .map_err(|e| format!("dbpolicy: {e}"))?;
                        let text = String::from_utf8_lossy(&out.stdout);
                        if !text.contains("1 rotations.")
                            || !text.contains("| `acc-rot` | acc_rot_admin |")
                        {
                            return Err(format!("no rotation row in:\n{text}"));
                        }
                        Ok(())
                    },
                ))
                .check(Check::custom(
                    "the new password is made 200 days old too",
                    age_password,
                ))
                .expect_non_empty_plan_after_apply(),
        )
        // 2b. the provider is killed after the server took a new password and before its file was replaced
        .step(
            Step::apply(cfg.clone())
                .env(KILL_ENV, "local.rotate.password_set")
                .expect(ExpectPlan::error(
                    "Plugin did not respond|ApplyResourceChange request was cancelled",
                )),
        )
        // 2c. the next apply finishes that rotation from the staged file, then rotates again, and converges
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 1,
                    replace: 0,
                    destroy: 0,
                })
                .check(Check::custom(
                    "the file's password logs in; nothing is left staged",
                    |s| {
                        login(s, &password(s)?)?;
                        let dir = attr_str(s, "data_dir")?;
                        let staged = Path::new(&dir).join("master-password.new");
                        (!staged.exists())
                            .then_some(())
                            .ok_or(format!("{} is left behind", staged.display()))
                    },
                )),
        )
        // 3. a period longer than the tier's is refused at plan time (soft-mandatory: an override could allow it)
        .step(
            Step::plan_only(config(&dd, "master_password_rotation_days = 365")).expect(
                ExpectPlan::error(
                    "DBP-ACC-005.*every 365 days; tier-3 requires at least every 180",
                ),
            ),
        )
        // 4. back to the applied configuration: nothing to do (destroy plans with the configuration too)
        .step(Step::apply(cfg).expect(ExpectPlan::NoOp))
        .run();
}
