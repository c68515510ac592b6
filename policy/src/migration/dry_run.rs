//! Dry runs: a migration executed against a real database (a scratch or restored copy, never production),
//! measuring per statement its duration, the strongest lock it took and on which relation (from `pg_locks` for
//! the executing backend), how long that lock was held, whether a table was rewritten (its file node changed)
//! and the rows affected. Everything runs in one transaction that is rolled back, so the database is left as it
//! was; statements that cannot run in a transaction block (`CONCURRENTLY`, `VACUUM`, `CREATE/DROP DATABASE`)
//! are refused there. On a scratch copy ([`Target::ScratchCopy`], thrown away afterwards) they run for real:
//! the transaction so far is committed, the statement runs on its own while a second connection watches its
//! locks (`lock_watch.rs`), and a new transaction takes over for what follows.
//!
//! Lock hold time: a statement outside a transaction block releases its locks when it ends (autocommit), so the
//! lock is held for the statement's duration; inside an explicit `BEGIN` ... `COMMIT` (or a file run in one
//! transaction) it is held from the statement's start until that transaction ends, which the executor
//! measures by running the block's later statements before closing it.

use std::collections::BTreeMap;
use std::time::Instant;

use postgres::{Client, NoTls, SimpleQueryMessage};

use super::lock_watch::{self, LockWatch};
use super::locks;
use super::model::{Measurement, Migration, Statement};
use super::MigrationError;

/// Where a dry run executes, which decides what it may run.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A database that must be left as it was: one transaction, rolled back; what cannot run in one is refused.
    RolledBack,
    /// A scratch copy that is removed afterwards: what cannot run in a transaction runs for real, its locks
    /// watched from a second connection made with this configuration.
    ScratchCopy(&'a postgres::Config),
}

/// Kinds that PostgreSQL refuses inside a transaction block.
const NO_TRANSACTION_KINDS: &[&str] = &["vacuum", "drop_database", "create_database"];

/// Why a statement cannot be dry-run in a rolled-back transaction, if it cannot.
pub fn needs_scratch_copy(s: &Statement) -> Option<String> {
    if s.options.concurrently {
        return Some(format!(
            "{} ... CONCURRENTLY cannot run inside a transaction, so a dry run could not roll it back",
            s.node
        ));
    }
    if NO_TRANSACTION_KINDS.contains(&s.kind.as_str())
        || s.node == "CreatedbStmt"
        || s.node == "AlterSystemStmt"
    {
        return Some(format!(
            "{} cannot run inside a transaction, so a dry run could not roll it back",
            s.node
        ));
    }
    None
}

/// The SQL text of each statement of `sql`, in order (from PostgreSQL's own statement boundaries).
pub fn statement_texts(sql: &str) -> Result<Vec<String>, MigrationError> {
    let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).map_err(|e| {
        MigrationError::Syntax {
            file: String::new(),
            line: 0,
            message: e.to_string(),
        }
    })?;
    Ok(parsed
        .protobuf
        .stmts
        .iter()
        .map(|r| {
            let start = usize::try_from(r.stmt_location).unwrap_or(0).min(sql.len());
            let len = usize::try_from(r.stmt_len).unwrap_or(0);
            let end = if len == 0 {
                sql.len()
            } else {
                (start + len).min(sql.len())
            };
            sql.get(start..end).unwrap_or("").to_string()
        })
        .collect())
}

/// Connects to `url` (libpq-style URL or key=value string).
pub fn connect(url: &str) -> Result<Client, MigrationError> {
    Client::connect(url, NoTls)
        .map_err(|e| MigrationError::Database(format!("cannot connect with --database-url: {e}")))
}

/// A relation lock the backend holds: relation name -> strongest mode.
type HeldLocks = BTreeMap<String, String>;

/// Refuses `m` when a statement of it cannot be dry-run where it would run (`on_scratch_copy`: a copy that is
/// thrown away, else a rolled-back transaction), naming its line and what to do; checked before connecting.
pub fn check_runnable(m: &Migration, on_scratch_copy: bool) -> Result<(), MigrationError> {
    for s in &m.statements {
        let Some(why) = needs_scratch_copy(s) else {
            continue;
        };
        let message = if !on_scratch_copy {
            format!(
                "{why}; dry-run it with --scratch-copy NAME (a copy of local database NAME restored from its \
                 latest backup, where it runs for real and is thrown away), or leave this statement out of the dry run"
            )
        } else if s.transaction.explicit || m.single_transaction {
            format!(
                "{why}, and PostgreSQL refuses it inside a transaction block: move it out of BEGIN ... COMMIT{}",
                if m.single_transaction {
                    " and run this file without --single-transaction"
                } else {
                    ""
                }
            )
        } else {
            continue;
        };
        return Err(MigrationError::Refused {
            file: m.file.clone(),
            line: s.line,
            message,
        });
    }
    Ok(())
}

