//! What evidence resources (`dbplatform_restore_test`, `dbplatform_failover_drill`) share: the result is a
//! measurement of a moment, so a plan replaces the resource once the evidence is older than `max_age` or when the
//! last run failed, and a scheduled `terraform apply` keeps the evidence fresh. One place, so both resources age
//! and re-run the same way.

use chrono::{DateTime, Utc};

use crate::framework::access::{get_string, Field};
use crate::framework::duration::parse_duration;
use crate::framework::{
    AttributePath, Diagnostics, Number, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Value,
};

/// Adds an error on `max_age` when it is set and is not a positive duration; `example` is the value the message
/// suggests (e.g. `"24h"`).
pub(crate) fn check_max_age(config: &Value, example: &str, d: &mut Diagnostics) {
    if let Ok(Field::Known(m)) = get_string(config, "max_age") {
        if parse_duration(&m).is_none_or(|x| x.is_zero()) {
            d.error_at(
                AttributePath::attr("max_age"),
                "Invalid max_age",
                format!("{m:?} is not a duration; use e.g. \"{example}\", \"30d\" or \"1h30m\"."),
            );
        }
    }
}

/// When the prior evidence is older than `max_age` or the last run failed, plans a replacement: every attribute
/// in `results` becomes unknown, and a warning says (with `what`, e.g. "Restore test", and `rerun`, what apply
/// will do) why the evidence is stale. Returns whether it planned one.
pub(crate) fn plan_rerun(
    req: &PlanRequest,
    resp: &mut PlanResponse,
    results: &[&str],
    what: &str,
    rerun: &str,
) -> bool {
    let max_age = get_string(&req.config, "max_age")
        .ok()
        .and_then(Field::known)
        .and_then(|m| parse_duration(&m));
    let finished = req
        .prior_state
        .get("finished_at")
        .as_str()
        .and_then(|f| DateTime::parse_from_rfc3339(f).ok())
        .map(|f| f.with_timezone(&Utc));
    let failed = req.prior_state.get("succeeded").as_bool() == Some(false);
    let stale = match (max_age, finished) {
        (Some(age), Some(f)) => {
            Utc::now() - f > chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX)
        }
        _ => false,
    };
    if !(stale || failed) {
        return false;
    }
    for a in results {
        resp.planned.set(a, Value::Unknown);
    }
    resp.requires_replace
        .push(AttributePath::attr("finished_at"));
    if stale {
        resp.diagnostics.warning_at(
            AttributePath::attr("max_age"),
            format!("{what} evidence is older than max_age"),
            format!(
                "The last run finished at {}; {rerun}",
                req.prior_state.get("finished_at").as_str().unwrap_or("?")
            ),
        );
    }
    true
}

/// Seconds as a state number with millisecond precision (null for a value that is not finite).
pub(crate) fn seconds(f: f64) -> Value {
    Number::parse(&format!("{f:.3}"))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Refresh of evidence: a measurement of a moment has nothing to re-read, so the state stays as recorded.
pub(crate) fn read_unchanged(req: ReadRequest) -> ReadResponse {
    ReadResponse {
        new_state: req.current,
        private: req.private,
        diagnostics: Diagnostics::new(),
    }
}
