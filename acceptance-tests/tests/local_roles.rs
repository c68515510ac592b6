//! `dbplatform_role` on the local backend through the real Terraform CLI (1.0.3 by default): a readonly and a
//! readwrite role on one database; logins made members of them can do exactly what the template says; neither
//! is superuser; a grant made by hand shows as drift in the next plan and apply takes it away; import by
//! `database/role` reads the same role back; `dbplatform_access_review` lists roles, templates and members; `password_wo` is refused by a Terraform without write-only support.

use std::path::Path;
use std::process::Command;

use acceptance_tests::local::{
    local_provider_block, pg_tool, reachable_data_dir, StopServersUnder,
};
use acceptance_tests::{Check, ExpectPlan, ImportVerify, State, Step, TestCase};
use serde_json::Value;

const DB: &str = "dbplatform_database.db";
const RO: &str = "dbplatform_role.ro";
const RW: &str = "dbplatform_role.rw";

fn config(data_dir: &Path) -> String {
    format!(
        r#"
{provider}
resource "dbplatform_database" "db" {{
  name = "acc-access"
  tier = "tier-3"
  tags = {{ owner = "acceptance" }}
}}

resource "dbplatform_role" "ro" {{
  database_id = dbplatform_database.db.id
  name        = "acc_ro"
  template    = "readonly"
}}

resource "dbplatform_role" "rw" {{
  database_id      = dbplatform_database.db.id
  name             = "acc_rw"
  template         = "readwrite"
  connection_limit = 20
}}

data "dbplatform_access_review" "all" {{
  database_id = dbplatform_database.db.id
}}
"#,
        provider = local_provider_block(data_dir, false),
    )
}

fn attr_str(state: &State, address: &str, path: &str) -> Result<String, String> {
    match state.attr(address, path).map_err(|e| e.to_string())? {
        Value::String(s) => Ok(s),
        other => Err(format!("{address}.{path} is {other}, not a string")),
    }
}

fn run_psql(mut cmd: Command, sql: &str) -> Result<String, String> {
    let out = cmd
        .env("PGCONNECT_TIMEOUT", "10")
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| format!("run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// SQL as the provider's admin role, by OS user over the database's socket (what an operator with a shell on
/// the machine can do behind Terraform's back).
fn admin(state: &State, sql: &str) -> Result<String, String> {
    let dir = attr_str(state, DB, "data_dir")?;
    let meta: Value = std::fs::read_to_string(Path::new(&dir).join("metadata.json"))
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))?;
    let socket = meta["socket_dir"]
        .as_str()
        .ok_or("no socket_dir")?
        .to_string();
    let port = state
        .attr(DB, "port")
        .map_err(|e| e.to_string())?
        .to_string();
    let mut cmd = Command::new(pg_tool("psql"));
    cmd.args([
        "-h",
        &socket,
        "-p",
        &port,
        "-U",
        "dbplatform_admin",
        "-d",
        "acc_access",
    ]);
    run_psql(cmd, sql).map_err(|e| format!("admin psql {sql:?}: {e}"))
}

/// SQL over TCP with TLS as `user` (the master user with its password file, or a test login).
fn as_user(state: &State, user: &str, password: &str, sql: &str) -> Result<String, String> {
    let port = state
        .attr(DB, "port")
        .map_err(|e| e.to_string())?
        .to_string();
    let mut cmd = Command::new(pg_tool("psql"));
    cmd.env("PGPASSWORD", password).arg(format!(
        "postgresql://{user}@127.0.0.1:{port}/acc_access?sslmode=require"
    ));
    run_psql(cmd, sql)
}

fn master(state: &State, sql: &str) -> Result<String, String> {
    let secret = attr_str(state, DB, "master_user_secret_path")?;
    let pw = std::fs::read_to_string(&secret).map_err(|e| format!("read {secret}: {e}"))?;
    let user = attr_str(state, DB, "master_username")?;
    as_user(state, &user, pw.trim(), sql).map_err(|e| format!("master psql {sql:?}: {e}"))
}

fn expect_denied(result: Result<String, String>, what: &str) -> Result<(), String> {
    match result {
        Ok(out) => Err(format!(
            "{what} succeeded ({out:?}) but the template forbids it"
        )),
        Err(e) if e.contains("permission denied") => Ok(()),
        Err(e) => Err(format!(
            "{what} failed for another reason than a permission: {e}"
        )),
    }
}

fn ro_grants() -> Value {
    serde_json::json!([
        "CONNECT ON DATABASE",
        "USAGE ON SCHEMA public",
        "SELECT ON ALL TABLES IN SCHEMA public",
        "DEFAULT SELECT ON TABLES IN SCHEMA public FOR OWNER"
    ])
}

