//! The fault campaign on the local backend: the provider is killed (SIGKILL, by itself, at a named step) during a
//! create, an update and a destroy driven by the real Terraform CLI; then Terraform is run again as a user would
//! (apply, or the import it asks for, then apply) until it converges. Each case is judged on convergence, orphans
//! (directories under `data_dir/databases` and running servers that state does not know), duplicates (a second
//! final backup or server), rows lost (a row written before the fault, read after: from the database, or for a
//! destroy from its final backup) and the time to converge.
//!
//! The kill points are learned from the provider's own trace (`DBPLATFORM_FAULT_TRACE`) of one clean run. `make
//! test` runs the first, middle and last step of each operation; `make faults` (`DBPLATFORM_FAULTS=full`) runs
//! every step. The table is printed and appended to `target/faults-report.md`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use acceptance_tests::faults::{read_trace, Campaign, CaseOutcome, Extent, KILL_ENV, TRACE_ENV};
use acceptance_tests::local::{
    as_owner_of, is_root, pg_tool, postmasters_under, psql, reachable_data_dir, StopServersUnder,
};
use acceptance_tests::{State, Workdir};

const ADDR: &str = "dbplatform_database.db";
const NAME: &str = "faulty";
/// Re-applies after a fault before a case counts as not converged.
const MAX_REAPPLIES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Create,
    Update,
    Destroy,
}

impl Op {
    fn word(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Destroy => "destroy",
        }
    }
    /// The prefix of this operation's steps in the provider's trace.
    fn prefix(self) -> &'static str {
        match self {
            Op::Create => "local.create.",
            Op::Update => "local.update.",
            Op::Destroy => "local.delete.",
        }
    }
}

fn config(dd: &Path, updated: bool) -> String {
    let extra = if updated {
        "  instance_class = \"db.t4g.small\"\n  tags = { owner = \"faults\", step = \"updated\" }\n"
    } else {
        "  tags = { owner = \"faults\" }\n"
    };
    format!(
        r#"
provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{dd}"
  }}
  default_tags = {{
    cost_center         = "cc-faults"
    data_classification = "internal"
  }}
}}

resource "dbplatform_database" "db" {{
  name = "{NAME}"
  tier = "tier-3"
{extra}}}
"#,
        dd = dd.display()
    )
}

/// One case's working directory and data directory.
struct Case {
    _tmp: tempfile::TempDir,
    dd: PathBuf,
    wd: Workdir,
    _stop: StopServersUnder,
}

impl Case {
    fn new() -> Result<Self, String> {
        let (tmp, dd) = reachable_data_dir();
        let wd = Workdir::new().map_err(|e| e.to_string())?;
        wd.init().map_err(|e| e.to_string())?;
        Ok(Case {
            _tmp: tmp,
            _stop: StopServersUnder(dd.clone()),
            dd,
            wd,
        })
    }

    fn run(
        &self,
        args: &[&str],
        env: &[(String, String)],
    ) -> Result<acceptance_tests::TfOutput, String> {
        self.wd.run_env(args, env).map_err(|e| e.to_string())
    }

    fn apply(
        &self,
        updated: bool,
        env: &[(String, String)],
    ) -> Result<acceptance_tests::TfOutput, String> {
        self.wd
            .write_config(&config(&self.dd, updated))
            .map_err(|e| e.to_string())?;
        self.run(
            &["apply", "-input=false", "-no-color", "-auto-approve"],
            env,
        )
    }

    fn destroy(&self, env: &[(String, String)]) -> Result<acceptance_tests::TfOutput, String> {
        self.run(
            &["destroy", "-input=false", "-no-color", "-auto-approve"],
            env,
        )
    }

    fn state(&self) -> Result<State, String> {
        self.wd.show_state().map_err(|e| e.to_string())
    }

    fn in_state(&self) -> bool {
        self.wd
            .state_file_addresses()
            .map(|a| a.iter().any(|x| x == ADDR))
            .unwrap_or(false)
    }

    /// psql as the master user, with the URI and password file the state names.
    fn sql(&self, sql: &str) -> Result<String, String> {
        let st = self.state()?;
        let get = |p: &str| {
            st.attr(ADDR, p)
                .map_err(|e| e.to_string())
                .map(|v| v.as_str().unwrap_or_default().to_string())
        };
        let uri = get("connection_string")?;
        let pw =
            std::fs::read_to_string(get("master_user_secret_path")?).map_err(|e| e.to_string())?;
        psql(&uri, &pw, sql)
    }

