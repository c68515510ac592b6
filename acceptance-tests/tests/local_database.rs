//! `dbplatform_database`, `dbplatform_restore_test` and the `dbplatform_database` data source on the local
//! backend, through the real Terraform CLI: create, restore test, update in place, a restart-requiring change,
//! import, drift (a stopped server), destroy leaving a final backup, and a plan the guardrails refuse.
//!
//! One PostgreSQL database walks the whole lifecycle (the machine has 2 cores); checks run psql against it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use acceptance_tests::{Check, ExpectPlan, ImportVerify, State, Step, TestCase};
use serde_json::Value;

const DB: &str = "dbplatform_database.db";
const RT: &str = "dbplatform_restore_test.rt[0]";

fn provider_block(data_dir: &Path) -> String {
    format!(
        r#"
provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{dd}"
  }}
  policy {{
    audit_log = "{dd}/audit.jsonl"
  }}
  default_tags = {{
    cost_center         = "cc-acc"
    data_classification = "internal"
  }}
}}
"#,
        dd = data_dir.display()
    )
}

/// The database config; `extra` goes inside the resource block (without `tags` when it sets its own),
/// `restore_test` adds the restore test.
fn config(data_dir: &Path, extra: &str, restore_test: bool) -> String {
    let tags = if extra.contains("tags") {
        ""
    } else {
        "  tags = {\n    owner = \"acceptance\"\n  }\n"
    };
    let mut c = provider_block(data_dir);
    c.push_str(&format!(
        r#"
resource "dbplatform_database" "db" {{
  name = "acc-orders"
  tier = "tier-3"
{tags}{extra}
}}

data "dbplatform_database" "ro" {{
  name = dbplatform_database.db.name
}}

output "ro_port" {{
  value = data.dbplatform_database.ro.port
}}
"#
    ));
    c.push_str(&format!(
        r#"
resource "dbplatform_restore_test" "rt" {{
  count       = {}
  database_id = dbplatform_database.db.id
  max_age     = "24h"
  verify {{
    name     = "row count"
    query    = "SELECT count(*) FROM items"
    expected = "500"
  }}
  verify {{
    name         = "checksum"
    query        = "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM items"
    match_source = true
  }}
}}
"#,
        if restore_test { 1 } else { 0 }
    ));
    c
}

fn attr_str(state: &State, address: &str, path: &str) -> Result<String, String> {
    match state.attr(address, path).map_err(|e| e.to_string())? {
        Value::String(s) => Ok(s),
        other => Err(format!("{address}.{path} is {other}, not a string")),
    }
}

