//! Evidence reports over the audit log (`dbpolicy audit report`): chain status, decisions per day, failures per
//! rule and resource, exceptions (and those expiring soon), overrides, restore tests and KPIs, as HTML (one
//! self-contained, printable file with inline SVG charts), Markdown, CSV or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use super::query::{Filter, StoredRecord};
use super::verify::VerifyReport;

/// Status of the chain as shown at the top of a report.
#[derive(Debug, Clone, Serialize)]
pub struct ChainStatus {
    pub intact: bool,
    pub records: u64,
    pub files: Vec<String>,
    pub head_seq: Option<u64>,
    pub head_hash: Option<String>,
    pub signatures: String,
    pub first_damage: Option<String>,
    pub damages: usize,
}

/// Decisions of one day.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DayCount {
    pub total: u64,
    pub pass: u64,
    pub fail: u64,
}

/// One exception and how it was used.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionRow {
    pub id: String,
    pub rule_id: String,
    pub address: String,
    pub owner: String,
    pub ticket: String,
    pub expires: String,
    pub uses: u64,
    pub last_used: String,
    /// Days from the report date to expiry (negative once expired).
    pub days_left: Option<i64>,
}

/// One override.
#[derive(Debug, Clone, Serialize)]
pub struct OverrideRow {
    pub timestamp: String,
    pub rule_id: String,
    pub address: String,
    pub by: String,
    pub reason: String,
}

/// One restore test.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreRow {
    pub database: String,
    pub succeeded: bool,
    pub restore_seconds: f64,
    pub recovery_point: Option<String>,
    pub finished_at: String,
    pub error: Option<String>,
}

/// Restore-test figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RestoreStats {
    pub tests: u64,
    pub succeeded: u64,
    pub success_rate: Option<f64>,
    pub median_seconds: Option<f64>,
    pub worst_seconds: Option<f64>,
    /// Latest recovery point reached by a successful test.
    pub latest_recovery_point: Option<String>,
    /// Largest gap between a test's finish and its recovery point, in seconds (how much data a restore would lose).
    pub worst_recovery_gap_seconds: Option<f64>,
}

/// Key figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Kpis {
    pub decisions: u64,
    pub policy_pass_rate: Option<f64>,
    pub applies: u64,
    pub failed_applies: u64,
    pub change_failure_rate: Option<f64>,
}

/// Everything a report shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub generated_at: String,
    pub log: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub chain: ChainStatus,
    pub kpis: Kpis,
    pub decisions_per_day: BTreeMap<String, DayCount>,
    pub failures_per_rule: BTreeMap<String, u64>,
    pub failures_per_resource: BTreeMap<String, u64>,
    pub exceptions: Vec<ExceptionRow>,
    pub expiring_within_30_days: Vec<ExceptionRow>,
    pub overrides: Vec<OverrideRow>,
    pub restore: RestoreStats,
    pub restore_tests: Vec<RestoreRow>,
    pub repairs: u64,
}

