//! `dbplatform_break_glass` on the local backend through the real Terraform CLI (1.0.3 by default): a person gets
//! a readwrite role for 20 seconds; their login works while the window is open; a change of ticket renews it (a
//! later expiry, a new password); once the window is over the database itself refuses the login (VALID UNTIL),
//! the next plan shows the revocation and apply carries it out (login dropped, password file removed); the grant,
//! the renewal and the revocation are in the audit log and in the access section of `dbpolicy audit report`. A
//! ttl beyond the tier's bound is refused at plan time by DBP-ACC-001.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use acceptance_tests::local::{local_provider_block, psql, reachable_data_dir, StopServersUnder};
use acceptance_tests::{Check, ExpectPlan, State, Step, TestCase};
use serde_json::Value;

const DB: &str = "dbplatform_database.db";
const BG: &str = "dbplatform_break_glass.oncall";
const TTL_SECONDS: i64 = 20;

fn config(data_dir: &Path, ttl: &str, ticket: &str) -> String {
    format!(
        r#"
{provider}
resource "dbplatform_database" "db" {{
  name = "acc-bg"
  tier = "tier-3"
  tags = {{ owner = "acceptance" }}
}}

resource "dbplatform_role" "rw" {{
  database_id = dbplatform_database.db.id
  name        = "acc_bg_rw"
  template    = "readwrite"
}}

resource "dbplatform_break_glass" "oncall" {{
  database_id = dbplatform_database.db.id
  role_id     = dbplatform_role.rw.id
  person      = "alice@example.com"
  ttl         = "{ttl}"
  reason      = "INC-42: stuck batch job"
  ticket      = "{ticket}"
  approved_by = "bob@example.com"
}}
"#,
        provider = local_provider_block(data_dir, true)
    )
}

fn attr_str(state: &State, address: &str, path: &str) -> Result<String, String> {
    match state.attr(address, path).map_err(|e| e.to_string())? {
        Value::String(s) => Ok(s),
        other => Err(format!("{address}.{path} is {other}, not a string")),
    }
}

/// SQL over TCP with TLS as `user` with `password`.
fn as_user(state: &State, user: &str, password: &str, sql: &str) -> Result<String, String> {
    let port = state
        .attr(DB, "port")
        .map_err(|e| e.to_string())?
        .to_string();
    psql(
        &format!("postgresql://{user}@127.0.0.1:{port}/acc_bg?sslmode=require"),
        password,
        sql,
    )
}

/// The break-glass login and the password from its file.
fn login(state: &State) -> Result<(String, String), String> {
    let user = attr_str(state, BG, "username")?;
    let file = attr_str(state, BG, "password_file")?;
    let pw = std::fs::read_to_string(&file).map_err(|e| format!("read {file}: {e}"))?;
    Ok((user, pw.trim().to_string()))
}

/// The master user's view (its password file), to see which roles exist.
fn master(state: &State, sql: &str) -> Result<String, String> {
    let secret = attr_str(state, DB, "master_user_secret_path")?;
    let pw = std::fs::read_to_string(&secret).map_err(|e| format!("read {secret}: {e}"))?;
    let user = attr_str(state, DB, "master_username")?;
    as_user(state, &user, pw.trim(), sql).map_err(|e| format!("master psql {sql:?}: {e}"))
}

fn break_glass_records(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "break_glass")
        .collect()
}