/// Runs SQL through psql over TCP with TLS, as a user would, with the password from its file.
fn psql(state: &State, sql: &str) -> Result<String, String> {
    let uri = attr_str(state, DB, "connection_string")?;
    let secret = attr_str(state, DB, "master_user_secret_path")?;
    let password = std::fs::read_to_string(&secret).map_err(|e| format!("read {secret}: {e}"))?;
    let out = Command::new("psql")
        .env("PGPASSWORD", password.trim())
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, &uri])
        .output()
        .map_err(|e| format!("run psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Stops the database's server behind Terraform's back (drift), as the OS user that owns it.
fn stop_server(state: &State) -> Result<(), String> {
    let dir = attr_str(state, DB, "data_dir")?;
    acceptance_tests::local::stop_cluster(&Path::new(&dir).join("pgdata"), "fast")
}

/// Stops any server left under the test's data directory (a failed destroy must not leave one running).
use acceptance_tests::local::{reachable_data_dir as data_dir, StopServersUnder as StopServers};

#[test]
fn local_database_lifecycle() {
    let (_tmp, dd) = data_dir();
    let _stop = StopServers(dd.clone());
    let dd_destroy = dd.clone();
    let port_after_destroy = std::sync::Arc::new(std::sync::Mutex::new(0u16));
    let port_keep = port_after_destroy.clone();
    TestCase::new()
        // 1. create
        .step(
            Step::apply(config(&dd, "", false))
                .expect(ExpectPlan::creates(1))
                .check(Check::attr_equals(DB, "status", "available"))
                .check(Check::attr_equals(DB, "endpoint", "127.0.0.1"))
                .check(Check::attr_equals(DB, "backend", "local"))
                .check(Check::attr_equals(DB, "master_username", "acc_orders_admin"))
                .check(Check::attr_equals(DB, "backup_retention_days", 1))
                .check(Check::attr_equals(DB, "deletion_protection", false))
                .check(Check::attr_equals(DB, "tags_all.tier", "tier-3"))
                .check(Check::attr_matches(
                    DB,
                    "connection_string",
                    r"^postgresql://acc_orders_admin@127\.0\.0\.1:\d+/acc_orders\?sslmode=require$",
                ))
                .check(Check::attr_matches(DB, "policy_decision.outcome", "^pass$"))
                .check(Check::custom("secret file is 0600 and not in state", |s| {
                    let p = attr_str(s, DB, "master_user_secret_path")?;
                    let mode = std::fs::metadata(&p).map_err(|e| e.to_string())?.permissions().mode() & 0o777;
                    if mode != 0o600 {
                        return Err(format!("{p} has mode {mode:o}"));
                    }
                    let pw = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
                    if s.raw().to_string().contains(pw.trim()) {
                        return Err("the password is in the state".into());
                    }
                    Ok(())
                }))
                .check(Check::custom("seed 500 rows over TLS", |s| {
                    psql(s, "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1,500) g")?;
                    let ssl = psql(s, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")?;
                    if ssl != "t" {
                        return Err(format!("connection not encrypted: {ssl}"));
                    }
                    Ok(())
                })),
        )
        // 2. restore test + data source
        .step(
            Step::apply(config(&dd, "", true))
                .expect(ExpectPlan::creates(1))
                .check(Check::attr_equals(RT, "succeeded", true))
                .check(Check::attr_equals(RT, "checked_queries", 2))
                .check(Check::attr_equals(RT, "integrity_check", "pg_amcheck: ok"))
                .check(Check::attr_set(RT, "restore_seconds"))
                .check(Check::attr_matches(RT, "recovery_point", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"))
                .check(Check::attr_equals(RT, "results", serde_json::json!(["row count: ok", "checksum: ok"])))
                .check(Check::custom("data source reads the same port", |s| {
                    let port = s.attr(DB, "port").map_err(|e| e.to_string())?;
                    match s.output("ro_port") {
                        Some(o) if *o == port || o.get("value") == Some(&port) => Ok(()),
                        other => Err(format!("ro_port {other:?} != {port}")),
                    }
                })),
        )
        // 2b. a verification that does not hold is an apply error showing the mismatch; the result is recorded
        .step(
            Step::apply(format!(
                "{}\n{}",
                config(&dd, "", true),
                r#"
resource "dbplatform_restore_test" "bad" {
  database_id = dbplatform_database.db.id
  verify {
    name     = "row count"
    query    = "SELECT count(*) FROM items"
    expected = "499"
  }
}
"#
            ))
            .expect(ExpectPlan::error(
                r#"Restore test of "acc-orders" failed.*verify "row count": the restored copy returned "500", expected "499""#,
            )),
        )
        // 3. update in place: a reloadable parameter and a tag (the failed test goes away)
        .step(
            Step::apply(config(&dd, "  parameters = { work_mem = \"8MB\" }\n  tags = { owner = \"acceptance\", team = \"db\" }", true))
                .expect(ExpectPlan::Changes { create: 0, update: 1, replace: 0, destroy: 1 })
                .check(Check::attr_equals(DB, "tags.team", "db"))
                .check(Check::custom("audit log holds both restore tests", {
                    let audit = dd.join("audit.jsonl");
                    move |_| {
                        let text = std::fs::read_to_string(&audit).map_err(|e| format!("{}: {e}", audit.display()))?;
                        let tests: Vec<Value> = text
                            .lines()
                            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                            .filter(|r| r.to_string().contains("\"restore_test\""))
                            .collect();
                        let ok = tests.iter().any(|r| r.to_string().contains("\"succeeded\":true"));
                        let failed = tests.iter().any(|r| r.to_string().contains("\"succeeded\":false") && r.to_string().contains("499"));
                        if ok && failed { Ok(()) } else { Err(format!("restore_test records: {tests:?}")) }
                    }
                }))
                .check(Check::custom("work_mem applied", |s| {
                    let v = psql(s, "SHOW work_mem")?;
                    if v == "8MB" { Ok(()) } else { Err(format!("work_mem is {v}")) }
                })),
        )
        // 4. a change that needs a restart (instance class -> shared_buffers)
        .step(
            Step::apply(config(
                &dd,
                "  parameters = { work_mem = \"8MB\" }\n  tags = { owner = \"acceptance\", team = \"db\" }\n  instance_class = \"db.t4g.medium\"",
                true,
            ))
            .expect(ExpectPlan::Changes { create: 0, update: 1, replace: 0, destroy: 0 })
            .check(Check::custom("restarted with shared_buffers 128MB", |s| {
                let v = psql(s, "SHOW shared_buffers")?;
                if v == "128MB" { Ok(()) } else { Err(format!("shared_buffers is {v}")) }
            }))
            // Then stop the server behind Terraform's back for the drift step: the next plan is not empty.
            .check(Check::custom("stop the server (drift)", stop_server))
            .expect_non_empty_plan_after_apply(),
        )
        // 5. drift: the stopped server shows in the plan and apply starts it
        .step(
            Step::apply(config(
                &dd,
                "  parameters = { work_mem = \"8MB\" }\n  tags = { owner = \"acceptance\", team = \"db\" }\n  instance_class = \"db.t4g.medium\"",
                true,
            ))
            .expect(ExpectPlan::Changes { create: 0, update: 1, replace: 0, destroy: 0 })
            .plan_check("status goes back to available", |p| {
                let rc = p.resource_change(DB).ok_or("no change for the database")?;
                let before = rc.pointer("/change/before/status").cloned().unwrap_or(Value::Null);
                let after = rc.pointer("/change/after/status").cloned().unwrap_or(Value::Null);
                if before == "stopped" && after == "available" {
                    Ok(())
                } else {
                    Err(format!("status {before} -> {after}"))
                }
            })
            .check(Check::attr_equals(DB, "status", "available"))
            .check(Check::custom("server answers again", |s| psql(s, "SELECT 1").map(|_| ())))
            .check(Check::custom("remember the port", move |s| {
                let p = s.attr(DB, "port").map_err(|e| e.to_string())?;
                *port_keep.lock().map_err(|e| e.to_string())? = p.as_u64().unwrap_or(0) as u16;
                Ok(())
            })),
        )
        // 6. import by name gives the same state
        .step(Step::import_verify(ImportVerify {
            address: DB.into(),
            id: Some("acc-orders".into()),
            ignore: vec!["policy_decision".into()],
        }))
        .check_destroy("destroy leaves a final backup and stops the server", move |_| {
            let fb = dd_destroy.join("final-backups");
            let entries: Vec<PathBuf> = std::fs::read_dir(&fb)
                .map_err(|e| format!("{}: {e}", fb.display()))?
                .flatten()
                .map(|e| e.path())
                .collect();
            let one = entries.iter().find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("acc-orders-")));
            let one = one.ok_or_else(|| format!("no final backup of acc-orders in {entries:?}"))?;
            for f in ["base.tar.gz", "metadata.json"] {
                if !one.join(f).exists() {
                    return Err(format!("final backup {} has no {f}", one.display()));
                }
            }
            if one.join("master-password").exists() {
                return Err(format!("final backup {} holds a copy of the master password", one.display()));
            }
            if dd_destroy.join("databases/acc-orders").exists() {
                return Err("database directory still there".into());
            }
            let port = *port_after_destroy.lock().map_err(|e| e.to_string())?;
            if port != 0 && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Err(format!("something still listens on 127.0.0.1:{port}"));
            }
            Ok(())
        })
        .run();
}

#[test]
fn local_backend_refuses_a_tier_1_database_at_plan_time() {
    let (_tmp, dd) = data_dir();
    let mut c = provider_block(&dd);
    c.push_str(
        r#"
resource "dbplatform_database" "payments" {
  name                = "payments"
  tier                = "tier-1"
  deletion_protection = false
  tags = {
    owner = "payments"
  }
}
"#,
    );
    TestCase::new()
        .step(Step::plan_only(c).expect(ExpectPlan::error(
            r"\[DBP-TIER-001\] The tier must be allowed on the backend.*tier-1.*not allowed on the local backend",
        )))
        .run();
    assert!(
        !dd.join("databases").exists(),
        "a refused plan creates nothing"
    );
}
