//! `dbplatform_replica` and `dbplatform_failover_drill` on the local backend, for real, through the real
//! Terraform CLI: a tier-2 database and its replica apply; rows written on the primary are read on the replica,
//! which refuses writes and reports its lag and TLS; a stopped standby is drift that apply repairs; the replica is
//! imported; a drill with `failure = "stop"` fails over within the tier's objectives, loses no row committed before
//! the drill (nor a probe row), restores the topology (writes on the primary, the replica streaming) and
//! are on record in the audit log and in `dbpolicy audit report`; destroy leaves nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use acceptance_tests::local::{psql, reachable_data_dir, stop_cluster, StopServersUnder};
use acceptance_tests::{State, Workdir};

const DB: &str = "dbplatform_database.db";
const RO: &str = "dbplatform_replica.ro";
const DRILL: &str = "dbplatform_failover_drill.d[0]";

fn config(dd: &Path, exceptions: &Path, drill: Option<&str>) -> String {
    let drill = drill.map_or(String::new(), |failure| {
        format!(
            r#"
resource "dbplatform_failover_drill" "d" {{
  count       = 1
  database_id = dbplatform_database.db.id
  replica_id  = dbplatform_replica.ro.id
  failure     = "{failure}"
  max_age     = "168h"
}}
"#
        )
    });
    format!(
        r#"provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{dd}"
  }}
  policy {{
    exceptions_file = "{ex}"
    audit_log       = "{dd}/audit.jsonl"
  }}
}}

resource "dbplatform_database" "db" {{
  name                = "ha-orders"
  tier                = "tier-2"
  deletion_protection = false
  tags = {{
    owner               = "orders-team"
    cost_center         = "cc-1234"
    data_classification = "internal"
  }}
}}

resource "dbplatform_replica" "ro" {{
  name               = "ha-orders-ro"
  source_database_id = dbplatform_database.db.id
  tags = {{
    owner = "orders-team"
  }}
}}
{drill}"#,
        dd = dd.display(),
        ex = exceptions.display()
    )
}

