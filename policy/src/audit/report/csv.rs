//! The CSV report: one row per figure, for spreadsheets.

use std::fmt::Write as _;

use super::cells::opt;
use super::data::ReportData;

pub(super) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV form: one row per figure, `section,key,metric,value`, for spreadsheets.
pub fn to_csv(d: &ReportData) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut push =
        |a: &str, b: &str, c: &str, v: String| rows.push([a.into(), b.into(), c.into(), v]);
    push("chain", "", "intact", d.chain.intact.to_string());
    push("chain", "", "records", d.chain.records.to_string());
    push(
        "chain",
        "",
        "head_hash",
        d.chain.head_hash.clone().unwrap_or_default(),
    );
    push(
        "chain",
        "",
        "first_damage",
        d.chain.first_damage.clone().unwrap_or_default(),
    );
    push("kpi", "", "decisions", d.kpis.decisions.to_string());
    push(
        "kpi",
        "",
        "policy_pass_rate",
        d.kpis
            .policy_pass_rate
            .map_or(String::new(), |v| format!("{v:.4}")),
    );
    push(
        "kpi",
        "",
        "change_failure_rate",
        d.kpis
            .change_failure_rate
            .map_or(String::new(), |v| format!("{v:.4}")),
    );
    for (day, c) in &d.decisions_per_day {
        push("decisions_per_day", day, "total", c.total.to_string());
        push("decisions_per_day", day, "pass", c.pass.to_string());
        push("decisions_per_day", day, "fail", c.fail.to_string());
    }
    for (k, v) in &d.failures_per_rule {
        push("failures_per_rule", k, "failures", v.to_string());
    }
    for (k, v) in &d.failures_per_resource {
        push("failures_per_resource", k, "failures", v.to_string());
    }
    for e in &d.exceptions {
        let key = format!("{} {} {}", e.id, e.rule_id, e.address);
        push("exception", &key, "owner", e.owner.clone());
        push("exception", &key, "ticket", e.ticket.clone());
        push("exception", &key, "expires", e.expires.clone());
        push("exception", &key, "uses", e.uses.to_string());
    }
    for x in &d.overrides {
        let key = format!("{} {} {}", x.timestamp, x.rule_id, x.address);
        push("override", &key, "by", x.by.clone());
        push("override", &key, "reason", x.reason.clone());
    }
    let r = &d.restore;
    push("restore", "", "tests", r.tests.to_string());
    push(
        "restore",
        "",
        "success_rate",
        r.success_rate.map_or(String::new(), |v| format!("{v:.4}")),
    );
    push(
        "restore",
        "",
        "median_seconds",
        r.median_seconds
            .map_or(String::new(), |v| format!("{v:.3}")),
    );
    push(
        "restore",
        "",
        "worst_seconds",
        r.worst_seconds.map_or(String::new(), |v| format!("{v:.3}")),
    );
    push(
        "restore",
        "",
        "latest_recovery_point",
        opt(&r.latest_recovery_point),
    );
    rows.extend(super::drills::csv_rows(&d.failover_drills));
    rows.extend(super::access::csv_rows(&d.access));
    let mut o = String::from("section,key,metric,value\n");
    for row in rows {
        let _ = writeln!(
            o,
            "{}",
            row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    o
}
