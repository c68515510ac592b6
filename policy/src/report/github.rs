//! GitHub Actions output: `::error file=F,line=L,title=RULE::message` workflow commands, worst first and at
//! most as many as GitHub shows (it keeps 10 error annotations per step and drops the rest silently), then a
//! plain summary line; and the Markdown job summary (`$GITHUB_STEP_SUMMARY`) that lists every finding.

use std::fmt::Write as _;

use crate::model::decision::{Outcome, RuleResult, Status};
use crate::report::links;
use crate::report::report_input::ReportInput;

/// GitHub shows at most 10 error annotations per step: more are dropped without a trace.
pub const DEFAULT_MAX_ANNOTATIONS: usize = 10;

/// GitHub refuses a step summary over 1 MiB; the findings table stops short of it.
const SUMMARY_LIMIT: usize = 900 * 1024;

/// Escapes a workflow-command message.
fn esc_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn esc_prop(s: &str) -> String {
    esc_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The findings, worst first: failing before warnings and unknowns before exempted or overridden ones, then
/// by severity; otherwise in decision order.
fn worst_first<'a>(input: &'a ReportInput<'_>) -> Vec<&'a RuleResult> {
    let mut v: Vec<&RuleResult> = input.decision.findings().collect();
    v.sort_by_key(|r| (rank(input, r), r.severity));
    v
}

fn rank(input: &ReportInput<'_>, r: &RuleResult) -> u8 {
    if input.fails(r) {
        0
    } else if matches!(r.status, Status::Warn | Status::Unknown) {
        1
    } else {
        2
    }
}

/// Renders the annotations with GitHub's own limit of 10.
pub fn render(input: &ReportInput<'_>) -> String {
    render_limited(input, DEFAULT_MAX_ANNOTATIONS)
}

/// Renders at most `max` annotations, worst first, then a line saying how many were left out and the summary.
pub fn render_limited(input: &ReportInput<'_>, max: usize) -> String {
    let d = input.decision;
    let mut s = String::new();
    let findings = worst_first(input);
    for r in findings.iter().take(max) {
        let cmd = match rank(input, r) {
            0 => "error",
            1 => "warning",
            _ => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = input.locations.of_result(r) {
            props.push(format!("file={}", esc_prop(l.repo_path())));
            props.push(format!("line={}", l.line));
            if l.end_line != l.line {
                props.push(format!("endLine={}", l.end_line));
            }
        }
        props.push(format!(
            "title={}",
            esc_prop(&format!("{} {}", r.rule_id, r.title))
        ));
        let _ = writeln!(s, "::{cmd} {}::{}", props.join(","), esc_data(&message(r)));
    }
    if findings.len() > max {
        let _ = writeln!(
            s,
            "{} more findings are not annotated (--max-annotations {max}); the job summary lists them all",
            findings.len() - max
        );
    }
    let sm = &d.summary;
    let _ = writeln!(
        s,
        "{} resources, {} rules: {} failed, {} warnings, {} unknown, {} exempted; outcome {}",
        sm.resources,
        sm.rules,
        sm.fail,
        sm.warn,
        sm.unknown,
        sm.exempted,
        outcome(d.outcome)
    );
    if sm.skipped > 0 || sm.baselined > 0 || d.ci.soft_fail {
        // The same line, continued: what the caller's CI flags let through.
        s.pop();
        let _ = writeln!(
            s,
            " ({} skipped, {} baselined{})",
            sm.skipped,
            sm.baselined,
            if d.ci.soft_fail { ", --soft-fail" } else { "" }
        );
    }
    s
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
    }
}

/// The annotation text: address, attribute path, message, and the exception, override or fix.
fn message(r: &RuleResult) -> String {
    let mut msg = if r.path.is_empty() {
        format!("{}: {}", r.address, r.message)
    } else {
        format!("{}: {}: {}", r.address, r.path, r.message)
    };
    match (&r.exception, &r.override_) {
        (Some(e), _) => {
            let _ = write!(msg, " (exempted by {} until {})", e.id, e.expires);
        }
        (None, Some(o)) => {
            let _ = write!(msg, " (overridden by {}: {})", o.by, o.reason);
        }
        _ if r.suppression.is_some() => {
            if let Some(x) = &r.suppression {
                let _ = write!(
                    msg,
                    " ({} by {}, was {})",
                    r.status.as_str(),
                    x.origin,
                    x.was.as_str()
                );
            }
        }
        _ if !r.remediation.is_empty() => {
            let _ = write!(msg, "\nFix: {}", r.remediation);
        }
        _ => {}
    }
    msg
}

/// A Markdown table cell: no pipes or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// The rule id, linked to its documentation when it has a page.
fn rule_link(input: &ReportInput<'_>, id: &str) -> String {
    match input
        .rules
        .iter()
        .find(|m| m.id == id)
        .and_then(links::rule_doc)
    {
        Some(url) => format!("[{id}]({url})"),
        None => id.to_string(),
    }
}

/// The job summary: counts by status, failing resources by rule, and every finding worst first (up to
/// GitHub's size limit), with links to the rules' documentation.
pub fn summary(input: &ReportInput<'_>) -> String {
    let d = input.decision;
    let sm = &d.summary;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## dbpolicy: {}\n\n{} resources checked against {} rules.\n",
        match d.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "**fail**",
        },
        sm.resources,
        sm.rules
    );
    s.push_str("| status | count |\n|---|---:|\n");
    for (name, n) in [
        ("fail", sm.fail),
        ("unknown", sm.unknown),
        ("warn", sm.warn),
        ("exempted", sm.exempted),
        ("overridden", sm.overridden),
        ("skipped", sm.skipped),
        ("baselined", sm.baselined),
        ("pass", sm.pass),
    ] {
        if n > 0 || !matches!(name, "skipped" | "baselined") {
            let _ = writeln!(s, "| {name} | {n} |");
        }
    }
    if d.ci.soft_fail && d.outcome == Outcome::Fail {
        s.push_str("\n`--soft-fail`: the check failed but the step passes; the decision is recorded as failing.\n");
    }
    if let Some(b) = &d.ci.baseline {
        let _ = writeln!(
            s,
            "\nBaseline `{}`: {} entries, {} findings baselined, {} stale entries (no longer found).",
            cell(&b.file),
            b.entries,
            b.matched,
            b.stale.len()
        );
    }
    let findings = worst_first(input);
    let failing: Vec<&&RuleResult> = findings.iter().filter(|r| input.fails(r)).collect();
    if !failing.is_empty() {
        s.push_str("\n### Failures by rule\n\n| rule | title | resources |\n|---|---|---|\n");
        for info in &d.rules {
            let mut addrs: Vec<&str> = failing
                .iter()
                .filter(|r| *r.rule_id == *info.id)
                .map(|r| &*r.address)
                .collect();
            if addrs.is_empty() {
                continue;
            }
            addrs.dedup();
            let list: Vec<String> = addrs.iter().map(|a| format!("`{}`", cell(a))).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                rule_link(input, &info.id),
                cell(&info.title),
                list.join(", ")
            );
        }
    }
    if !findings.is_empty() {
        s.push_str("\n### Findings\n\n| status | rule | resource | attribute | message | file |\n|---|---|---|---|---|---|\n");
        for (i, r) in findings.iter().enumerate() {
            if s.len() > SUMMARY_LIMIT {
                let _ = writeln!(
                    s,
                    "\n{} more findings left out (GitHub's summary size limit); see the SARIF or text report.",
                    findings.len() - i
                );
                break;
            }
            let status = if input.fails(r) {
                format!("**{}**", r.status.as_str())
            } else {
                r.status.as_str().to_string()
            };
            let file = input
                .locations
                .of_result(r)
                .map(|l| format!("`{}:{}`", cell(l.repo_path()), l.line))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {status} | {} | `{}` | {} | {} | {file} |",
                rule_link(input, &r.rule_id),
                cell(&r.address),
                cell(&r.path),
                cell(&r.message)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_workflow_commands() {
        assert_eq!(super::esc_prop("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(super::esc_data("a:b\n"), "a:b%0A");
        assert_eq!(super::cell("a|b\nc"), "a\\|b c");
    }
}
