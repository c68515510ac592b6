//! The Markdown report, for pull requests and wikis.

use std::fmt::Write as _;

use super::cells::{opt, pct, secs};
use super::data::ReportData;

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
    o.push_str(&super::drills::markdown(&d.failover_drills));
    o.push_str(&super::access::markdown(&d.access));
    o
}