fn st(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Computes the report over `records` (already read) within `filter`'s time window.
pub fn build(
    log: &str,
    records: &[StoredRecord],
    verify: &VerifyReport,
    filter: &Filter,
    now: DateTime<Utc>,
) -> ReportData {
    let chain = ChainStatus {
        intact: verify.ok(),
        records: verify.records,
        files: verify
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        head_seq: verify.head.as_ref().map(|h| h.0),
        head_hash: verify.head.as_ref().map(|h| h.1.clone()),
        signatures: match &verify.key_id {
            Some(k) => format!("checked against key {k} ({} signed)", verify.signed),
            None if verify.signed > 0 => {
                format!("{} signed, not checked (no --public-key)", verify.signed)
            }
            None => "unsigned".into(),
        },
        first_damage: verify.first().map(|d| d.to_string()),
        damages: verify.damages.len(),
    };
    let today = now.date_naive();
    let mut per_day: BTreeMap<String, DayCount> = BTreeMap::new();
    let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_resource: BTreeMap<String, u64> = BTreeMap::new();
    let mut exceptions: BTreeMap<(String, String, String), ExceptionRow> = BTreeMap::new();
    let mut overrides = Vec::new();
    let mut restores = Vec::new();
    let mut kpis = Kpis::default();
    let mut pass = 0u64;
    let mut repairs = 0u64;
    for r in records.iter().filter(|r| filter.matches(r)) {
        let v = &r.value;
        let ts = st(v, "timestamp");
        let day = ts.get(..10).unwrap_or("unknown").to_string();
        match r.kind() {
            "decision" => {
                kpis.decisions += 1;
                let d = per_day.entry(day).or_default();
                d.total += 1;
                if r.outcome() == "pass" {
                    d.pass += 1;
                    pass += 1;
                } else {
                    d.fail += 1;
                }
                for res in v
                    .pointer("/result/resources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let addr = st(res, "address");
                    for (rule, status) in res
                        .get("rules")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        if status.as_str() == Some("fail") {
                            *per_rule.entry(rule.clone()).or_default() += 1;
                            *per_resource.entry(addr.clone()).or_default() += 1;
                        }
                    }
                }
                for e in v
                    .get("exceptions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let key = (st(e, "id"), st(e, "rule_id"), st(e, "address"));
                    let expires = st(e, "expires");
                    let days_left = NaiveDate::parse_from_str(&expires, "%Y-%m-%d")
                        .ok()
                        .map(|d| (d - today).num_days());
                    let row = exceptions.entry(key).or_insert_with(|| ExceptionRow {
                        id: st(e, "id"),
                        rule_id: st(e, "rule_id"),
                        address: st(e, "address"),
                        owner: st(e, "owner"),
                        ticket: st(e, "ticket"),
                        expires: expires.clone(),
                        uses: 0,
                        last_used: String::new(),
                        days_left,
                    });
                    row.uses += 1;
                    if ts > row.last_used {
                        row.last_used = ts.clone();
                    }
                }
                for o in v
                    .get("overrides")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    overrides.push(OverrideRow {
                        timestamp: ts.clone(),
                        rule_id: st(o, "rule_id"),
                        address: st(o, "address"),
                        by: st(o, "by"),
                        reason: st(o, "reason"),
                    });
                }
            }
            "restore_test" => restores.push(RestoreRow {
                database: st(v, "database"),
                succeeded: v.get("succeeded").and_then(Value::as_bool).unwrap_or(false),
                restore_seconds: v
                    .get("restore_seconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                recovery_point: v
                    .get("recovery_point")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                finished_at: st(v, "finished_at"),
                error: v.get("error").and_then(Value::as_str).map(str::to_string),
            }),
            "apply" => {
                kpis.applies += 1;
                if r.outcome() == "failed" {
                    kpis.failed_applies += 1;
                }
            }
            "repair" => repairs += 1,
            _ => {}
        }
    }
    kpis.policy_pass_rate = (kpis.decisions > 0).then(|| pass as f64 / kpis.decisions as f64);
    kpis.change_failure_rate =
        (kpis.applies > 0).then(|| kpis.failed_applies as f64 / kpis.applies as f64);

    let mut restore = RestoreStats {
        tests: restores.len() as u64,
        succeeded: restores.iter().filter(|r| r.succeeded).count() as u64,
        ..Default::default()
    };
    if restore.tests > 0 {
        restore.success_rate = Some(restore.succeeded as f64 / restore.tests as f64);
    }
    let mut secs: Vec<f64> = restores
        .iter()
        .filter(|r| r.succeeded)
        .map(|r| r.restore_seconds)
        .collect();
    secs.sort_by(f64::total_cmp);
    if !secs.is_empty() {
        let n = secs.len();
        restore.median_seconds = Some(if n % 2 == 1 {
            secs[n / 2]
        } else {
            (secs[n / 2 - 1] + secs[n / 2]) / 2.0
        });
        restore.worst_seconds = secs.last().copied();
    }
    for r in restores.iter().filter(|r| r.succeeded) {
        let Some(rp) = &r.recovery_point else {
            continue;
        };
        if restore
            .latest_recovery_point
            .as_ref()
            .is_none_or(|l| rp > l)
        {
            restore.latest_recovery_point = Some(rp.clone());
        }
        if let (Ok(a), Ok(b)) = (
            DateTime::parse_from_rfc3339(&r.finished_at),
            DateTime::parse_from_rfc3339(rp),
        ) {
            let gap = (a - b).num_milliseconds() as f64 / 1000.0;
            if restore.worst_recovery_gap_seconds.is_none_or(|w| gap > w) {
                restore.worst_recovery_gap_seconds = Some(gap);
            }
        }
    }
    let exceptions: Vec<ExceptionRow> = exceptions.into_values().collect();
    let expiring = exceptions
        .iter()
        .filter(|e| e.days_left.is_some_and(|d| (0..=30).contains(&d)))
        .cloned()
        .collect();
    ReportData {
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        log: log.to_string(),
        from: filter
            .from
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        to: filter
            .to
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        chain,
        kpis,
        decisions_per_day: per_day,
        failures_per_rule: per_rule,
        failures_per_resource: per_resource,
        exceptions,
        expiring_within_30_days: expiring,
        overrides,
        restore,
        restore_tests: restores,
        repairs,
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{:.1}%", v * 100.0))
}

fn secs(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.1} s"))
}

fn opt(x: &Option<String>) -> String {
    x.clone().unwrap_or_else(|| "-".into())
}