#[test]
fn local_roles_templates_drift_and_import() {
    let (_tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let cfg = config(&dd);
    TestCase::new()
        // 1. a database and two roles; logins in each role do what the template says and nothing more
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::creates(3))
                .check(Check::attr_equals(RO, "id", "acc-access/acc_ro"))
                .check(Check::attr_equals(RO, "grants", ro_grants()))
                .check(Check::attr_equals(RW, "connection_limit", 20))
                .check(Check::attr_equals(RW, "login", false))
                .check(Check::custom("readonly selects, cannot insert", |s| {
                    // A table the application (the owner) creates after the role: default privileges cover it.
                    master(s, "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items VALUES (1, 'a')")?;
                    admin(s, "CREATE ROLE t_ro LOGIN PASSWORD 'pw-ro' IN ROLE acc_ro; CREATE ROLE t_rw LOGIN PASSWORD 'pw-rw' IN ROLE acc_rw")?;
                    let n = as_user(s, "t_ro", "pw-ro", "SELECT count(*) FROM items")?;
                    if n != "1" {
                        return Err(format!("readonly login read {n:?} rows, want 1"));
                    }
                    expect_denied(as_user(s, "t_ro", "pw-ro", "INSERT INTO items VALUES (2, 'b')"), "INSERT as readonly")
                }))
                .check(Check::custom("readwrite inserts, cannot create a table", |s| {
                    as_user(s, "t_rw", "pw-rw", "INSERT INTO items VALUES (3, 'c'); UPDATE items SET v = 'z' WHERE id = 3; DELETE FROM items WHERE id = 3")?;
                    expect_denied(as_user(s, "t_rw", "pw-rw", "CREATE TABLE t2 (id int)"), "CREATE TABLE as readwrite")?;
                    expect_denied(as_user(s, "t_rw", "pw-rw", "TRUNCATE items"), "TRUNCATE as readwrite")
                }))
                .check(Check::custom("neither role is superuser or holds server-file roles", |s| {
                    let flags = admin(s, "SELECT string_agg(rolname || ':' || rolsuper || rolcreaterole || rolcreatedb || rolbypassrls, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('acc_ro','acc_rw')")?;
                    if flags != "acc_ro:falsefalsefalsefalse,acc_rw:falsefalsefalsefalse" {
                        return Err(format!("role flags: {flags}"));
                    }
                    let files = as_user(s, "t_rw", "pw-rw", "SELECT pg_has_role('t_rw', 'pg_read_server_files', 'MEMBER') OR pg_has_role('t_rw', 'pg_execute_server_program', 'MEMBER')")?;
                    if files != "f" {
                        return Err("a readwrite login can read server files".into());
                    }
                    expect_denied(as_user(s, "t_rw", "pw-rw", "SELECT pg_read_file('PG_VERSION')"), "pg_read_file as readwrite")
                })),
        )
        // 1b. a write-only password with a Terraform that cannot keep it out of state is refused (1.11 and later
        // plan it: local_credentials covers that)
        .step(write_only_password_step(&cfg))
        // 2. a grant made by hand behind Terraform's back: the next plan is not empty
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::NoOp)
                .check(Check::custom("hand-made INSERT grant to the readonly role", |s| {
                    admin(s, "GRANT INSERT ON items TO acc_ro")?;
                    as_user(s, "t_ro", "pw-ro", "INSERT INTO items VALUES (4, 'd')").map(|_| ())
                }))
                .expect_non_empty_plan_after_apply(),
        )
        // 3. the plan shows the drift on the readonly role; apply takes the grant away
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 1,
                    replace: 0,
                    destroy: 0,
                })
                .plan_check("the extra grant is in the plan's before, not its after", |p| {
                    let rc = p.resource_change(RO).ok_or("no change for the readonly role")?;
                    let before = rc["change"]["before"]["grants"].to_string();
                    let after = rc["change"]["after"]["grants"].to_string();
                    if !before.contains("INSERT ON TABLE public.items") || after.contains("INSERT") {
                        return Err(format!("before {before}, after {after}"));
                    }
                    Ok(())
                })
                .check(Check::attr_equals(RO, "grants", ro_grants()))
                .check(Check::custom("the access review lists roles, templates and members", |s| {
                    let roles = s.attr("data.dbplatform_access_review.all", "roles").map_err(|e| e.to_string())?;
                    let find = |n: &str| roles.as_array().and_then(|a| a.iter().find(|r| r["name"] == n)).cloned();
                    let ro = find("acc_ro").ok_or(format!("acc_ro not in the review: {roles}"))?;
                    if ro["template"] != "readonly" || ro["members"] != serde_json::json!(["t_ro"]) || ro["login"] != false {
                        return Err(format!("acc_ro reviewed as {ro}"));
                    }
                    let t_ro = find("t_ro").ok_or("the test login t_ro is not in the review")?;
                    if !t_ro["grants"].to_string().contains("MEMBER OF acc_ro") || t_ro["template"] != Value::Null {
                        return Err(format!("t_ro reviewed as {t_ro}"));
                    }
                    if find("dbplatform_admin").is_some() || find("acc_access_admin").is_none() {
                        return Err(format!("admin role shown or master user missing: {roles}"));
                    }
                    Ok(())
                }))
                .check(Check::custom("readonly cannot insert again", |s| {
                    expect_denied(as_user(s, "t_ro", "pw-ro", "INSERT INTO items VALUES (5, 'e')"), "INSERT as readonly after apply")
                })),
        )
        // 4. import by database/role reads the same role back
        .step(Step::import_verify(ImportVerify {
            address: RO.into(),
            id: Some("acc-access/acc_ro".into()),
            ignore: vec![],
        }))
        .run();
}

/// A role with `password_wo`: refused with its reason by a Terraform older than 1.11 (which would keep the value
/// in the plan), planned by 1.11 and later.
fn write_only_password_step(cfg: &str) -> Step {
    let step = Step::plan_only(format!(
        "{cfg}\n{}",
        r#"
resource "dbplatform_role" "static" {
  database_id         = dbplatform_database.db.id
  name                = "acc_static"
  template            = "readonly"
  login               = true
  password_wo         = "never-in-state"
  password_wo_version = 1
}
"#
    ));
    let version = acceptance_tests::terraform_version().unwrap_or_else(|e| panic!("{e}"));
    if version < (1, 11, 0) {
        step.expect(ExpectPlan::error(
            "password_wo is write-only: only Terraform 1.11 and later keep it out of the plan",
        ))
    } else {
        step
    }
}
