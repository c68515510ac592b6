//! The HTML report: one self-contained, printable file (no scripts, no external resources) with inline SVG
//! charts, for auditors.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::cells::{opt, pct, secs};
use super::data::{DayCount, ExceptionRow, ReportData};

/// `2026-11-14T02:05:03.750642Z` -> `2026-11-14 02:05` (UTC), for tables meant for people.
fn short_ts(s: &str) -> String {
    match (s.get(..10), s.get(11..16)) {
        (Some(d), Some(t)) if s.as_bytes().get(10) == Some(&b'T') => format!("{d} {t}"),
        _ => s.to_string(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Stacked bars (pass green, fail red) per day.
fn svg_days(days: &BTreeMap<String, DayCount>) -> String {
    if days.is_empty() {
        return "<p class=\"muted\">No decisions in this period.</p>".into();
    }
    let max = days.values().map(|c| c.total).max().unwrap_or(1).max(1) as f64;
    let n = days.len();
    let w = 720.0;
    let h = 180.0;
    let bw = ((w - 40.0) / n as f64).min(40.0);
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {}\" width=\"100%\" role=\"img\" aria-label=\"Decisions per day\" xmlns=\"http://www.w3.org/2000/svg\">",
        h + 40.0
    );
    let _ = write!(
        s,
        "<line x1=\"30\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" stroke=\"#555\"/>"
    );
    let _ = write!(
        s,
        "<text x=\"0\" y=\"12\" font-size=\"11\">{} per day</text>",
        max as u64
    );
    for (i, (day, c)) in days.iter().enumerate() {
        let x = 35.0 + i as f64 * (w - 40.0) / n as f64;
        let hp = c.pass as f64 / max * (h - 20.0);
        let hf = c.fail as f64 / max * (h - 20.0);
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hp:.1}\" fill=\"#2e7d32\"><title>{day}: {} pass</title></rect>",
            h - hp,
            bw * 0.8,
            c.pass
        );
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hf:.1}\" fill=\"#c62828\"><title>{day}: {} fail</title></rect>",
            h - hp - hf,
            bw * 0.8,
            c.fail
        );
        if n <= 16 || i % n.div_ceil(16) == 0 {
            let _ = write!(
                s,
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" transform=\"rotate(35 {x:.1} {:.1})\">{}</text>",
                h + 12.0,
                h + 12.0,
                esc(day.get(5..).unwrap_or(day))
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars for a count per name.
fn svg_hbars(items: &BTreeMap<String, u64>, color: &str, label: &str) -> String {
    if items.is_empty() {
        return format!("<p class=\"muted\">No {label}.</p>");
    }
    let mut v: Vec<(&String, &u64)> = items.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.truncate(15);
    let max = *v[0].1 as f64;
    let row = 20.0;
    let mut s = format!(
        "<svg viewBox=\"0 0 720 {}\" width=\"100%\" role=\"img\" aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\">",
        v.len() as f64 * row + 4.0
    );
    for (i, (name, n)) in v.iter().enumerate() {
        let y = i as f64 * row;
        let bw = **n as f64 / max * 360.0;
        let short: String = name.chars().take(44).collect();
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"11\">{}</text><rect x=\"320\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"14\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{n}</text>",
            y + 13.0,
            esc(&short),
            y + 2.0,
            325.0 + bw,
            y + 13.0
        );
    }
    s.push_str("</svg>");
    s
}

fn table(head: &[&str], rows: Vec<Vec<String>>, empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"muted\">{}</p>", esc(empty));
    }
    let mut s = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{c}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

pub(super) const CSS: &str = "body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111;margin:24px auto;max-width:1000px;padding:0 16px}\
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}\
.muted{color:#666}.ok{background:#e8f5e9;border-left:6px solid #2e7d32;padding:8px 12px}\
.bad{background:#ffebee;border-left:6px solid #c62828;padding:8px 12px}\
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}\
th{background:#f2f2f2}code{font-size:12px;word-break:break-all}.kpis{display:flex;gap:12px;flex-wrap:wrap}\
.kpi{border:1px solid #ccc;border-radius:6px;padding:8px 14px;min-width:150px}.kpi b{display:block;font-size:22px}\
.warn{color:#b26a00;font-weight:600}\
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table,svg,.kpi{break-inside:avoid}\
tr{break-inside:avoid}.ok,.bad{-webkit-print-color-adjust:exact;print-color-adjust:exact}\
svg rect{-webkit-print-color-adjust:exact;print-color-adjust:exact}a{color:#000;text-decoration:none}}";