fn exceptions(path: &Path) {
    let date = |offset: &str| {
        let out = std::process::Command::new("date")
            .args(["-u", "+%F", "-d", offset])
            .output()
            .unwrap_or_else(|e| panic!("date: {e}"));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    std::fs::write(
        path,
        format!(
            "- id: EXC-DEL-ha-orders\n  rule: DBP-DEL-001\n  resource: 'dbplatform_database \"ha-orders\"'\n  \
             owner: orders-team\n  reason: the replica acceptance test destroys what it made\n  ticket: OPS-17\n  \
             approved_by: platform-lead\n  created: {}\n  expires: {}\n",
            date("today"),
            date("+7 days")
        ),
    )
    .unwrap_or_else(|e| panic!("write exceptions: {e}"));
}

fn s(st: &State, addr: &str, path: &str) -> String {
    st.attr(addr, path)
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .unwrap_or_else(|e| panic!("{addr}.{path}: {e}"))
}

fn apply(wd: &Workdir, hcl: &str) -> State {
    wd.write_config(hcl).unwrap_or_else(|e| panic!("{e}"));
    let out = wd
        .run(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.success(), "apply failed:\n{out}");
    wd.show_state().unwrap_or_else(|e| panic!("{e}"))
}

/// Polls `sql` on `uri` until it returns `want` (replication is asynchronous).
fn eventually(uri: &str, pw: &str, sql: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = psql(uri, pw, sql);
        if got.as_deref() == Ok(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql} on {uri}: {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn check_drill(
    st: &State,
    dd: &Path,
    failure: &str,
    primary: &str,
    replica: &str,
    pw: &str,
    marker: i64,
) {
    assert_eq!(s(st, DRILL, "succeeded"), "true", "{:?}", st.values(DRILL));
    assert_eq!(s(st, DRILL, "failure"), failure);
    assert_eq!(s(st, DRILL, "topology_restored"), "true");
    let rto: f64 = s(st, DRILL, "rto_seconds").parse().unwrap_or(f64::MAX);
    let max_rto: f64 = s(st, DRILL, "max_rto_seconds").parse().unwrap_or(0.0);
    let max_rpo: f64 = s(st, DRILL, "max_rpo_seconds").parse().unwrap_or(0.0);
    assert_eq!(
        (max_rto, max_rpo),
        (14400.0, 3600.0),
        "tier-2's rto_minutes = 240, rpo_minutes = 60"
    );
    assert!(rto > 0.0 && rto <= max_rto, "rto {rto}");
    let rpo: f64 = s(st, DRILL, "rpo_seconds").parse().unwrap_or(f64::MAX);
    assert!(rpo <= max_rpo, "rpo {rpo}");
    if failure == "stop" {
        assert_eq!(
            s(st, DRILL, "rows_lost"),
            "0",
            "a clean shutdown sends all WAL to the standby"
        );
    }
    let steps = s(st, DRILL, "steps");
    for needle in [
        "fenced the primary",
        "promoted the replica",
        "first committed write",
        "streams from the database again",
        "verified",
    ] {
        assert!(steps.contains(needle), "steps lack {needle:?}: {steps}");
    }
    // Rows committed before the drill are there; writes go to the primary; the replica streams again.
    assert_eq!(
        psql(primary, pw, "SELECT count(*) FROM items").as_deref(),
        Ok(marker.to_string().as_str())
    );
    psql(
        primary,
        pw,
        &format!("INSERT INTO items VALUES ({})", 1000 + marker),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eventually(
        replica,
        pw,
        &format!("SELECT count(*) FROM items WHERE id = {}", 1000 + marker),
        "1",
    );
    psql(
        primary,
        pw,
        &format!("DELETE FROM items WHERE id = {}", 1000 + marker),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        psql(replica, pw, "SELECT pg_is_in_recovery()").as_deref(),
        Ok("t")
    );
    let probe = primary.replace("/ha_orders?", "/postgres?");
    let n: i64 = psql(&probe, pw, "SELECT count(*) FROM dbplatform_drill_probe")
        .unwrap_or_default()
        .parse()
        .unwrap_or(0);
    assert!(
        n > 0,
        "the probe rows are readable on the primary after the drill"
    );
    let audit = std::fs::read_to_string(dd.join("audit.jsonl")).unwrap_or_default();
    let drills: Vec<serde_json::Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "failover_drill")
        .collect();
    let last = drills
        .last()
        .unwrap_or_else(|| panic!("no failover_drill record in the audit log"));
    assert_eq!(last["failure"], failure);
    assert_eq!(last["succeeded"], true);
    assert_eq!(last["database"], "ha-orders");
}

#[test]
fn tier_2_replica_streams_and_drills_fail_over_and_back() {
    let (tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let ex = tmp.path().join("exceptions.yaml");
    exceptions(&ex);
    let wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    wd.write_config(&config(&dd, &ex, None))
        .unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));

    // A tier-2 database and its replica.
    let st = apply(&wd, &config(&dd, &ex, None));
    assert_eq!(s(&st, RO, "status"), "streaming");
    assert_eq!(
        s(&st, RO, "instance_class"),
        "db.t4g.medium",
        "the source's class (tier-2's default)"
    );
    assert_eq!(
        s(&st, RO, "replication_tls"),
        "true",
        "the source sees its WAL sender on TLS"
    );
    assert!(
        s(&st, RO, "replication_lag_seconds").parse::<f64>().is_ok(),
        "lag reported: {:?}",
        st.values(RO)
    );
    assert_ne!(s(&st, RO, "port"), s(&st, DB, "port"));
    let primary = s(&st, DB, "connection_string");
    let replica = s(&st, RO, "connection_string");
    assert!(replica.contains("sslmode=require"), "{replica}");
    let pw = std::fs::read_to_string(s(&st, DB, "master_user_secret_path"))
        .unwrap_or_else(|e| panic!("{e}"));

    // Rows written on the primary are read on the replica, which refuses writes.
    psql(&primary, &pw, "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g")
        .unwrap_or_else(|e| panic!("{e}"));
    eventually(&replica, &pw, "SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) = (SELECT md5(string_agg(md5(g::text), ',' ORDER BY g)) FROM generate_series(1, 500) g) FROM items", "500|t");
    let write = psql(&replica, &pw, "INSERT INTO items VALUES (0, 'x')").unwrap_err();
    assert!(write.contains("read-only"), "{write}");
    // Refresh reads the lag.
    wd.run_ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"])
        .unwrap_or_else(|e| panic!("{e}"));
    let st = wd.show_state().unwrap_or_else(|e| panic!("{e}"));
    let lag: f64 = s(&st, RO, "replication_lag_seconds")
        .parse()
        .unwrap_or(-1.0);
    assert!((0.0..60.0).contains(&lag), "lag {lag}");

    // A stopped standby is drift: the plan says so and apply starts it.
    let rpgdata = dd.join("replicas/ha-orders-ro/pgdata");
    stop_cluster(&rpgdata, "fast").unwrap_or_else(|e| panic!("{e}"));
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.code, Some(2), "{plan}");
    assert!(
        plan.all_normalized().contains("Replica is stopped"),
        "{plan}"
    );
    let st = apply(&wd, &config(&dd, &ex, None));
    assert_eq!(s(&st, RO, "status"), "streaming");

    // Import: forget the replica, import it by name, and the plan is empty again.
    wd.run_ok(&["state", "rm", RO])
        .unwrap_or_else(|e| panic!("{e}"));
    let imp = wd
        .run(&["import", "-input=false", "-no-color", RO, "ha-orders-ro"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(imp.success(), "{imp}");
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.code,
        Some(0),
        "after import the plan is empty:\n{plan}"
    );

    // A drill with a clean stop (crashes are drilled by faults_drill_local.rs, whose drills all use SIGKILL).
    let st = apply(&wd, &config(&dd, &ex, Some("stop")));
    check_drill(&st, &dd, "stop", &primary, &replica, &pw, 500);
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.code,
        Some(0),
        "after the drills the plan is empty:\n{plan}"
    );

    // The audit report shows the drills beside restore tests.
    let report = std::process::Command::new(acceptance_tests::dbpolicy_binary())
        .args(["audit", "report", "--format", "md"])
        .arg(dd.join("audit.jsonl"))
        .output()
        .unwrap_or_else(|e| panic!("dbpolicy: {e}"));
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        text.contains("## Failover drills") && text.contains("1 drills, 1 succeeded (100.0%)"),
        "{text}\n{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(
        text.contains("| `ha-orders` | ha-orders-ro | stop | ok |"),
        "{text}"
    );

    let out = wd.destroy().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.success(), "destroy failed:\n{out}");
    for d in ["databases", "replicas"] {
        let left: Vec<_> = std::fs::read_dir(dd.join(d))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{d}: left behind {left:?}");
    }
}
