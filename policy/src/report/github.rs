//! GitHub Actions workflow commands: `::error file=F,line=L,title=RULE::message` per finding, so failures show
//! on the pull request diff; a plain summary line ends the output.

use std::fmt::Write as _;

use crate::model::decision::Status;
use crate::report::report_input::ReportInput;

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

/// Renders the annotations.
pub fn render(input: &ReportInput<'_>) -> String {
    let d = input.decision;
    let mut s = String::new();
    for r in d.findings() {
        let cmd = if input.fails(r) {
            "error"
        } else if matches!(r.status, Status::Warn | Status::Unknown) {
            "warning"
        } else {
            "notice"
        };
        let mut props = Vec::new();
        if let Some(l) = input.locations.get(&r.address) {
            props.push(format!("file={}", esc_prop(&l.file)));
            props.push(format!("line={}", l.line));
        }
        props.push(format!(
            "title={}",
            esc_prop(&format!("{} {}", r.rule_id, r.title))
        ));
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
            _ if !r.remediation.is_empty() => {
                let _ = write!(msg, "\nFix: {}", r.remediation);
            }
            _ => {}
        }
        let _ = writeln!(s, "::{cmd} {}::{}", props.join(","), esc_data(&msg));
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
        match d.outcome {
            crate::model::decision::Outcome::Pass => "pass",
            crate::model::decision::Outcome::Fail => "fail",
        }
    );
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_workflow_commands() {
        assert_eq!(super::esc_prop("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(super::esc_data("a:b\n"), "a:b%0A");
    }
}
