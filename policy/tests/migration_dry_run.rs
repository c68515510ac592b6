//! `dbpolicy migration dry-run` against a real PostgreSQL 15 (one cluster for this test binary): a type change
//! reports the rewrite and the ACCESS EXCLUSIVE lock on `orders` with its duration, the measurements reach the
//! rules, and the database is unchanged afterwards; what cannot be rolled back is refused.

mod pg_support;

use std::path::Path;
use std::process::{Command, Output};

use postgres::{Client, NoTls};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");

fn dbpolicy(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("DBPOLICY_AUDIT_LOG")
        .env_remove("DBPOLICY_DATABASE_URL")
        .output()
        .unwrap()
}

/// `orders.amount`'s type, the table's file node and its row count: what "unchanged" means here.
fn orders_state(c: &mut Client) -> (String, u32, i64) {
    let r = c
        .query_one(
            "SELECT format_type(a.atttypid, a.atttypmod), c.relfilenode, (SELECT count(*) FROM orders) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE a.attrelid = 'orders'::regclass AND a.attname = 'amount'",
            &[],
        )
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

fn statement(report: &serde_json::Value, line: u64) -> &serde_json::Value {
    report["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["line"] == line)
        .unwrap_or_else(|| panic!("no statement on line {line}: {report:#}"))
}

#[test]
fn dry_runs_measure_locks_and_rewrites_and_leave_the_database_unchanged() {
    let server = pg_support::start();
    let url = server.conn.clone();
    let mut c = Client::connect(&url, NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, amount integer, customer_id int);
         INSERT INTO orders SELECT g, g % 1000, g % 50 FROM generate_series(1, 150000) g;
         ANALYZE orders;",
    )
    .unwrap();
    let before = orders_state(&mut c);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0001_amount.sql"),
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);\n",
    )
    .unwrap();

    let o = dbpolicy(
        dir.path(),
        &[
            "migration",
            "dry-run",
            "0001_amount.sql",
            "--database-url",
            &url,
            "--tier",
            "tier-1",
            "-o",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    let alter = statement(&report, 2);
    assert_eq!(alter["rewrite"], true, "{alter:#}");
    assert_eq!(alter["lock_mode"], "AccessExclusiveLock");
    assert_eq!(alter["lock_relation"], "orders");
    assert!(alter["lock_held_ms"].as_f64().unwrap() > 0.0, "{alter:#}");
    assert!(alter["duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(alter["relation_rows"], 150000);
    assert_eq!(statement(&report, 1)["lock_mode"], serde_json::Value::Null);
    // The measurements reach the rules: the rewrite of 150,000 rows is over tier-1's 100,000.
    let results = report["decision"]["results"].as_array().unwrap();
    let rewrite = results
        .iter()
        .find(|r| r["rule_id"] == "DBP-MIG-013")
        .unwrap();
    assert_eq!(rewrite["status"], "fail", "{rewrite:#}");
    assert_eq!(rewrite["path"], "line:2");
    assert!(rewrite["message"]
        .as_str()
        .unwrap()
        .contains("rewrote orders (150000 rows)"));
    assert_eq!(o.status.code(), Some(1));

    assert_eq!(
        orders_state(&mut c),
        before,
        "the dry run must leave the table as it was"
    );
    assert_eq!(before.0, "integer");
}

#[test]
fn a_lock_is_held_until_its_transaction_block_ends() {
    let server = pg_support::start();
    let url = server.conn.clone();
    let mut c = Client::connect(&url, NoTls).unwrap();
    c.batch_execute("CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(10,2));")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.sql"),
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE orders ADD COLUMN note text;\nSELECT pg_sleep(0.3);\nCOMMIT;\n",
    )
    .unwrap();
    let o = dbpolicy(
        dir.path(),
        &[
            "migration",
            "dry-run",
            "m.sql",
            "--database-url",
            &url,
            "-o",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let alter = statement(&report, 3);
    assert_eq!(alter["lock_mode"], "AccessExclusiveLock");
    assert_eq!(
        alter["rewrite"], false,
        "adding a nullable column rewrites nothing"
    );
    let held = alter["lock_held_ms"].as_f64().unwrap();
    assert!(
        held >= 300.0,
        "held until COMMIT, after the 0.3 s sleep: {alter:#}"
    );
    assert!(alter["duration_ms"].as_f64().unwrap() < held);
    let cols: i64 = c
        .query_one("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'", &[])
        .unwrap()
        .get(0);
    assert_eq!(cols, 0, "rolled back");

    // What a linter can only guess: widening numeric(10,2) to numeric(12,2) keeps the file node (no rewrite),
    // so DBP-MIG-006 is satisfied by the measurement.
    std::fs::write(
        dir.path().join("w.sql"),
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);\n",
    )
    .unwrap();
    let o = dbpolicy(
        dir.path(),
        &[
            "migration",
            "dry-run",
            "w.sql",
            "--database-url",
            &url,
            "--tier",
            "tier-1",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let widen = statement(&report, 2);
    assert_eq!(widen["rewrite"], false, "{widen:#}");
    assert_eq!(widen["lock_mode"], "AccessExclusiveLock");
    let r006 = report["decision"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == "DBP-MIG-006")
        .unwrap();
    assert_eq!(r006["status"], "pass", "{r006:#}");

    // CONCURRENTLY cannot be rolled back: refused, with what to do instead.
    std::fs::write(
        dir.path().join("c.sql"),
        "CREATE INDEX CONCURRENTLY orders_amount_idx ON orders (amount);\n",
    )
    .unwrap();
    let o = dbpolicy(
        dir.path(),
        &["migration", "dry-run", "c.sql", "--database-url", &url],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("c.sql:1:") && err.contains("--scratch-copy"),
        "{err}"
    );
    let o = dbpolicy(
        dir.path(),
        &[
            "migration",
            "dry-run",
            "m.sql",
            "--database-url",
            &url,
            "--scratch-copy",
            "orders",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--database-url") && err.contains("cannot be used with"),
        "a scratch copy and a database URL exclude each other: {err}"
    );
    // An unknown database names the data directory and what is there; a DBPOLICY_DATABASE_URL in the
    // environment (a CI job's) is ignored with --scratch-copy, not a conflict.
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args([
            "migration",
            "dry-run",
            "c.sql",
            "--scratch-copy",
            "orders",
            "--data-dir",
        ])
        .arg(empty.path())
        .current_dir(dir.path())
        .env_remove("DBPOLICY_AUDIT_LOG")
        .env("DBPOLICY_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--scratch-copy: no local database \"orders\"")
            && err.contains("no database there at all"),
        "{err}"
    );
}
