//! `modules/postgres-database` applied for real on the local backend: a tier-3 PostgreSQL database with a restore
//! test, through the module's inputs only, then destroyed. One apply (PostgreSQL clusters are real and the
//! machine has 2 cores); the checks read the module's outputs as its user would, and connect with psql.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use acceptance_tests::{repo_root, Check, ExpectPlan, State, Step, TestCase};
use serde_json::Value;

const DB: &str = "module.db.dbplatform_database.this";
const RT: &str = "module.db.dbplatform_restore_test.this[0]";

fn config(data_dir: &std::path::Path) -> String {
    format!(
        r#"
provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{data_dir}"
  }}
  default_tags = {{
    managed_by = "terraform"
  }}
}}

module "db" {{
  source = "{source}"

  name                = "acc-mod-orders"
  tier                = "tier-3"
  owner               = "orders-team"
  cost_center         = "cc-4711"
  data_classification = "internal"
  parameters          = {{ work_mem = "8MB" }}
  extra_tags          = {{ environment = "test" }}

  restore_test = true
  restore_test_checks = [
    {{ name = "catalog", query = "SELECT count(*) > 0 FROM pg_catalog.pg_class", expected = "t" }},
    {{ name = "roles", query = "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'acc_mod%'", expected = null }},
  ]
}}

output "db" {{
  value = module.db
}}
"#,
        data_dir = data_dir.display(),
        source = repo_root().join("modules/postgres-database").display(),
    )
}

fn out_str(state: &State, path: &str) -> Result<String, String> {
    let db = state.output("db").ok_or("no output db")?;
    match acceptance_tests::json::lookup(db, path) {
        Some(Value::String(s)) => Ok(s),
        other => Err(format!("output db.{path} is {other:?}, not a string")),
    }
}

/// psql over TCP with the module's connection_string and the password from its secret_reference.
fn psql(state: &State, sql: &str) -> Result<String, String> {
    let uri = out_str(state, "connection_string")?;
    let secret = out_str(state, "secret_reference")?;
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

#[test]
fn postgres_module_applies_and_destroys_on_local_backend() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    // The server runs as an unprivileged OS user when tests run as root: it must reach the directory.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    let dd: PathBuf = tmp.path().join("data");
    let dd_after = dd.clone();
    let dd_owner = dd.clone();
    // The database's own OS user (when root), read after apply and checked gone after destroy.
    let os_user = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let os_user_after = os_user.clone();
    TestCase::new()
        .step(
            Step::apply(config(&dd))
                .expect(ExpectPlan::creates(2))
                .plan_check("the tier fills in what the module leaves out", |p| {
                    let after = p
                        .resource_change(DB)
                        .and_then(|rc| rc.pointer("/change/after"))
                        .ok_or("no change for the database")?;
                    for (k, want) in [
                        ("engine", Value::from("postgres")),
                        ("multi_az", Value::from(false)),
                        ("backup_retention_days", Value::from(1)),
                        ("deletion_protection", Value::from(false)),
                        ("instance_class", Value::from("db.t4g.micro")),
                    ] {
                        if after.get(k) != Some(&want) {
                            return Err(format!("{k} is {:?}, want {want}", after.get(k)));
                        }
                    }
                    Ok(())
                })
                .check(Check::attr_equals(DB, "status", "available"))
                .check(Check::custom("the server runs as its own OS user when root", move |_| {
                    if !acceptance_tests::local::is_root() {
                        return Ok(());
                    }
                    let owner = acceptance_tests::local::owner_name(&dd_owner.join("databases/acc-mod-orders/pgdata"))
                        .ok_or("the database directory has no named owner")?;
                    if !owner.starts_with("dbp_") {
                        return Err(format!("the database directory belongs to {owner}, want a dbp_ user"));
                    }
                    *os_user.lock().map_err(|e| e.to_string())? = Some(owner);
                    Ok(())
                }))
                .check(Check::attr_equals(DB, "tags_all.owner", "orders-team"))
                .check(Check::attr_equals(DB, "tags_all.cost_center", "cc-4711"))
                .check(Check::attr_equals(DB, "tags_all.data_classification", "internal"))
                .check(Check::attr_equals(DB, "tags_all.environment", "test"))
                .check(Check::attr_equals(DB, "tags_all.managed_by", "terraform"))
                .check(Check::attr_equals(DB, "tags_all.tier", "tier-3"))
                .check(Check::attr_equals(RT, "succeeded", true))
                .check(Check::attr_equals(RT, "results", serde_json::json!(["catalog: ok", "roles: ok"])))
                .check(Check::custom("module outputs", |s| {
                    let db = s.output("db").ok_or("no output db")?;
                    let get = |p: &str| acceptance_tests::json::lookup(db, p).unwrap_or(Value::Null);
                    let port = get("port").as_u64().ok_or(format!("port {}", get("port")))?;
                    let uri = out_str(s, "connection_string")?;
                    let want = format!("postgresql://acc_mod_orders_admin@127.0.0.1:{port}/acc_mod_orders?sslmode=require");
                    if uri != want {
                        return Err(format!("connection_string {uri}, want {want}"));
                    }
                    for (p, want) in [
                        ("endpoint", Value::from("127.0.0.1")),
                        ("backend", Value::from("local")),
                        ("db_name", Value::from("acc_mod_orders")),
                        ("tier.name", Value::from("tier-3")),
                        ("tier.rpo_minutes", Value::from(1440)),
                        ("tier.backup_retention_days", Value::from(1)),
                        ("tier.instance_class", Value::from("db.t4g.micro")),
                        ("tags.data_classification", Value::from("internal")),
                        ("policy_decision.outcome", Value::from("pass")),
                        ("restore_test.succeeded", Value::from(true)),
                        ("restore_test.checked_queries", Value::from(2)),
                        ("restore_test.integrity_check", Value::from("pg_amcheck: ok")),
                    ] {
                        if get(p) != want {
                            return Err(format!("output db.{p} is {}, want {want}", get(p)));
                        }
                    }
                    let secret = out_str(s, "secret_reference")?;
                    let mode = std::fs::metadata(&secret).map_err(|e| e.to_string())?.permissions().mode() & 0o777;
                    if mode != 0o600 {
                        return Err(format!("secret_reference {secret} has mode {mode:o}"));
                    }
                    Ok(())
                }))
                .check(Check::custom("psql through the outputs: TLS on, parameters applied", |s| {
                    let ssl = psql(s, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")?;
                    let work_mem = psql(s, "SHOW work_mem")?;
                    if ssl == "t" && work_mem == "8MB" {
                        Ok(())
                    } else {
                        Err(format!("ssl={ssl} work_mem={work_mem}"))
                    }
                })),
        )
        .check_destroy("the database and its server are gone, a final backup is kept", move |_| {
            if dd_after.join("databases/acc-mod-orders").exists() {
                return Err("the database directory is still there".into());
            }
            let user = os_user_after.lock().map_err(|e| e.to_string())?.clone();
            if let Some(user) = user {
                let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
                if passwd.lines().any(|l| l.split(':').next() == Some(user.as_str())) {
                    return Err(format!("OS user {user} is still there after destroy"));
                }
            }
            let fb = dd_after.join("final-backups");
            let kept = std::fs::read_dir(&fb)
                .map_err(|e| format!("{}: {e}", fb.display()))?
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("acc-mod-orders-"));
            if kept {
                Ok(())
            } else {
                Err(format!("no final backup of acc-mod-orders in {}", fb.display()))
            }
        })
        .run();
}