/// HTML form: one self-contained file (no scripts, no external resources), printable.
pub fn to_html(d: &ReportData) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Policy audit report</title><style>{CSS}</style></head><body>"
    );
    let _ = write!(
        o,
        "<h1>Policy audit report</h1><p class=\"muted\">Log <code>{}</code> &middot; generated {} &middot; period {} to {}</p>",
        esc(&d.log),
        esc(&d.generated_at),
        esc(&d.from.clone().unwrap_or_else(|| "start".into())),
        esc(&d.to.clone().unwrap_or_else(|| "end".into()))
    );
    o.push_str("<h2>Chain status</h2>");
    if d.chain.intact {
        let _ = write!(
            o,
            "<div class=\"ok\"><b>INTACT</b> &mdash; {} records in {} file(s); head seq {} <code>{}</code>; signatures {}.</div>",
            d.chain.records,
            d.chain.files.len(),
            d.chain.head_seq.unwrap_or(0),
            esc(&d.chain.head_hash.clone().unwrap_or_default()),
            esc(&d.chain.signatures)
        );
    } else {
        let _ = write!(
            o,
            "<div class=\"bad\"><b>DAMAGED</b> &mdash; {} problem(s). First bad record: {}</div>",
            d.chain.damages,
            esc(&d.chain.first_damage.clone().unwrap_or_default())
        );
    }
    let r = &d.restore;
    let _ = write!(
        o,
        "<h2>KPIs</h2><div class=\"kpis\"><div class=\"kpi\">Decisions<b>{}</b></div><div class=\"kpi\">Policy pass rate<b>{}</b></div>\
<div class=\"kpi\">Change failure rate<b>{}</b><span class=\"muted\">{} of {} applies failed</span></div>\
<div class=\"kpi\">Restore success<b>{}</b><span class=\"muted\">{} of {} tests</span></div></div>",
        d.kpis.decisions,
        pct(d.kpis.policy_pass_rate),
        pct(d.kpis.change_failure_rate),
        d.kpis.failed_applies,
        d.kpis.applies,
        pct(r.success_rate),
        r.succeeded,
        r.tests
    );
    o.push_str("<h2>Decisions per day</h2>");
    o.push_str(&svg_days(&d.decisions_per_day));
    o.push_str("<p class=\"muted\">Green: pass, red: fail.</p>");
    o.push_str("<h2>Failures per rule</h2>");
    o.push_str(&svg_hbars(
        &d.failures_per_rule,
        "#c62828",
        "failures per rule",
    ));
    o.push_str("<h2>Failures per resource</h2>");
    o.push_str(&table(
        &["resource", "failures"],
        {
            let mut v: Vec<_> = d.failures_per_resource.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            v.into_iter()
                .map(|(k, n)| vec![format!("<code>{}</code>", esc(k)), n.to_string()])
                .collect()
        },
        "No failures.",
    ));
    let exc_rows = |rows: &Vec<ExceptionRow>| -> Vec<Vec<String>> {
        rows.iter()
            .map(|e| {
                let left = match e.days_left {
                    Some(x) if x < 0 => {
                        format!("<span class=\"warn\">expired {} days ago</span>", -x)
                    }
                    Some(x) if x <= 30 => format!("<span class=\"warn\">{x}</span>"),
                    Some(x) => x.to_string(),
                    None => "-".into(),
                };
                vec![
                    esc(&e.id),
                    esc(&e.rule_id),
                    format!("<code>{}</code>", esc(&e.address)),
                    esc(&e.owner),
                    esc(&e.ticket),
                    esc(&e.expires),
                    left,
                    e.uses.to_string(),
                ]
            })
            .collect()
    };
    let head = [
        "id",
        "rule",
        "resource",
        "owner",
        "ticket",
        "expires",
        "days left",
        "uses",
    ];
    o.push_str("<h2>Exceptions in use</h2>");
    o.push_str(&table(
        &head,
        exc_rows(&d.exceptions),
        "No exceptions were applied.",
    ));
    o.push_str("<h2>Exceptions expiring within 30 days</h2>");
    o.push_str(&table(
        &head,
        exc_rows(&d.expiring_within_30_days),
        "None expire within 30 days.",
    ));
    o.push_str("<h2>Overrides</h2>");
    o.push_str(&table(
        &["when", "rule", "resource", "by", "reason"],
        d.overrides
            .iter()
            .map(|x| {
                vec![
                    esc(&short_ts(&x.timestamp)),
                    esc(&x.rule_id),
                    format!("<code>{}</code>", esc(&x.address)),
                    esc(&x.by),
                    esc(&x.reason),
                ]
            })
            .collect(),
        "No overrides.",
    ));
    let _ = write!(
        o,
        "<h2>Restore tests</h2><p>{} tests, {} succeeded ({}); median restore {}, worst {}; latest recovery point {}; worst recovery gap {}.</p>",
        r.tests,
        r.succeeded,
        pct(r.success_rate),
        secs(r.median_seconds),
        secs(r.worst_seconds),
        esc(&short_ts(&opt(&r.latest_recovery_point))),
        secs(r.worst_recovery_gap_seconds)
    );
    let restore_secs: BTreeMap<String, u64> = d
        .restore_tests
        .iter()
        .filter(|t| t.succeeded)
        .map(|t| {
            let name = t.database.rsplit('.').next().unwrap_or(&t.database);
            let when = short_ts(&t.finished_at);
            (
                format!("{name} {}", when.get(5..).unwrap_or(&when)),
                t.restore_seconds.round() as u64,
            )
        })
        .collect();
    o.push_str(&svg_hbars(&restore_secs, "#1565c0", "restore seconds"));
    o.push_str(&table(
        &[
            "database",
            "result",
            "seconds",
            "recovery point",
            "finished",
            "error",
        ],
        d.restore_tests
            .iter()
            .map(|t| {
                vec![
                    format!("<code>{}</code>", esc(&t.database)),
                    if t.succeeded {
                        "ok".into()
                    } else {
                        "<span class=\"warn\">FAILED</span>".into()
                    },
                    format!("{:.1}", t.restore_seconds),
                    esc(&short_ts(&opt(&t.recovery_point))),
                    esc(&short_ts(&t.finished_at)),
                    esc(&opt(&t.error)),
                ]
            })
            .collect(),
        "No restore tests in this period.",
    ));
    o.push_str(&super::drills::html(&d.failover_drills));
    o.push_str(&super::access::html(&d.access));
    if d.repairs > 0 {
        let _ = write!(
            o,
            "<p class=\"warn\">{} repair record(s): torn tails were moved aside.</p>",
            d.repairs
        );
    }
    o.push_str("</body></html>\n");
    o
}