/// JSON form of the report.
pub fn to_json(d: &ReportData) -> String {
    serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown form of the report.
pub fn to_markdown(d: &ReportData) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Policy audit report\n");
    let _ = writeln!(
        o,
        "Log `{}`, generated {}, period {} to {}.\n",
        d.log,
        d.generated_at,
        d.from.clone().unwrap_or_else(|| "start".into()),
        d.to.clone().unwrap_or_else(|| "end".into())
    );
    let _ = writeln!(o, "## Chain status\n");
    if d.chain.intact {
        let _ = writeln!(
            o,
            "**INTACT**: {} records, head seq {} `{}`; signatures {}.\n",
            d.chain.records,
            d.chain.head_seq.unwrap_or(0),
            d.chain.head_hash.clone().unwrap_or_default(),
            d.chain.signatures
        );
    } else {
        let _ = writeln!(
            o,
            "**DAMAGED** ({} problem(s)): {}\n",
            d.chain.damages,
            md_cell(&d.chain.first_damage.clone().unwrap_or_default())
        );
    }
    let _ = writeln!(o, "## KPIs\n\n| KPI | value |\n|---|---|");
    let _ = writeln!(o, "| decisions | {} |", d.kpis.decisions);
    let _ = writeln!(o, "| policy pass rate | {} |", pct(d.kpis.policy_pass_rate));
    let _ = writeln!(
        o,
        "| applies | {} ({} failed) |",
        d.kpis.applies, d.kpis.failed_applies
    );
    let _ = writeln!(
        o,
        "| change failure rate | {} |",
        pct(d.kpis.change_failure_rate)
    );
    let _ = writeln!(
        o,
        "| restore test success rate | {} |\n",
        pct(d.restore.success_rate)
    );
    let _ = writeln!(
        o,
        "## Decisions per day\n\n| day | total | pass | fail |\n|---|---|---|---|"
    );
    for (day, c) in &d.decisions_per_day {
        let _ = writeln!(o, "| {day} | {} | {} | {} |", c.total, c.pass, c.fail);
    }
    let _ = writeln!(
        o,
        "\n## Failures per rule\n\n| rule | failures |\n|---|---|"
    );
    for (k, v) in &d.failures_per_rule {
        let _ = writeln!(o, "| {} | {v} |", md_cell(k));
    }
    let _ = writeln!(
        o,
        "\n## Failures per resource\n\n| resource | failures |\n|---|---|"
    );
    for (k, v) in &d.failures_per_resource {
        let _ = writeln!(o, "| `{}` | {v} |", md_cell(k));
    }
    for (title, rows) in [
        ("Exceptions in use", &d.exceptions),
        (
            "Exceptions expiring within 30 days",
            &d.expiring_within_30_days,
        ),
    ] {
        let _ = writeln!(
            o,
            "\n## {title}\n\n| id | rule | resource | owner | ticket | expires | days left | uses |\n|---|---|---|---|---|---|---|---|"
        );
        for e in rows {
            let _ = writeln!(
                o,
                "| {} | {} | `{}` | {} | {} | {} | {} | {} |",
                md_cell(&e.id),
                md_cell(&e.rule_id),
                md_cell(&e.address),
                md_cell(&e.owner),
                md_cell(&e.ticket),
                e.expires,
                e.days_left.map_or("-".into(), |x| x.to_string()),
                e.uses
            );
        }
    }
    let _ = writeln!(
        o,
        "\n## Overrides\n\n| when | rule | resource | by | reason |\n|---|---|---|---|---|"
    );
    for x in &d.overrides {
        let _ = writeln!(
            o,
            "| {} | {} | `{}` | {} | {} |",
            x.timestamp,
            md_cell(&x.rule_id),
            md_cell(&x.address),
            md_cell(&x.by),
            md_cell(&x.reason)
        );
    }
    let r = &d.restore;
    let _ = writeln!(
        o,
        "\n## Restore tests\n\n{} tests, {} succeeded ({}); median {}, worst {}; latest recovery point {}; worst recovery gap {}.\n",
        r.tests,
        r.succeeded,
        pct(r.success_rate),
        secs(r.median_seconds),
        secs(r.worst_seconds),
        opt(&r.latest_recovery_point),
        secs(r.worst_recovery_gap_seconds)
    );
    let _ = writeln!(o, "| database | result | seconds | recovery point | finished | error |\n|---|---|---|---|---|---|");
    for t in &d.restore_tests {
        let _ = writeln!(
            o,
            "| `{}` | {} | {:.1} | {} | {} | {} |",
            md_cell(&t.database),
            if t.succeeded { "ok" } else { "FAILED" },
            t.restore_seconds,
            opt(&t.recovery_point),
            t.finished_at,
            md_cell(&opt(&t.error))
        );
    }
    o
}

fn csv_field(s: &str) -> String {
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

const CSS: &str = "body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111;margin:24px auto;max-width:1000px;padding:0 16px}\
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
