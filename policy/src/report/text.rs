//! The human report: findings grouped by resource (and by plan file, under a `== FILE ==` heading, when one
//! check reads several), each with rule id, attribute path and message, and the rule's fix once after its last
//! finding in a row (a migration with forty unsafe statements gets the recipe once, not forty times), then a
//! one-line summary. Passing results are counted, not listed.

use std::fmt::Write as _;

use crate::model::decision::{Outcome, RuleResult, Status};
use crate::report::report_input::ReportInput;

/// Whether the next finding is the same rule's on the same resource with the same fix, so this one's fix is
/// printed after it instead.
fn same_fix_follows(r: &RuleResult, next: Option<&RuleResult>) -> bool {
    next.is_some_and(|n| {
        n.address == r.address
            && n.input == r.input
            && n.rule_id == r.rule_id
            && n.remediation == r.remediation
            && n.exception.is_none()
            && n.override_.is_none()
            && n.suppression.is_none()
    })
}

/// Renders the text report.
pub fn render(input: &ReportInput<'_>) -> String {
    let d = input.decision;
    let mut s = String::new();
    let mut current = "";
    let mut current_input: Option<&str> = None;
    let findings: Vec<_> = d.findings().collect();
    for (i, r) in findings.iter().enumerate() {
        // Several plans: a heading per file (results come file by file).
        if let Some(input) = r.input.as_deref() {
            if current_input != Some(input) {
                if !s.is_empty() {
                    s.push('\n');
                }
                let _ = writeln!(s, "== {input} ==");
                current_input = Some(input);
                current = "";
            }
        }
        if *r.address != *current {
            if !current.is_empty() {
                s.push('\n');
            }
            current = &r.address;
            match input.locations.declaration_of(r) {
                Some(l) => {
                    let _ = writeln!(s, "{} ({}:{})", r.address, l.file, l.line);
                }
                None => {
                    let _ = writeln!(s, "{}", r.address);
                }
            }
        }
        let label = match r.status {
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Unknown if input.fails(r) => "UNKNOWN (fails)",
            Status::Unknown => "UNKNOWN",
            Status::Exempted => "EXEMPTED",
            Status::Overridden => "OVERRIDDEN",
            Status::Skipped => "SKIPPED",
            Status::Baselined => "BASELINED",
            Status::Pass => "PASS",
        };
        let path = if r.path.is_empty() {
            String::new()
        } else {
            format!(" {}:", r.path)
        };
        let _ = writeln!(
            s,
            "  {label} {} [{}, {}]{path} {}",
            r.rule_id,
            r.severity.as_str(),
            r.enforcement.as_str(),
            r.message
        );
        if let Some(e) = &r.exception {
            let _ = writeln!(
                s,
                "    exception {} by {} until {} ({}): {}",
                e.id, e.approved_by, e.expires, e.ticket, e.reason
            );
        } else if let Some(o) = &r.override_ {
            let _ = writeln!(s, "    overridden by {}: {}", o.by, o.reason);
        } else if let Some(x) = &r.suppression {
            let _ = writeln!(
                s,
                "    {} by {} (was {})",
                r.status.as_str(),
                x.origin,
                x.was.as_str()
            );
        } else if !r.remediation.is_empty() && !same_fix_follows(r, findings.get(i + 1).copied()) {
            let _ = writeln!(s, "    fix: {}", r.remediation);
        }
    }
    // Several plans: the files without a finding get their heading too, so every file is accounted for.
    let noisy: std::collections::BTreeSet<&str> =
        d.findings().filter_map(|f| f.input.as_deref()).collect();
    let quiet = d.inputs.iter().filter(|i| !noisy.contains(i.as_str()));
    for i in quiet {
        if !s.is_empty() {
            s.push('\n');
        }
        let _ = writeln!(s, "== {i} ==\nno findings");
    }
    let not_applied: Vec<_> = d
        .exceptions
        .iter()
        .filter(|e| e.status != "applied")
        .collect();
    if !not_applied.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str("exceptions not applied:\n");
        for e in not_applied {
            let _ = writeln!(
                s,
                "  {} ({} on {}): {}: {}",
                e.id, e.rule, e.resource, e.status, e.detail
            );
        }
    }
    if let Some(b) = &d.ci.baseline {
        if !b.stale.is_empty() {
            if !s.is_empty() {
                s.push('\n');
            }
            let _ = writeln!(
                s,
                "warning: {} of {} baseline entries in {} matched no finding (fixed or gone); remove them or run `dbpolicy baseline create` again:",
                b.stale.len(),
                b.entries,
                b.file
            );
            for k in &b.stale {
                let path = match (k.path.is_empty(), k.message.is_empty()) {
                    (false, _) => format!(" {}", k.path),
                    (true, false) => format!(": {}", k.message),
                    (true, true) => String::new(),
                };
                let _ = writeln!(s, "  {} {}{path}", k.rule_id, k.address);
            }
        }
    }
    if !s.is_empty() {
        s.push('\n');
    }
    let sm = &d.summary;
    let _ = write!(
        s,
        "{} resources, {} rules: {} failed, {} warnings, {} unknown, {} exempted",
        sm.resources, sm.rules, sm.fail, sm.warn, sm.unknown, sm.exempted
    );
    if sm.overridden > 0 {
        let _ = write!(s, ", {} overridden", sm.overridden);
    }
    if sm.skipped > 0 {
        let _ = write!(
            s,
            ", {} skipped (--skip-rule {})",
            sm.skipped,
            d.ci.skip_rules.join(",")
        );
    }
    if let Some(b) = &d.ci.baseline {
        let _ = write!(s, ", {} baselined ({})", sm.baselined, b.file);
    }
    let skipped: usize = d.skipped_resources.iter().map(|k| k.count).sum();
    if skipped > 0 {
        let _ = write!(s, " ({skipped} other resource changes skipped)");
    }
    s.push('\n');
    s.push_str(match (d.outcome, d.ci.soft_fail) {
        (Outcome::Pass, _) => "PASS\n",
        (Outcome::Fail, false) => "FAIL\n",
        (Outcome::Fail, true) => "FAIL (--soft-fail: exit 0; recorded as failing)\n",
    });
    s
}
