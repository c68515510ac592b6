//! Failover drills in the audit report, beside restore tests: the last drill per database with its RTO and RPO
//! against the objectives it was held to, and the pass rate. Computed and printed here, so the other sections'
//! files only call in.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::cells::{opt, pct, secs};

/// One failover drill.
#[derive(Debug, Clone, Serialize)]
pub struct DrillRow {
    pub database: String,
    pub replica: Option<String>,
    pub mode: String,
    pub failure: String,
    pub succeeded: bool,
    pub rto_seconds: Option<f64>,
    pub rpo_seconds: Option<f64>,
    pub rows_lost: Option<u64>,
    pub max_rto_seconds: Option<f64>,
    pub max_rpo_seconds: Option<f64>,
    /// RTO and RPO within the objectives (`None` when a figure or objective is missing).
    pub within_objectives: Option<bool>,
    pub topology_restored: bool,
    pub simulated: bool,
    pub finished_at: String,
    pub error: Option<String>,
}

/// Drill figures of a report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DrillReport {
    pub drills: u64,
    pub succeeded: u64,
    pub pass_rate: Option<f64>,
    /// The latest drill of each database, by database.
    pub last_per_database: Vec<DrillRow>,
    /// Every drill in the period, oldest first.
    pub all: Vec<DrillRow>,
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

fn text(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The drill row of a `failover_drill` record's JSON.
pub fn row(v: &Value) -> DrillRow {
    let (rto, rpo) = (num(v, "rto_seconds"), num(v, "rpo_seconds"));
    let (max_rto, max_rpo) = (num(v, "max_rto_seconds"), num(v, "max_rpo_seconds"));
    let within = match (rto, rpo, max_rto, max_rpo) {
        (Some(a), Some(b), Some(x), Some(y)) => Some(a <= x && b <= y),
        (Some(a), None, Some(x), _) => Some(a <= x),
        _ => None,
    };
    DrillRow {
        database: text(v, "database"),
        replica: v.get("replica").and_then(Value::as_str).map(str::to_string),
        mode: text(v, "mode"),
        failure: text(v, "failure"),
        succeeded: v.get("succeeded").and_then(Value::as_bool).unwrap_or(false),
        rto_seconds: rto,
        rpo_seconds: rpo,
        rows_lost: v.get("rows_lost").and_then(Value::as_u64),
        max_rto_seconds: max_rto,
        max_rpo_seconds: max_rpo,
        within_objectives: within,
        topology_restored: v
            .get("topology_restored")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        simulated: v.get("simulated").and_then(Value::as_bool).unwrap_or(false),
        finished_at: text(v, "finished_at"),
        error: v.get("error").and_then(Value::as_str).map(str::to_string),
    }
}

/// The drill figures of the `failover_drill` records among `records` (JSON values, in log order).
pub fn collect<'a>(records: impl Iterator<Item = &'a Value>) -> DrillReport {
    let all: Vec<DrillRow> = records
        .filter(|v| v.get("kind").and_then(Value::as_str) == Some("failover_drill"))
        .map(row)
        .collect();
    let mut last: BTreeMap<String, DrillRow> = BTreeMap::new();
    for r in &all {
        let newer = last
            .get(&r.database)
            .is_none_or(|l| r.finished_at >= l.finished_at);
        if newer {
            last.insert(r.database.clone(), r.clone());
        }
    }
    let succeeded = all.iter().filter(|r| r.succeeded).count() as u64;
    DrillReport {
        drills: all.len() as u64,
        succeeded,
        pass_rate: (!all.is_empty()).then(|| succeeded as f64 / all.len() as f64),
        last_per_database: last.into_values().collect(),
        all,
    }
}

fn against(x: Option<f64>, max: Option<f64>) -> String {
    match (x, max) {
        (Some(a), Some(m)) => format!("{} / {}", secs(Some(a)), secs(Some(m))),
        (a, _) => secs(a),
    }
}

fn result(r: &DrillRow) -> &'static str {
    match (r.succeeded, r.simulated) {
        (true, false) => "ok",
        (true, true) => "ok (emulated)",
        (false, _) => "FAILED",
    }
}

