//! `dbpolicy migration dry-run --scratch-copy NAME` against a local database made by the real Terraform CLI: the
//! dry run restores NAME's latest base backup plus archived WAL to a scratch cluster, runs a type change (a
//! rewrite under an ACCESS EXCLUSIVE lock) and a `CREATE INDEX CONCURRENTLY` there (run for real and measured,
//! not refused), and removes the copy, also when the migration fails or dbpolicy is interrupted (SIGINT). The
//! source database is unchanged and no directory, server process or OS user is left behind. Without
//! `--scratch-copy`, CONCURRENTLY is still refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use acceptance_tests::local::{
    dbp_os_users, postmasters_under, psql, reachable_data_dir, StopServersUnder,
};
use acceptance_tests::{Check, ExpectPlan, State, Step, TestCase};
use serde_json::Value;

const DB: &str = "dbplatform_database.db";
const NAME: &str = "acc-scratch";
const ROWS: i64 = 20000;

const MIGRATION: &str = "SET lock_timeout = '5s';\n\
ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);\n\
CREATE INDEX CONCURRENTLY orders_amount_idx ON orders (amount);\n";

/// The database, and with `restore_test` a restore test (which also archives the WAL holding the seeded rows,
/// so the latest backup plus the archive restores them).
fn config(dd: &Path, restore_test: bool) -> String {
    let mut c = acceptance_tests::local::local_provider_block(dd, false);
    c.push_str(&format!(
        r#"
resource "dbplatform_database" "db" {{
  name = "{NAME}"
  tier = "tier-3"
  tags = {{
    owner = "acceptance"
  }}
}}
"#
    ));
    if restore_test {
        c.push_str(&format!(
            r#"
resource "dbplatform_restore_test" "rt" {{
  database_id = dbplatform_database.db.id
  verify {{
    name     = "orders"
    query    = "SELECT count(*) FROM orders"
    expected = "{ROWS}"
  }}
}}
"#
        ));
    }
    c
}

fn attr_str(state: &State, path: &str) -> Result<String, String> {
    match state.attr(DB, path).map_err(|e| e.to_string())? {
        Value::String(s) => Ok(s),
        other => Err(format!("{DB}.{path} is {other}, not a string")),
    }
}

/// SQL on the source database as its master user, as a user would.
fn sql(state: &State, text: &str) -> Result<String, String> {
    let uri = attr_str(state, "connection_string")?;
    let secret = attr_str(state, "master_user_secret_path")?;
    let password = std::fs::read_to_string(&secret).map_err(|e| format!("read {secret}: {e}"))?;
    psql(&uri, &password, text)
}

/// Runs `dbpolicy migration dry-run m.sql ARGS...` on a migration `m.sql` holding `migration`.
fn dry_run(migration: &str, args: &[&str]) -> Result<Output, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("m.sql"), migration).map_err(|e| e.to_string())?;
    Command::new(acceptance_tests::dbpolicy_binary())
        .args(["migration", "dry-run", "m.sql"])
        .args(args)
        .current_dir(dir.path())
        .env_remove("DBPOLICY_AUDIT_LOG")
        .env_remove("DBPOLICY_DATABASE_URL")
        .output()
        .map_err(|e| format!("run dbpolicy: {e}"))
}

/// `dry_run` with `--scratch-copy NAME --data-dir DD` before `args`.
fn scratch_dry_run(
    dd: &Path,
    name: &str,
    migration: &str,
    args: &[&str],
) -> Result<Output, String> {
    let dd = dd.display().to_string();
    let mut all = vec!["--scratch-copy", name, "--data-dir", dd.as_str()];
    all.extend_from_slice(args);
    dry_run(migration, &all)
}

/// Exit code and stderr, for messages.
fn outcome(o: &Output) -> (Option<i32>, String) {
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// The OS users and the source's owner before a dry run, which it must leave as they were.
struct Before {
    users: Vec<String>,
    owner: Option<String>,
}

fn source_pgdata(dd: &Path) -> PathBuf {
    dd.join("databases").join(NAME).join("pgdata")
}

fn before(dd: &Path) -> Before {
    Before {
        users: dbp_os_users(),
        owner: acceptance_tests::local::owner_name(&source_pgdata(dd)),
    }
}

/// What a dry run must leave behind: nothing under `restores/`, no server of a copy running, no new OS user,
/// and the source's OS user still there.
fn nothing_left(dd: &Path, before: &Before) -> Result<(), String> {
    let restores = dd.join("restores");
    let left: Vec<PathBuf> = std::fs::read_dir(&restores)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    if !left.is_empty() {
        return Err(format!("scratch directories left: {left:?}"));
    }
    let running = postmasters_under(&restores);
    if !running.is_empty() {
        return Err(format!("scratch servers still running: {running:?}"));
    }
    let users = dbp_os_users();
    if users != before.users {
        return Err(format!("OS users changed: {:?} -> {users:?}", before.users));
    }
    if acceptance_tests::local::owner_name(&source_pgdata(dd)) != before.owner {
        return Err(format!(
            "the source's owner changed from {:?}",
            before.owner
        ));
    }
    Ok(())
}

fn statement(report: &Value, line: u64) -> Result<&Value, String> {
    report["statements"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["line"] == line))
        .ok_or_else(|| format!("no statement on line {line}: {report:#}"))
}

