//! The fault campaign of failover drills on the local backend: the provider is killed (SIGKILL, by itself) at a
//! step of a `dbplatform_failover_drill` apply, then Terraform is run again as a user would until it converges.
//! Each case is judged on convergence, on the original topology being back (the database writable, the replica a
//! read-only standby streaming from it: never two writable primaries), and on rows lost: rows committed before
//! the drill must all be on the database afterwards.
//!
//! One database and replica serve every case (a converged case leaves the original topology, which is what the
//! next case starts from). The kill points are learned from the provider's trace of one clean drill; `make test`
//! runs the middle one, `make faults` (`DBPLATFORM_FAULTS=full`) every one.

use std::path::Path;
use std::time::{Duration, Instant};

use acceptance_tests::faults::{read_trace, Campaign, CaseOutcome, Extent, KILL_ENV, TRACE_ENV};
use acceptance_tests::local::{psql, reachable_data_dir, StopServersUnder};
use acceptance_tests::{State, Workdir};

const DB: &str = "dbplatform_database.db";
const RO: &str = "dbplatform_replica.ro";
const DRILL: &str = "dbplatform_failover_drill.d";
const MARKER_ROWS: i64 = 200;

fn config(dd: &Path) -> String {
    format!(
        r#"provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{dd}"
  }}
  policy {{
    audit_log = "{dd}/audit.jsonl"
  }}
}}

resource "dbplatform_database" "db" {{
  name = "drill-faults"
  tier = "tier-3"
  tags = {{
    owner               = "faults"
    cost_center         = "cc-faults"
    data_classification = "internal"
  }}
}}

resource "dbplatform_replica" "ro" {{
  name               = "drill-faults-ro"
  source_database_id = dbplatform_database.db.id
}}

resource "dbplatform_failover_drill" "d" {{
  database_id = dbplatform_database.db.id
  replica_id  = dbplatform_replica.ro.id
  failure     = "crash"
}}
"#,
        dd = dd.display()
    )
}

fn attr(st: &State, addr: &str, path: &str) -> String {
    st.attr(addr, path)
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_default()
}

/// What a user and an operator check after a case: the database writable with every marker row, the replica a
/// read-only standby that receives a new write. `Err` names what is wrong.
fn topology_ok(wd: &Workdir) -> Result<(), String> {
    let st = wd.show_state().map_err(|e| e.to_string())?;
    let primary = attr(&st, DB, "connection_string");
    let replica = attr(&st, RO, "connection_string");
    let pw = std::fs::read_to_string(attr(&st, DB, "master_user_secret_path"))
        .map_err(|e| e.to_string())?;
    let n = psql(&primary, &pw, "SELECT count(*) FROM marker")?;
    if n != MARKER_ROWS.to_string() {
        return Err(format!(
            "{n} marker rows on the database, {MARKER_ROWS} written before the drill"
        ));
    }
    if psql(&replica, &pw, "SELECT pg_is_in_recovery()")? != "t" {
        return Err("the replica accepts writes: two writable primaries".into());
    }
    psql(
        &primary,
        &pw,
        "INSERT INTO marker VALUES (-1); DELETE FROM marker WHERE id = -1",
    )
    .map_err(|e| format!("the database refuses writes: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    psql(
        &primary,
        &pw,
        "CREATE TABLE IF NOT EXISTS ping (n int); INSERT INTO ping VALUES (1)",
    )?;
    loop {
        if psql(&replica, &pw, "SELECT count(*) > 0 FROM ping").as_deref() == Ok("t") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the replica does not stream from the database".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn apply(
    wd: &Workdir,
    env: &[(String, String)],
    replace: bool,
) -> Result<acceptance_tests::TfOutput, String> {
    let mut args = vec!["apply", "-input=false", "-no-color", "-auto-approve"];
    let r = format!("-replace={DRILL}");
    if replace {
        args.push(&r);
    }
    wd.run_env(&args, env).map_err(|e| e.to_string())
}

#[test]
fn a_drill_killed_at_any_step_converges_without_losing_data() {
    let (_tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    wd.write_config(&config(&dd))
        .unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    // Set-up without the drill, marker rows, then one clean drill traced to learn the kill points.
    let setup = wd
        .run(&[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            &format!("-target={RO}"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(setup.success(), "{setup}");
    let st = wd.show_state().unwrap_or_else(|e| panic!("{e}"));
    let pw = std::fs::read_to_string(attr(&st, DB, "master_user_secret_path"))
        .unwrap_or_else(|e| panic!("{e}"));
    psql(
        &attr(&st, DB, "connection_string"),
        &pw,
        &format!("CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker SELECT generate_series(1, {MARKER_ROWS})"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let trace = dd.join("clean-trace");
    let clean = apply(
        &wd,
        &[(TRACE_ENV.into(), trace.display().to_string())],
        false,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(clean.success(), "clean drill:\n{clean}");
    let steps: Vec<String> = read_trace(&trace)
        .into_iter()
        .filter(|s| s.starts_with("local.drill."))
        .collect();
    assert!(steps.len() >= 8, "drill steps traced: {steps:?}");
    topology_ok(&wd).unwrap_or_else(|e| panic!("after the clean drill: {e}"));

    let mut campaign = Campaign::default();
    // The short form (make test) runs the middle step only: the replica promoted, the old primary killed and fenced,
    // the case where a wrong move loses data. `make faults` runs every step.
    let cases = match Extent::from_env() {
        Extent::Full => steps.clone(),
        Extent::Short => steps.get(steps.len() / 2).cloned().into_iter().collect(),
    };
    for step in cases {
        let started = Instant::now();
        let kill_trace = dd.join(format!("trace-{step}"));
        let env = vec![
            (KILL_ENV.to_string(), step.clone()),
            (TRACE_ENV.to_string(), kill_trace.display().to_string()),
        ];
        let faulted = apply(&wd, &env, true);
        let killed = read_trace(&kill_trace).contains(&step);
        let mut detail = String::new();
        if !killed {
            detail = format!("the step was not reached ({faulted:?}); ");
        }
        // The user runs apply again: the drill resource is not in state (its create died), so it runs again,
        // after the backend finished the interrupted one.
        let mut converged = false;
        let mut reapplies = 0;
        for _ in 0..3 {
            reapplies += 1;
            match apply(&wd, &[], false) {
                Ok(o) if o.success() => {
                    converged = wd
                        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
                        .map(|p| p.code == Some(0))
                        .unwrap_or(false);
                    if converged {
                        break;
                    }
                    detail.push_str("apply succeeded but the next plan is not empty; ");
                }
                Ok(o) => detail = o.all_normalized().chars().take(400).collect(),
                Err(e) => detail = e,
            }
        }
        let topo = topology_ok(&wd);
        let rows_lost = match &topo {
            Err(e) if e.contains("marker rows") => 1,
            _ => 0,
        };
        if let Err(e) = &topo {
            detail.push_str(e);
        }
        campaign.record(CaseOutcome {
            backend: "local".into(),
            operation: "failover drill".into(),
            fault: format!("kill at {step}"),
            converged: converged && killed && topo.is_ok(),
            orphans: 0,
            duplicates: 0,
            rows_lost,
            reapplies,
            converge_time: started.elapsed(),
            detail,
        });
    }
    let failed = campaign.finish("local backend: failover drill killed at each step");
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        campaign.report("failover drills")
    );
    let out = wd.destroy().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.success(), "destroy:\n{out}");
}
