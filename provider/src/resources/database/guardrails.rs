//! Policy decisions -> Terraform diagnostics on the attribute at fault.
//!
//! Failing hard- and soft-mandatory results are errors (summary `[DBP-XXX-NNN] title`; detail: message,
//! remediation, how to ask for an exception); advisory and unknown results are warnings; exempted results are a
//! warning naming the exception and its expiry, so nobody forgets it runs out; an exception that matches a failing
//! rule but did not apply (expired, unapproved, too long) is a warning saying why.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use policy::model::decision::{Decision, Enforcement, ExceptionReport, RuleResult, Status};
use policy::model::tiers::Tier;

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

/// The exceptions-file entry that waives `rule_id` for the resource the provider calls `resource`
/// (`dbplatform_database "orders"`), ready to paste: the provider never sees Terraform addresses, so the entry
/// names the resource type and database name, which `dbpolicy check` matches too. It lasts `max_days` (the tier's
/// `max_exception_days`) from `today`; owner, reason, ticket and approver are left for the requester to fill in.
pub fn exception_entry(rule_id: &str, resource: &str, today: NaiveDate, max_days: u32) -> String {
    let name = resource
        .split('"')
        .nth(1)
        .filter(|n| !n.is_empty())
        .unwrap_or("db");
    let expires = today + chrono::Duration::days(i64::from(max_days));
    format!(
        "- id: EXC-{rule_id}-{name}\n  rule: {rule_id}\n  resource: '{resource}'\n  owner: <team>\n  \
         reason: <why>\n  ticket: <ticket>\n  approved_by: <approver>\n  created: {today}\n  expires: {expires}"
    )
}

/// How to request an exception for one blocking finding, with the entry to paste.
fn exception_hint(r: &RuleResult, ctx: &HintContext) -> String {
    format!(
        "If this database must deviate, ask the platform team for a time-limited exception: add this entry to the \
         provider's policy.exceptions_file (the same entry works for `dbpolicy check --exceptions`), with owner, \
         reason, ticket and approver filled in and an expiry at most {} days after created ({}):\n\n{}",
        ctx.max_days,
        ctx.tier,
        exception_entry(&r.rule_id, &r.address, ctx.today, ctx.max_days)
    )
}

/// What the hints need to know besides the decision.
pub struct HintContext {
    pub today: NaiveDate,
    /// The tier of the database and its `max_exception_days`.
    pub tier: String,
    pub max_days: u32,
}

impl HintContext {
    pub fn new(tier_name: &str, tier: &Tier) -> Self {
        Self {
            today: chrono::Utc::now().date_naive(),
            tier: tier_name.to_string(),
            max_days: tier.max_exception_days,
        }
    }
}

/// Diagnostics for one decision.
pub fn diagnostics(decision: &Decision, ctx: &HintContext) -> Diagnostics {
    let mut d = Diagnostics::new();
    for r in decision.findings() {
        if let Some(diag) = diagnostic(r, ctx) {
            d.push(diag);
        }
    }
    for e in unapplied_exceptions(decision) {
        d.push(Diagnostic::warning(
            format!("Policy exception {} not applied ({})", e.id, e.status),
            format!(
                "Exception {} for rule {} (resource {:?}) did not apply: {}. The rule is enforced as usual; renew or \
                 re-approve the exception in the exceptions file, or fix the finding.",
                e.id, e.rule, e.resource, e.detail
            ),
        ));
    }
    d
}

/// Exceptions that match a failing rule of this decision but did not apply (expired, unapproved, too long):
/// without saying so, a user whose exception ran out sees only the rule failing and cannot tell why.
fn unapplied_exceptions(decision: &Decision) -> impl Iterator<Item = &ExceptionReport> {
    decision.exceptions.iter().filter(|e| {
        matches!(e.status.as_str(), "expired" | "unapproved" | "too-long")
            && decision
                .findings()
                .any(|r| r.status == Status::Fail && *r.rule_id == *e.rule)
    })
}

fn diagnostic(r: &RuleResult, ctx: &HintContext) -> Option<Diagnostic> {
    let summary = format!("[{}] {}", r.rule_id, r.title);
    let path = (!r.path.is_empty()).then(|| AttributePath::parse_dotted(&r.path));
    let mut detail = r.message.clone();
    if !r.remediation.is_empty() {
        detail.push_str(&format!("\n\nFix: {}", r.remediation));
    }
    let diag = match r.status {
        Status::Fail => match r.enforcement {
            Enforcement::Advisory => Diagnostic::warning(summary, detail),
            Enforcement::SoftMandatory => Diagnostic::error(
                summary,
                format!(
                    "{detail}\n\nThis soft-mandatory rule can also be overridden for one change by a named approver: \
                     policy {{ override {{ rule = \"{}\", by = \"you@example.com\", reason = \"...\" }} }} in the \
                     provider block (recorded in the audit log, which must be configured). {}",
                    r.rule_id,
                    exception_hint(r, ctx)
                ),
            ),
            Enforcement::HardMandatory => Diagnostic::error(
                summary,
                format!("{detail}\n\nThis hard-mandatory rule cannot be overridden. {}", exception_hint(r, ctx)),
            ),
        },
        Status::Warn => Diagnostic::warning(summary, detail),
        Status::Unknown => Diagnostic::warning(
            summary,
            format!("{detail}\n\nThe outcome depends on a value known only after apply; it is checked again then."),
        ),
        Status::Exempted => {
            let what = match &r.exception {
                Some(e) => format!("exception {} (owner {}, ticket {}) until {}", e.id, e.owner, e.ticket, e.expires),
                None => "an approved exception".to_string(),
            };
            Diagnostic::warning(summary, format!("{detail}\n\nAllowed by {what}. Fix it before the exception expires."))
        }
        Status::Overridden => {
            let who = match &r.override_ {
                Some(o) => format!(" by {} (reason: {})", o.by, o.reason),
                None => String::new(),
            };
            Diagnostic::warning(
                format!("{summary} (overridden)"),
                format!("{detail}\n\nOverridden for this run{who}; the override is recorded in the audit log."),
            )
        }
        // Set only by `dbpolicy check --skip-rule/--baseline`; the provider asks for neither, but says so if seen.
        Status::Skipped | Status::Baselined => Diagnostic::warning(
            format!("{summary} ({})", r.status.as_str()),
            format!("{detail}\n\nNot counted for this run: {} by the caller.", r.status.as_str()),
        ),
        Status::Pass => return None,
    };
    Some(match path {
        Some(p) => diag.at(p),
        None => diag,
    })
}

