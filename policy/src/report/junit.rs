//! JUnit XML: one testsuite per rule (per plan file and rule, named `FILE: RULE title`, when one check reads
//! several plans), one testcase per (resource, finding). Failing results are `<failure>`,
//! exempted, overridden, skipped (`--skip-rule`) and baselined ones `<skipped>`, warnings and non-failing unknowns pass with a `<system-out>` note.
//!
//! Valid against the Jenkins xunit plugin's `junit-10.xsd` (what Jenkins, GitLab and Azure DevOps read): no
//! `skipped` on `<testsuites>`, `time` on every element (the rules are evaluated together, so the run's time
//! is on `<testsuites>` and the parts carry 0), the rule's METADATA as `<properties>`.

use std::fmt::Write as _;

use crate::model::decision::{RuleResult, Status};
use crate::report::links;
use crate::report::report_input::ReportInput;

/// Escapes text for XML attributes and content.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// Renders the JUnit report with no run time (a pure function of the decision).
pub fn render(input: &ReportInput<'_>) -> String {
    render_timed(input, std::time::Duration::ZERO)
}

/// Renders the JUnit report; `elapsed` is the whole check's time, written on `<testsuites>`.
pub fn render_timed(input: &ReportInput<'_>, elapsed: std::time::Duration) -> String {
    let d = input.decision;
    let mut suites = String::new();
    let (mut total, mut total_fail) = (0usize, 0usize);
    // Several plans: one testsuite per (file, rule), named after the file, in file order.
    let mut inputs: Vec<Option<&str>> = Vec::new();
    for r in &d.results {
        if inputs.last() != Some(&r.input.as_deref()) && !inputs.contains(&r.input.as_deref()) {
            inputs.push(r.input.as_deref());
        }
    }
    if inputs.is_empty() {
        inputs.push(None);
    }
    for (file, info) in inputs
        .iter()
        .flat_map(|i| d.rules.iter().map(move |info| (*i, info)))
    {
        let results: Vec<&RuleResult> = d
            .results
            .iter()
            .filter(|r| *r.rule_id == *info.id && r.input.as_deref() == file)
            .collect();
        let suite = match file {
            Some(f) => format!("{f}: {} {}", info.id, info.title),
            None => format!("{} {}", info.id, info.title),
        };
        let failures = results.iter().filter(|r| input.fails(r)).count();
        let skipped = results
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    Status::Exempted | Status::Overridden | Status::Skipped | Status::Baselined
                )
            })
            .count();
        total += results.len();
        total_fail += failures;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\" timestamp=\"{}\">",
            xml_escape(&suite),
            results.len(),
            xml_escape(&d.timestamp)
        );
        suites.push_str("    <properties>\n");
        let meta = input.rules.iter().find(|m| m.id == info.id);
        let doc = meta.and_then(links::rule_doc);
        for (name, value) in [
            ("rule_id", Some(info.id.as_str())),
            ("severity", Some(info.severity.as_str())),
            ("enforcement", Some(info.enforcement.as_str())),
            ("version", info.version.as_deref()),
            ("documentation", doc.as_deref()),
            ("bundle_hash", Some(d.bundle_hash.as_str())),
        ] {
            if let Some(v) = value {
                let _ = writeln!(
                    suites,
                    "      <property name=\"{name}\" value=\"{}\"/>",
                    xml_escape(v)
                );
            }
        }
        suites.push_str("    </properties>\n");
        for r in results {
            let name = if r.path.is_empty() {
                r.address.to_string()
            } else {
                format!("{} {}", r.address, r.path)
            };
            let _ = write!(
                suites,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                xml_escape(&r.rule_id),
                xml_escape(&name)
            );
            let body = if input.fails(r) {
                let mut text = r.message.clone();
                if !r.remediation.is_empty() {
                    text.push_str("\nFix: ");
                    text.push_str(&r.remediation);
                }
                format!(
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                    xml_escape(&r.message),
                    r.severity.as_str(),
                    xml_escape(&text)
                )
            } else {
                match (r.status, &r.exception, &r.override_) {
                    (Status::Exempted, Some(e), _) => format!(
                        "      <skipped message=\"{}\"/>\n",
                        xml_escape(&format!(
                            "exempted by {} until {}: {}",
                            e.id, e.expires, r.message
                        ))
                    ),
                    (Status::Overridden, _, Some(o)) => format!(
                        "      <skipped message=\"{}\"/>\n",
                        xml_escape(&format!(
                            "overridden by {} ({}): {}",
                            o.by, o.reason, r.message
                        ))
                    ),
                    (Status::Skipped | Status::Baselined, _, _) => format!(
                        "      <skipped message=\"{}\"/>\n",
                        xml_escape(&format!(
                            "{} by {}: {}",
                            r.status.as_str(),
                            r.suppression
                                .as_ref()
                                .map_or("the caller", |x| x.origin.as_str()),
                            r.message
                        ))
                    ),
                    (Status::Warn | Status::Unknown, _, _) => {
                        format!(
                            "      <system-out>{}</system-out>\n",
                            xml_escape(&format!("{}: {}", r.status.as_str(), r.message))
                        )
                    }
                    _ => String::new(),
                }
            };
            if body.is_empty() {
                suites.push_str("/>\n");
            } else {
                suites.push_str(">\n");
                suites.push_str(&body);
                suites.push_str("    </testcase>\n");
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dbpolicy\" tests=\"{total}\" failures=\"{total_fail}\" errors=\"0\" time=\"{:.3}\">\n{suites}</testsuites>\n",
        elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::xml_escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;"
        );
    }
}