/// Runs `m` (whose text is `sql`) on `client` inside one transaction that is rolled back, and fills each
/// statement's `measured`; on a scratch copy, statements that cannot run in a transaction run on their own
/// between two. The first refused or failing statement ends the run with its line.
pub fn run(
    client: &mut Client,
    m: &mut Migration,
    sql: &str,
    target: Target<'_>,
) -> Result<(), MigrationError> {
    check_runnable(m, matches!(target, Target::ScratchCopy(_)))?;
    let texts = statement_texts(sql)?;
    let db = |e: postgres::Error| MigrationError::Database(e.to_string());
    client.batch_execute("BEGIN").map_err(db)?;
    let result = run_in_transaction(client, m, &texts, target);
    // Rolled back whatever happened: the database is left unchanged.
    let rollback = client.batch_execute("ROLLBACK").map_err(db);
    result?;
    rollback?;
    m.dry_run = true;
    Ok(())
}

fn run_in_transaction(
    client: &mut Client,
    m: &mut Migration,
    texts: &[String],
    target: Target<'_>,
) -> Result<(), MigrationError> {
    let file = m.file.clone();
    let single = m.single_transaction;
    // Statements whose lock is held until the enclosing transaction block ends: (statement, its start).
    let mut open: Vec<(usize, Instant)> = Vec::new();
    for i in 0..m.statements.len() {
        let s = &m.statements[i];
        let line = s.line;
        let fail = |e: postgres::Error| MigrationError::Statement {
            file: file.clone(),
            line,
            message: e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string()),
        };
        match s.kind.as_str() {
            // The block structure is the executor's: BEGIN opens nothing new (all runs in the outer
            // transaction), COMMIT/ROLLBACK end the block, which releases its locks.
            "begin" => continue,
            "commit" | "rollback" => {
                close(&mut m.statements, &mut open);
                continue;
            }
            _ => {}
        }
        let Some(text) = texts.get(s.index) else {
            continue;
        };
        if let (Target::ScratchCopy(config), Some(_)) = (target, needs_scratch_copy(s)) {
            // Outside any transaction, as PostgreSQL requires: what ran so far is committed first (the copy is
            // thrown away), so the statement sees the schema the migration built.
            let s = s.clone();
            close(&mut m.statements, &mut open);
            client.batch_execute("COMMIT").map_err(fail)?;
            let measured = run_outside(client, config, &s, text).map_err(|e| match e {
                Outside::Sql(e) => fail(e),
                Outside::Watch(message) => MigrationError::Statement {
                    file: file.clone(),
                    line,
                    message,
                },
            });
            client.batch_execute("BEGIN").map_err(fail)?;
            m.statements[i].measured = Some(measured?);
            continue;
        }
        let before = held_locks(client).map_err(fail)?;
        let filenodes_before = filenodes(client).map_err(fail)?;
        let target_rows = match &s.relation {
            Some(r) if !s.relation_is_new => relation_rows(client, r).map_err(fail)?,
            _ => None,
        };
        let start = Instant::now();
        let rows_affected = client
            .simple_query(text)
            .map_err(fail)?
            .iter()
            .map(|msg| match msg {
                SimpleQueryMessage::CommandComplete(n) => *n,
                _ => 0,
            })
            .sum();
        let duration = start.elapsed();
        let after = held_locks(client).map_err(fail)?;
        let filenodes_after = filenodes(client).map_err(fail)?;
        // The strongest lock this statement took (one it did not hold before at that strength).
        let mut taken: Option<(String, String)> = None;
        for (rel, mode) in &after {
            let had = before.get(rel).map_or(0, |m| locks::rank(m));
            if locks::rank(mode) > had
                && taken
                    .as_ref()
                    .is_none_or(|(_, m)| locks::rank(mode) > locks::rank(m))
            {
                taken = Some((rel.clone(), mode.clone()));
            }
        }
        let rewritten: Vec<&String> = filenodes_before
            .iter()
            .filter(|(oid, (_, node))| filenodes_after.get(oid).is_some_and(|(_, n)| n != node))
            .map(|(_, (name, _))| name)
            .collect();
        let relation = taken.as_ref().map(|(r, _)| r.clone());
        let relation_rows = match (&relation, &s.relation) {
            (Some(r), Some(t)) if same_relation(r, t) => target_rows,
            (Some(r), _) => relation_rows(client, r).map_err(fail)?,
            _ => target_rows,
        };
        let in_block = s.transaction.explicit || single;
        let s = &mut m.statements[i];
        s.measured = Some(Measurement {
            line: s.line,
            duration_ms: ms(duration),
            lock_mode: taken.as_ref().map(|(_, m)| m.clone()),
            relation,
            lock_held_ms: taken.as_ref().map(|_| ms(duration)),
            rewrite: !rewritten.is_empty(),
            rows_affected,
            relation_rows,
        });
        if in_block && taken.is_some() {
            open.push((i, start));
        }
    }
    close(&mut m.statements, &mut open);
    Ok(())
}