/// The Markdown section.
pub fn markdown(d: &DrillReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n## Failover drills\n\n{} drills, {} succeeded ({}).\n",
        d.drills,
        d.succeeded,
        pct(d.pass_rate)
    );
    if d.last_per_database.is_empty() {
        o.push_str("No failover drills in this period.\n");
        return o;
    }
    let _ = writeln!(
        o,
        "| database | replica | failure | result | RTO / objective | RPO / objective | rows lost | topology restored | finished | error |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in &d.last_per_database {
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.database,
            opt(&r.replica),
            r.failure,
            result(r),
            against(r.rto_seconds, r.max_rto_seconds),
            against(r.rpo_seconds, r.max_rpo_seconds),
            r.rows_lost.map_or("n/a".into(), |n| n.to_string()),
            if r.topology_restored { "yes" } else { "no" },
            r.finished_at,
            opt(&r.error).replace('|', "\\|").replace('\n', " ")
        );
    }
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML section (a heading, the figures and a table of the last drill per database).
pub fn html(d: &DrillReport) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<h2>Failover drills</h2><p>{} drills, {} succeeded ({}).</p>",
        d.drills,
        d.succeeded,
        esc(&pct(d.pass_rate))
    );
    if d.last_per_database.is_empty() {
        o.push_str("<p class=\"muted\">No failover drills in this period.</p>");
        return o;
    }
    o.push_str("<table><thead><tr><th>database</th><th>replica</th><th>failure</th><th>result</th><th>RTO / objective</th><th>RPO / objective</th><th>rows lost</th><th>topology restored</th><th>finished</th><th>error</th></tr></thead><tbody>");
    for r in &d.last_per_database {
        let _ = write!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.database),
            esc(&opt(&r.replica)),
            esc(&r.failure),
            if r.succeeded { esc(result(r)) } else { "<span class=\"warn\">FAILED</span>".into() },
            esc(&against(r.rto_seconds, r.max_rto_seconds)),
            esc(&against(r.rpo_seconds, r.max_rpo_seconds)),
            r.rows_lost.map_or("n/a".into(), |n| n.to_string()),
            if r.topology_restored { "yes" } else { "no" },
            esc(&r.finished_at),
            esc(&opt(&r.error))
        );
    }
    o.push_str("</tbody></table>");
    o
}

/// CSV rows `section,key,metric,value`.
pub fn csv_rows(d: &DrillReport) -> Vec<[String; 4]> {
    let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.3}"));
    let mut rows = vec![
        [
            "drill".into(),
            String::new(),
            "drills".into(),
            d.drills.to_string(),
        ],
        [
            "drill".into(),
            String::new(),
            "pass_rate".into(),
            d.pass_rate.map_or(String::new(), |v| format!("{v:.4}")),
        ],
    ];
    for r in &d.last_per_database {
        for (m, v) in [
            ("succeeded", r.succeeded.to_string()),
            ("rto_seconds", f(r.rto_seconds)),
            ("max_rto_seconds", f(r.max_rto_seconds)),
            ("rpo_seconds", f(r.rpo_seconds)),
            ("max_rpo_seconds", f(r.max_rpo_seconds)),
            (
                "rows_lost",
                r.rows_lost.map_or(String::new(), |n| n.to_string()),
            ),
            ("finished_at", r.finished_at.clone()),
        ] {
            rows.push(["drill_last".into(), r.database.clone(), m.into(), v]);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_last_drill_per_database_and_the_pass_rate() {
        let recs = [
            json!({"kind": "failover_drill", "database": "orders", "mode": "replica", "failure": "stop", "succeeded": true,
                   "rto_seconds": 2.0, "rpo_seconds": 0.0, "rows_lost": 0, "max_rto_seconds": 14400.0, "max_rpo_seconds": 3600.0,
                   "topology_restored": true, "finished_at": "2026-01-01T00:00:00Z"}),
            json!({"kind": "restore_test", "database": "orders"}),
            json!({"kind": "failover_drill", "database": "orders", "mode": "replica", "failure": "crash", "succeeded": false,
                   "rto_seconds": 90.0, "rpo_seconds": 1.5, "rows_lost": 3, "max_rto_seconds": 60.0, "max_rpo_seconds": 60.0,
                   "topology_restored": true, "finished_at": "2026-01-02T00:00:00Z", "error": "RTO 90 s exceeds 60 s"}),
        ];
        let d = collect(recs.iter());
        assert_eq!((d.drills, d.succeeded), (2, 1));
        assert_eq!(d.pass_rate, Some(0.5));
        assert_eq!(d.last_per_database.len(), 1);
        let last = &d.last_per_database[0];
        assert_eq!(last.failure, "crash");
        assert_eq!(last.within_objectives, Some(false));
        let md = markdown(&d);
        assert!(md.contains("2 drills, 1 succeeded (50.0%)"), "{md}");
        assert!(
            md.contains(
                "| `orders` | - | crash | FAILED | 90.0 s / 60.0 s | 1.5 s / 60.0 s | 3 | yes |"
            ),
            "{md}"
        );
        assert!(html(&d).contains("<h2>Failover drills</h2>"));
        assert!(csv_rows(&d)
            .iter()
            .any(|r| r[2] == "rto_seconds" && r[3] == "90.000"));
        assert!(markdown(&collect(std::iter::empty())).contains("No failover drills"));
    }
}