/// The `policy_decision` attribute: decision id, outcome and counts.
pub fn summary_value(decision: &Decision) -> Value {
    let s = &decision.summary;
    let mut m = BTreeMap::new();
    m.insert(
        "decision_id".to_string(),
        Value::string(&decision.decision_id),
    );
    m.insert(
        "outcome".to_string(),
        Value::string(format!("{:?}", decision.outcome).to_lowercase()),
    );
    for (k, v) in [
        ("pass", s.pass),
        ("fail", s.fail),
        ("warn", s.warn),
        ("unknown", s.unknown),
        ("exempted", s.exempted),
    ] {
        m.insert(k.to_string(), Value::string(v.to_string()));
    }
    Value::Map(m)
}

/// The `policy_decision` value as private plan data (JSON), carried from the final plan to apply.
pub fn summary_private(decision: &Decision) -> Vec<u8> {
    summary_value(decision)
        .to_json()
        .map(|j| j.to_string().into_bytes())
        .unwrap_or_default()
}

/// The `policy_decision` value back from private plan data; null when there is none.
pub fn summary_from_private(private: &[u8]) -> Value {
    match serde_json::from_slice::<BTreeMap<String, String>>(private) {
        Ok(m) => Value::Map(m.into_iter().map(|(k, v)| (k, Value::string(v))).collect()),
        Err(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> HintContext {
        HintContext {
            today: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
            tier: "tier-2".into(),
            max_days: 90,
        }
    }

    #[test]
    fn blocking_findings_carry_a_ready_to_paste_exception() {
        let text = format!("{:?}", diagnostics(&decision("unused"), &ctx()));
        assert!(
            text.contains("resource: 'dbplatform_database \\\"legacy\\\"'")
                && text.contains("expires: 2027-03-04"),
            "{text}"
        );
        let entry = exception_entry(
            "DBP-BAK-001",
            "dbplatform_database \"legacy\"",
            ctx().today,
            90,
        );
        // As pasted, the entry is not an approval: its placeholders are refused until filled in.
        let unfilled = policy::model::exception::ExceptionsFile::parse(&entry, "e.yaml", false)
            .unwrap_err()
            .to_string();
        assert!(
            unfilled.contains("still holds the placeholder"),
            "{unfilled}"
        );
        let entry = entry
            .replace("<team>", "payments")
            .replace("<why>", "legacy backups")
            .replace("<ticket>", "OPS-9")
            .replace("<approver>", "cso");
        let parsed =
            policy::model::exception::ExceptionsFile::parse(&entry, "e.yaml", false).unwrap();
        assert_eq!(parsed[0].id, "EXC-DBP-BAK-001-legacy");
        assert!(parsed[0].matches("DBP-BAK-001", "dbplatform_database \"legacy\""));
    }

    fn decision(exception_status: &str) -> Decision {
        serde_json::from_value(serde_json::json!({
            "schema": "dbplatform.decision/v1",
            "decision_id": "d",
            "timestamp": "2026-11-25T00:00:00Z",
            "bundle_hash": "h",
            "rules": [],
            "results": [{
                "rule_id": "DBP-DEL-002", "title": "Final snapshot", "severity": "high",
                "enforcement": "soft-mandatory", "status": "fail", "address": "dbplatform_database \"legacy\"",
                "path": "", "message": "no final snapshot", "remediation": "", "references": {}
            }],
            "summary": {"resources": 1, "rules": 1, "pass": 0, "fail": 1, "warn": 0, "unknown": 0, "exempted": 0, "overridden": 0},
            "outcome": "fail",
            "exceptions": [{
                "id": "EXC-1", "rule": "DBP-DEL-002", "resource": "dbplatform_database*legacy*",
                "status": exception_status, "detail": "expired on 2026-01-31, not applied to dbplatform_database \"legacy\""
            }]
        }))
        .unwrap_or_else(|e| panic!("test decision: {e}"))
    }

    #[test]
    fn expired_exception_on_a_failing_rule_is_explained() {
        let d = diagnostics(&decision("expired"), &ctx());
        let text = format!("{d:?}");
        assert!(
            text.contains("Policy exception EXC-1 not applied (expired)"),
            "{text}"
        );
        assert!(text.contains("expired on 2026-01-31"), "{text}");
        assert!(text.contains("[DBP-DEL-002] Final snapshot"), "{text}");
    }

    #[test]
    fn unused_exception_is_not_reported() {
        let text = format!("{:?}", diagnostics(&decision("unused"), &ctx()));
        assert!(!text.contains("EXC-1"), "{text}");
    }
}