    /// Directories under `databases/`, running servers and per-database OS users (`dbp_*`, created since
    /// `users_before`) that state does not hold.
    fn orphans(&self, users_before: &[String]) -> (usize, Vec<String>) {
        let keep = self
            .in_state()
            .then(|| self.dd.join("databases").join(NAME));
        let mut what = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.dd.join("databases")) {
            for e in rd.flatten() {
                if Some(e.path()) != keep {
                    what.push(format!("dir {}", e.file_name().to_string_lossy()));
                }
            }
        }
        for pgdata in postmasters_under(&self.dd) {
            if keep.as_ref().map(|k| k.join("pgdata")) != Some(pgdata.clone()) {
                what.push(format!("server {}", pgdata.display()));
            }
        }
        let new_users: Vec<String> = acceptance_tests::local::dbp_os_users()
            .into_iter()
            .filter(|u| !users_before.contains(u))
            .collect();
        if new_users.len() > usize::from(keep.is_some()) {
            what.extend(new_users.iter().map(|u| format!("OS user {u}")));
        }
        (what.len(), what)
    }

    fn final_backups(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dd.join("final-backups"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

/// Reads the marker row from a final backup: unpacks it, starts it on a private socket (trust, no TCP), counts.
fn row_in_final_backup(dir: &Path, scratch: &Path) -> Result<i64, String> {
    let pgdata = scratch.join("pgdata");
    let sock = scratch.join("s");
    for d in [&pgdata, &sock] {
        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let sh = |args: &[&str]| -> Result<(), String> {
        let out = std::process::Command::new(args[0])
            .args(&args[1..])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let p = |x: &Path| x.display().to_string();
    sh(&[
        "tar",
        "-xzf",
        &p(&dir.join("base.tar.gz")),
        "-C",
        &p(&pgdata),
    ])?;
    if dir.join("pg_wal.tar.gz").exists() {
        sh(&[
            "tar",
            "-xzf",
            &p(&dir.join("pg_wal.tar.gz")),
            "-C",
            &p(&pgdata.join("pg_wal")),
        ])?;
    }
    let _ = std::fs::remove_file(pgdata.join("postmaster.pid"));
    std::fs::write(pgdata.join("pg_hba.conf"), "local all all trust\n")
        .map_err(|e| e.to_string())?;
    sh(&["chmod", "-R", "go-rwx", &p(&pgdata)])?;
    sh(&["chmod", "755", &p(scratch), &p(&sock)])?;
    if is_root() {
        sh(&["chown", "-R", "postgres:postgres", &p(&pgdata), &p(&sock)])?;
    }
    let opts = format!(
        "-c listen_addresses='' -c port=5999 -c unix_socket_directories='{}' -c archive_mode=off",
        sock.display()
    );
    let start = as_owner_of(&pgdata, &pg_tool("pg_ctl"))
        .arg("start")
        .arg("-D")
        .arg(&pgdata)
        .args(["-w", "-s", "-l"])
        .arg(sock.join("log"))
        .args(["-o", &opts])
        .output()
        .map_err(|e| e.to_string())?;
    if !start.status.success() {
        return Err(format!(
            "starting the final backup failed: {} {}",
            String::from_utf8_lossy(&start.stderr).trim(),
            std::fs::read_to_string(sock.join("log")).unwrap_or_default()
        ));
    }
    let out = std::process::Command::new(pg_tool("psql"))
        .args(["-X", "-A", "-t", "-h", &p(&sock), "-p", "5999", "-U", "dbplatform_admin", "-d", "postgres"])
        .args(["-c", "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres','template0','template1')"])
        .output()
        .map_err(|e| e.to_string());
    let db = out
        .as_ref()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let count = std::process::Command::new(pg_tool("psql"))
        .args([
            "-X",
            "-A",
            "-t",
            "-h",
            &p(&sock),
            "-p",
            "5999",
            "-U",
            "dbplatform_admin",
            "-d",
            &db,
        ])
        .args(["-c", "SELECT count(*) FROM marker WHERE id = 42"])
        .output()
        .map_err(|e| e.to_string())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<i64>()
                .unwrap_or(0)
        });
    let _ = as_owner_of(&pgdata, &pg_tool("pg_ctl"))
        .arg("stop")
        .arg("-D")
        .arg(&pgdata)
        .args(["-m", "immediate", "-s"])
        .output();
    count
}

/// Sets the case up to the moment before the fault: nothing (create), or a database holding the marker row.
fn prepare(case: &Case, op: Op) -> Result<(), String> {
    if op == Op::Create {
        return Ok(());
    }
    let out = case.apply(false, &[])?;
    if !out.success() {
        return Err(format!("setup apply failed:\n{out}"));
    }
    case.sql("CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker VALUES (42)")?;
    Ok(())
}

fn run_op(
    case: &Case,
    op: Op,
    env: &[(String, String)],
) -> Result<acceptance_tests::TfOutput, String> {
    match op {
        Op::Create | Op::Update => case.apply(op == Op::Update, env),
        Op::Destroy => case.destroy(env),
    }
}

/// Runs Terraform again as a user would until it converges: returns (converged, re-applies, detail).
fn converge(case: &Case, op: Op) -> (bool, usize, String) {
    let mut detail = String::new();
    for attempt in 1..=MAX_REAPPLIES {
        let out = match run_op(case, op, &[]) {
            Ok(o) => o,
            Err(e) => return (false, attempt, e),
        };
        if out.success() {
            let settled = match op {
                Op::Destroy => !case.in_state(),
                _ => case
                    .run(
                        &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
                        &[],
                    )
                    .map(|p| p.code == Some(0))
                    .unwrap_or(false),
            };
            if settled {
                return (true, attempt, detail);
            }
            detail = "apply succeeded but the next plan is not empty".into();
            continue;
        }
        let text = out.all_normalized();
        if text.contains("terraform import") {
            detail = "apply asked for an import; imported".into();
            match case.run(&["import", "-input=false", "-no-color", ADDR, NAME], &[]) {
                Ok(i) if i.success() => continue,
                Ok(i) => {
                    return (
                        false,
                        attempt,
                        format!("import failed: {}", i.all_normalized()),
                    )
                }
                Err(e) => return (false, attempt, e),
            }
        }
        detail = text.chars().take(300).collect();
    }
    (false, MAX_REAPPLIES, detail)
}

fn run_case(op: Op, step: &str) -> CaseOutcome {
    let mut outcome = CaseOutcome {
        backend: "local".into(),
        operation: op.word().into(),
        fault: format!("kill at {step}"),
        converged: false,
        orphans: 0,
        duplicates: 0,
        rows_lost: 0,
        reapplies: 0,
        converge_time: Duration::ZERO,
        detail: String::new(),
    };
    let case = match Case::new() {
        Ok(c) => c,
        Err(e) => {
            outcome.detail = e;
            return outcome;
        }
    };
    let users_before = acceptance_tests::local::dbp_os_users();
    if let Err(e) = prepare(&case, op) {
        outcome.detail = e;
        return outcome;
    }
    let trace = case.dd.join("kill-trace");
    let env = vec![
        (KILL_ENV.to_string(), step.to_string()),
        (TRACE_ENV.to_string(), trace.display().to_string()),
    ];
    let faulted = run_op(&case, op, &env);
    let started = Instant::now();
    let killed = read_trace(&trace).iter().any(|s| s == step);
    if !killed {
        outcome.detail = format!("the step was not reached ({faulted:?}); ");
    } else if faulted.as_ref().is_ok_and(|o| o.success()) {
        outcome.detail = "Terraform reported success although the provider was killed; ".into();
    }
    let (converged, reapplies, detail) = converge(&case, op);
    outcome.converge_time = started.elapsed();
    outcome.converged = converged && killed;
    outcome.reapplies = reapplies;
    outcome.detail.push_str(&detail);
    let (orphans, what) = case.orphans(&users_before);
    outcome.orphans = orphans;
    if orphans > 0 {
        outcome.detail.push_str(&format!(" orphans: {what:?}"));
    }
    let finals = case.final_backups();
    outcome.duplicates = finals.len().saturating_sub(1);
    match op {
        Op::Create => {}
        Op::Update => match case.sql("SELECT count(*) FROM marker WHERE id = 42") {
            Ok(n) if n == "1" => {}
            other => {
                outcome.rows_lost = 1;
                outcome.detail.push_str(&format!(" marker row: {other:?}"));
            }
        },
        Op::Destroy => match finals.first() {
            None => {
                outcome.rows_lost = 1;
                outcome.detail.push_str(" no final backup");
            }
            Some(fb) => match row_in_final_backup(fb, &case.dd.join("scratch")) {
                Ok(1) => {}
                other => {
                    outcome.rows_lost = 1;
                    outcome
                        .detail
                        .push_str(&format!(" marker row in final backup: {other:?}"));
                }
            },
        },
    }
    if case.in_state() {
        let _ = case.destroy(&[]);
    }
    outcome
}

/// The kill points of each operation, from one clean, traced run of create, update and destroy.
fn learn_steps() -> Vec<(Op, Vec<String>)> {
    let case = Case::new().unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    for op in [Op::Create, Op::Update, Op::Destroy] {
        let trace = case.dd.join(format!("trace-{}", op.word()));
        let env = vec![(TRACE_ENV.to_string(), trace.display().to_string())];
        let o = run_op(&case, op, &env).unwrap_or_else(|e| panic!("{e}"));
        assert!(o.success(), "clean {} failed:\n{o}", op.word());
        if op == Op::Create {
            case.sql("CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker VALUES (42)")
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let steps: Vec<String> = read_trace(&trace)
            .into_iter()
            .filter(|s| s.starts_with(op.prefix()))
            .collect();
        assert!(!steps.is_empty(), "no {} steps traced", op.word());
        out.push((op, steps));
    }
    out
}

#[test]
fn killing_the_provider_at_every_step_converges_on_reapply() {
    let extent = Extent::from_env();
    let plan = learn_steps();
    let mut campaign = Campaign::default();
    for (op, steps) in &plan {
        println!("kill points of local {}: {}", op.word(), steps.join(", "));
        for step in extent.select(steps) {
            let o = run_case(*op, &step);
            println!(
                "{} {} {}: converged {} in {:.1}s",
                o.backend,
                o.operation,
                o.fault,
                o.converged,
                o.converge_time.as_secs_f64()
            );
            campaign.record(o);
        }
    }
    let failed = campaign.finish(&format!("local backend ({extent:?})"));
    assert!(
        failed.is_empty(),
        "{} case(s) missed the target (converged, 0 orphans, 0 duplicates, 0 rows lost):\n{failed:#?}",
        failed.len()
    );
}