#[test]
fn local_break_glass_expires_in_the_database_and_is_revoked_by_the_next_apply() {
    let (_tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let log = dd.join("audit.jsonl");
    let cfg = config(&dd, &format!("{TTL_SECONDS}s"), "INC-42");
    // The renewal: a new approval on another ticket, a new window from its apply.
    let renewed = config(&dd, &format!("{TTL_SECONDS}s"), "INC-43");
    let first_window = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (window_w, window_r) = (first_window.clone(), first_window.clone());
    let log_for_check = log.clone();
    let log_for_report = log.clone();
    TestCase::new()
        // 1. the grant: a login of alice's own, member of the readwrite role, that works now
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::creates(3))
                .check(Check::attr_equals(BG, "active", true))
                .check(Check::attr_equals(BG, "expired", false))
                .check(Check::attr_equals(BG, "role_template", "readwrite"))
                .check(Check::attr_equals(BG, "tier", "tier-3"))
                .check(Check::attr_equals(BG, "ttl_seconds", TTL_SECONDS))
                .check(Check::attr_matches(
                    BG,
                    "username",
                    "^bg_alice_example_com_[0-9a-f]{8}$",
                ))
                .check(Check::custom(
                    "alice's login works and holds the role's rights",
                    move |s| {
                        let (user, pw) = login(s)?;
                        let file = attr_str(s, BG, "password_file")?;
                        let mode = std::os::unix::fs::PermissionsExt::mode(
                            &std::fs::metadata(&file)
                                .map_err(|e| e.to_string())?
                                .permissions(),
                        );
                        if mode & 0o777 != 0o600 {
                            return Err(format!("{file} has mode {:o}, want 600", mode & 0o777));
                        }
                        master(s, "CREATE TABLE incidents (id int PRIMARY KEY)")?;
                        as_user(s, &user, &pw, "INSERT INTO incidents VALUES (1)")?;
                        let n = as_user(s, &user, &pw, "SELECT count(*) FROM incidents")?;
                        *window_w.lock().map_err(|e| e.to_string())? =
                            attr_str(s, BG, "expires_at")?;
                        (n == "1")
                            .then_some(())
                            .ok_or(format!("alice read {n:?} rows, want 1"))
                    },
                )),
        )
        // 1b. a renewal (another ticket): the same login, a later expiry, a new password that works
        .step(
            Step::apply(renewed.clone())
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 1,
                    replace: 0,
                    destroy: 0,
                })
                .check(Check::attr_equals(BG, "ticket", "INC-43"))
                .check(Check::attr_equals(BG, "active", true))
                .check(Check::custom("the window moved and the new password works", move |s| {
                    let first = window_r.lock().map_err(|e| e.to_string())?.clone();
                    let now = attr_str(s, BG, "expires_at")?;
                    if now <= first {
                        return Err(format!("expires_at {now} is not after the first window's {first}"));
                    }
                    let (user, pw) = login(s)?;
                    as_user(s, &user, &pw, "SELECT count(*) FROM incidents").map(|_| ())
                })),
        )
        // 2. the window closes: the database refuses the login by itself, before any Terraform run
        .step(Step::plan_only(renewed.clone()).check(Check::custom(
            "after expires_at the database refuses the login",
            |s| {
                // Poll until the window is over (at most ttl + 15 s): the login works until then.
                let (user, pw) = login(s)?;
                let deadline =
                    std::time::Instant::now() + Duration::from_secs(TTL_SECONDS as u64 + 15);
                loop {
                    match as_user(s, &user, &pw, "SELECT 1") {
                        Ok(_) if std::time::Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(500))
                        }
                        Ok(out) => {
                            return Err(format!("the login still works after expiry ({out:?})"))
                        }
                        Err(e) if e.contains("password authentication failed") => return Ok(()),
                        Err(e) => {
                            return Err(format!(
                                "the login failed for another reason than its expiry: {e}"
                            ))
                        }
                    }
                }
            },
        )))
        // 3. the next plan shows the revocation, and apply carries it out
        .step(
            Step::apply(renewed.clone())
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 1,
                    replace: 0,
                    destroy: 0,
                })
                .plan_check(
                    "the plan turns active to false on the break-glass grant",
                    |p| {
                        let rc = p
                            .resource_change(BG)
                            .ok_or("no change for the break-glass grant")?;
                        let (before, after) = (&rc["change"]["before"], &rc["change"]["after"]);
                        if before["active"] != true
                            || before["expired"] != true
                            || after["active"] != false
                        {
                            return Err(format!("before {before}, after {after}"));
                        }
                        Ok(())
                    },
                )
                .check(Check::attr_equals(BG, "active", false))
                .check(Check::attr_null(BG, "password_file"))
                .check(Check::attr_set(BG, "revoked_at"))
                .check(Check::custom(
                    "the login is gone, and so is its password file",
                    |s| {
                        let user = attr_str(s, BG, "username")?;
                        let n = master(
                            s,
                            &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{user}'"),
                        )?;
                        if n != "0" {
                            return Err(format!("{user} still exists after the revocation"));
                        }
                        let left: Vec<_> =
                            std::fs::read_dir(attr_str(s, DB, "data_dir")? + "/break-glass")
                                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                                .unwrap_or_default();
                        left.is_empty()
                            .then_some(())
                            .ok_or(format!("password files left: {left:?}"))
                    },
                ))
                .check(Check::custom(
                    "the grant, the renewal and the revocation are in the audit log",
                    move |_| {
                        let recs = break_glass_records(&log_for_check);
                        let events: Vec<&str> =
                            recs.iter().filter_map(|r| r["event"].as_str()).collect();
                        if events != ["grant", "renew", "revoke"] {
                            return Err(format!(
                                "break-glass events {events:?}, want [grant, renew, revoke]: {recs:?}"
                            ));
                        }
                        if recs[1]["ticket"] != "INC-43"
                            || recs[1]["expires_at"].as_str() <= recs[0]["expires_at"].as_str()
                        {
                            return Err(format!("the renewal record: {}", recs[1]));
                        }
                        let g = &recs[0];
                        for (k, want) in [
                            ("person", "alice@example.com"),
                            ("role", "acc_bg_rw"),
                            ("role_template", "readwrite"),
                            ("ticket", "INC-42"),
                            ("approved_by", "bob@example.com"),
                            ("database", "acc-bg"),
                        ] {
                            if g[k] != want {
                                return Err(format!(
                                    "grant record {k} = {}, want {want:?}: {g}",
                                    g[k]
                                ));
                            }
                        }
                        if g["ttl_seconds"] != TTL_SECONDS
                            || recs[2]["revoked_at"].as_str().is_none()
                        {
                            return Err(format!("ttl or revoked_at missing: {recs:?}"));
                        }
                        Ok(())
                    },
                ))
                .check(Check::custom(
                    "the access section of the audit report shows it",
                    move |_| {
                        let out =
                            Command::new(acceptance_tests::dbpolicy_binary())
                                .args(["audit", "report", "--section", "access", "--format", "md"])
                                .arg(&log_for_report)
                                .output()
                                .map_err(|e| format!("dbpolicy: {e}"))?;
                        let text = String::from_utf8_lossy(&out.stdout);
                        let row = "| alice@example.com | `acc-bg` | acc_bg_rw (readwrite) |";
                        if !out.status.success()
                            || !text.contains(row)
                            || !text.contains("| bob@example.com | INC-43 | INC-42: stuck batch job | 1 |")
                        {
                            return Err(format!(
                                "no row {row:?} in:\n{text}\n{}",
                                String::from_utf8_lossy(&out.stderr)
                            ));
                        }
                        Ok(())
                    },
                )),
        )
        // 4. a ttl beyond the tier's bound is refused before anything is granted
        .step(
            Step::plan_only(config(&dd, "100h", "INC-43")).expect(ExpectPlan::error(
                "DBP-ACC-001.*tier-3 allows at most 72 hours",
            )),
        )
        // 5. back to the applied configuration: nothing to do (destroy plans with the configuration too)
        .step(Step::apply(renewed).expect(ExpectPlan::NoOp))
        .run();
}