/// The scratch-copy dry run: exit code, measurements, the report's copy, the source unchanged, nothing left.
fn dry_run_on_a_scratch_copy(s: &State, dd: &Path) -> Result<(), String> {
    let was = before(dd);
    let o = scratch_dry_run(dd, NAME, MIGRATION, &["--tier", "tier-3", "-o", "json"])?;
    let (code, stderr) = outcome(&o);
    // tier-3: the DBP-MIG findings (the type change) are advisory, so the run passes.
    if code != Some(0) {
        return Err(format!(
            "exit {code:?}; stderr:\n{stderr}\nstdout:\n{}",
            String::from_utf8_lossy(&o.stdout)
        ));
    }
    let report: Value = serde_json::from_slice(&o.stdout)
        .map_err(|e| format!("report is not JSON ({e}): {stderr}"))?;
    let copy = &report["scratch_copy"];
    if copy["database"] != NAME
        || copy["base_backup"].as_str().is_none_or(str::is_empty)
        || copy["restored_at"].is_null()
    {
        return Err(format!(
            "the report does not name the copy and its backup: {report:#}"
        ));
    }
    if !stderr.contains(&format!("scratch copy of {NAME} restored from base backup")) {
        return Err(format!("stderr does not say where it ran: {stderr}"));
    }
    let alter = statement(&report, 2)?;
    if alter["rewrite"] != true
        || alter["lock_mode"] != "AccessExclusiveLock"
        || alter["lock_relation"] != "orders"
    {
        return Err(format!(
            "the type change is not measured as a rewrite under ACCESS EXCLUSIVE: {alter:#}"
        ));
    }
    if alter["relation_rows"].as_i64().is_none_or(|n| n < ROWS / 2) {
        return Err(format!("the copy does not hold the seeded rows: {alter:#}"));
    }
    let index = statement(&report, 3)?;
    if index["lock_mode"] != "ShareUpdateExclusiveLock"
        || index["lock_relation"] != "orders"
        || index["duration_ms"].as_f64().is_none_or(|d| d <= 0.0)
        || index["rewrite"] != false
    {
        return Err(format!(
            "CREATE INDEX CONCURRENTLY is not measured: {index:#}"
        ));
    }
    let amount = sql(s, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'amount'")?;
    let indexes = sql(s, "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders' AND indexname = 'orders_amount_idx'")?;
    if amount != "integer" || indexes != "0" {
        return Err(format!(
            "the source changed: amount is {amount}, {indexes} new index(es)"
        ));
    }
    nothing_left(dd, &was)
}

/// A migration that fails on the copy: exit 2 with the file and line, and the copy removed all the same.
fn failed_dry_run_removes_its_copy(dd: &Path) -> Result<(), String> {
    let was = before(dd);
    let bad = "CREATE INDEX CONCURRENTLY orders_amount_idx ON orders (amount);\n\
               ALTER TABLE no_such_table ADD COLUMN x int;\n";
    let (code, stderr) = outcome(&scratch_dry_run(dd, NAME, bad, &[])?);
    if code != Some(2) || !stderr.contains("m.sql:2:") || !stderr.contains("no_such_table") {
        return Err(format!("exit {code:?}: {stderr}"));
    }
    nothing_left(dd, &was)
}

/// Whether a server process runs a `SELECT` now (its process title: `postgres: USER DB [local] SELECT`).
fn a_backend_runs_a_select() -> bool {
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten().any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| {
                        let c = String::from_utf8_lossy(&c);
                        c.starts_with("postgres: ") && c.contains(" SELECT")
                    })
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

/// Ctrl-C (SIGINT) while a statement runs on the copy: dbpolicy stops and removes the copy and exits 130.
fn interrupted_dry_run_removes_its_copy(dd: &Path) -> Result<(), String> {
    let was = before(dd);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("m.sql"), "SELECT pg_sleep(300);\n")
        .map_err(|e| e.to_string())?;
    let mut child = Command::new(acceptance_tests::dbpolicy_binary())
        .args([
            "migration",
            "dry-run",
            "m.sql",
            "--scratch-copy",
            NAME,
            "--data-dir",
        ])
        .arg(dd)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run dbpolicy: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !a_backend_runs_a_select() {
        if Instant::now() > deadline || child.try_wait().map_err(|e| e.to_string())?.is_some() {
            let _ = child.kill();
            return Err("the dry run never got to its statement".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .map_err(|e| format!("kill: {e}"))?;
    if !sent.success() {
        return Err("kill -INT failed".into());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("dbpolicy did not exit within 60 s of SIGINT".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    if status.code() != Some(130) || !stderr.contains("interrupted") {
        return Err(format!("exit {:?} after SIGINT: {stderr}", status.code()));
    }
    nothing_left(dd, &was)
}

/// Unknown database: exit 2 naming the flag and the databases there are.
fn unknown_database_lists_the_ones_there_are(dd: &Path) -> Result<(), String> {
    let (code, stderr) = outcome(&scratch_dry_run(dd, "acc-nope", MIGRATION, &[])?);
    if code != Some(2)
        || !stderr.contains("--scratch-copy: no local database \"acc-nope\"")
        || !stderr.contains(&format!("databases there: {NAME}"))
    {
        return Err(format!("exit {code:?}: {stderr}"));
    }
    Ok(())
}

/// Without `--scratch-copy` (a database URL: one rolled-back transaction) CONCURRENTLY is refused, saying why
/// and what to use instead.
fn concurrently_is_refused_without_a_scratch_copy(dd: &Path) -> Result<(), String> {
    let root = dd.join("databases").join(NAME);
    let read =
        |f: &str| std::fs::read_to_string(root.join(f)).map_err(|e| format!("read {f}: {e}"));
    let meta: Value = serde_json::from_str(&read("metadata.json")?).map_err(|e| e.to_string())?;
    let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    let text = |v: &Value| quote(v.as_str().unwrap_or_default());
    let url = format!(
        "host={} port={} user={} password={} dbname={}",
        text(&meta["socket_dir"]),
        meta["port"],
        text(&meta["spec"]["master_username"]),
        quote(read("master-password")?.trim()),
        text(&meta["spec"]["db_name"]),
    );
    let (code, stderr) = outcome(&dry_run(MIGRATION, &["--database-url", &url])?);
    if code != Some(2)
        || !stderr.contains("m.sql:3:")
        || !stderr.contains("CONCURRENTLY cannot run inside a transaction")
        || !stderr.contains("--scratch-copy NAME")
    {
        return Err(format!("exit {code:?}: {stderr}"));
    }
    Ok(())
}

#[test]
fn dry_run_on_a_scratch_copy_of_a_local_database() {
    let (_tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let (d1, d2, d3, d4, d5) = (dd.clone(), dd.clone(), dd.clone(), dd.clone(), dd.clone());
    TestCase::new()
        .step(
            Step::apply(config(&dd, false))
                .expect(ExpectPlan::creates(1))
                .check(Check::custom("seed orders", |s| {
                    sql(s, &format!(
                        "CREATE TABLE orders (id bigint PRIMARY KEY, amount integer); \
                         INSERT INTO orders SELECT g, g % 1000 FROM generate_series(1, {ROWS}) g; ANALYZE orders"
                    ))
                    .map(|_| ())
                })),
        )
        .step(
            Step::apply(config(&dd, true))
                .expect(ExpectPlan::creates(1))
                .check(Check::attr_equals("dbplatform_restore_test.rt", "succeeded", true))
                .check(Check::custom("unknown database", move |_| {
                    unknown_database_lists_the_ones_there_are(&d3)
                }))
                .check(Check::custom("CONCURRENTLY refused without a copy", move |_| {
                    concurrently_is_refused_without_a_scratch_copy(&d4)
                }))
                .check(Check::custom("dry run on a scratch copy", move |s| {
                    dry_run_on_a_scratch_copy(s, &d1)
                }))
                .check(Check::custom("a failed dry run removes its copy", move |_| {
                    failed_dry_run_removes_its_copy(&d2)
                }))
                .check(Check::custom("an interrupted dry run removes its copy", move |_| {
                    interrupted_dry_run_removes_its_copy(&d5)
                })),
        )
        .run();
}