/// Why a statement run outside a transaction could not be measured.
enum Outside {
    Sql(postgres::Error),
    Watch(String),
}

impl From<postgres::Error> for Outside {
    fn from(e: postgres::Error) -> Self {
        Outside::Sql(e)
    }
}

/// Runs one statement on its own (autocommit) and measures it as [`run_in_transaction`] does the others, with
/// its locks sampled by a watcher on a second connection (they are released when it ends); the lock is held
/// for the statement's duration.
fn run_outside(
    client: &mut Client,
    config: &postgres::Config,
    s: &Statement,
    text: &str,
) -> Result<Measurement, Outside> {
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[])?.get(0);
    let filenodes_before = filenodes(client)?;
    let relation_rows = match &s.relation {
        Some(r) if !s.relation_is_new => relation_rows(client, r)?,
        _ => None,
    };
    let watch = LockWatch::start(config.connect(NoTls)?, pid);
    let start = Instant::now();
    let outcome = client.simple_query(text);
    let duration = start.elapsed();
    let seen = watch.finish().map_err(Outside::Watch)?;
    let rows_affected = outcome?
        .iter()
        .map(|msg| match msg {
            SimpleQueryMessage::CommandComplete(n) => *n,
            _ => 0,
        })
        .sum();
    let filenodes_after = filenodes(client)?;
    let taken = lock_watch::strongest(&seen, s.relation.as_deref());
    Ok(Measurement {
        line: s.line,
        duration_ms: ms(duration),
        lock_mode: taken.as_ref().map(|(_, m)| m.clone()),
        lock_held_ms: taken.as_ref().map(|_| ms(duration)),
        relation: taken.map(|(r, _)| r),
        rewrite: filenodes_before
            .iter()
            .any(|(oid, (_, node))| filenodes_after.get(oid).is_some_and(|(_, n)| n != node)),
        rows_affected,
        relation_rows,
    })
}

/// The transaction block ends now: its statements' locks were held from their start until here.
fn close(statements: &mut [Statement], open: &mut Vec<(usize, Instant)>) {
    for (i, start) in open.drain(..) {
        if let Some(m) = statements.get_mut(i).and_then(|s| s.measured.as_mut()) {
            m.lock_held_ms = Some(ms(start.elapsed()));
        }
    }
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// `orders` and `public.orders` name the same relation as far as a report is concerned.
fn same_relation(a: &str, b: &str) -> bool {
    let strip = |s: &str| {
        s.rsplit('.')
            .next()
            .unwrap_or(s)
            .trim_matches('"')
            .to_string()
    };
    strip(a) == strip(b)
}

/// The relation locks of this backend on user relations (system catalogs are the executor's own reads), the
/// strongest mode per relation.
fn held_locks(client: &mut Client) -> Result<HeldLocks, postgres::Error> {
    let rows = client.query(
        "SELECT c.relname::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
         WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND l.relation >= 16384",
        &[],
    )?;
    let mut out = HeldLocks::new();
    for r in rows {
        let (rel, mode): (String, String) = (r.get(0), r.get(1));
        let keep = out
            .get(&rel)
            .is_none_or(|m| locks::rank(&mode) > locks::rank(m));
        if keep {
            out.insert(rel, mode);
        }
    }
    Ok(out)
}

/// oid -> (name, file node) of every user table and materialized view.
fn filenodes(client: &mut Client) -> Result<BTreeMap<u32, (String, u32)>, postgres::Error> {
    let rows = client.query(
        "SELECT oid, relname::text, relfilenode FROM pg_class WHERE oid >= 16384 AND relkind IN ('r', 'm')",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect())
}

/// Rows of a relation: the planner's estimate, counted when the table was never analyzed; `None` when it does
/// not exist (yet).
fn relation_rows(client: &mut Client, relation: &str) -> Result<Option<i64>, postgres::Error> {
    let row = client.query_opt(
        "SELECT c.reltuples::bigint, c.oid::regclass::text FROM pg_class c \
         WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'm', 'p')",
        &[&relation],
    )?;
    let Some(row) = row else { return Ok(None) };
    let estimate: i64 = row.get(0);
    if estimate >= 0 {
        return Ok(Some(estimate));
    }
    let name: String = row.get(1);
    let count = client.query_one(&format!("SELECT count(*) FROM {name}"), &[])?;
    Ok(Some(count.get(0)))
}
