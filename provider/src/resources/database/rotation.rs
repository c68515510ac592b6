//! Master password rotation of `dbplatform_database`: `master_password_rotation_days` (the tier's
//! `master_password_rotation_days` unless configured) and `master_password_rotated_at` (read from the backend at
//! every refresh). When the password is older than the period, the plan shows `master_password_rotated_at` as
//! known after apply, and apply rotates it through [`crate::backend::DatabaseBackend::rotate_master_password`]
//! (local: a new random password for the master user and in its 0600 file) and records it in the audit log.

use chrono::{DateTime, SecondsFormat, Utc};
use policy::audit::{PasswordRotationRecord, RecordBody, SourceInfo};
use policy::model::tiers::Tier;

use crate::backend::DatabaseInfo;
use crate::framework::Value;

/// The attribute holding the period, in days.
pub const DAYS: &str = "master_password_rotation_days";
/// The attribute holding when the password was last set.
pub const ROTATED_AT: &str = "master_password_rotated_at";

/// RFC 3339 in whole seconds, as state shows it.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The state value of when the password was last set.
pub fn rotated_at_value(info: &DatabaseInfo) -> Value {
    info.master_password_rotated_at
        .map_or(Value::Null, |t| Value::string(ts(t)))
}

/// The period a database gets when its configuration sets none: its tier's.
pub fn default_days(tier: &Tier) -> Value {
    tier.master_password_rotation_days
        .map_or(Value::Null, |d| Value::int(i64::from(d)))
}

/// When `rotated_at` (RFC 3339) is older than `days` at `now`.
pub fn is_due(rotated_at: &Value, days: &Value, now: DateTime<Utc>) -> bool {
    let (Some(at), Some(days)) = (
        rotated_at
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
        days.as_i64().filter(|d| *d > 0),
    ) else {
        return false;
    };
    at.with_timezone(&Utc) + chrono::Duration::days(days) <= now
}

/// The planned `master_password_rotated_at`: unknown on create and when a rotation is due (apply sets it), else
/// the prior value.
pub fn planned_rotated_at(prior: &Value, days: &Value, now: DateTime<Utc>) -> Value {
    if prior.is_null() {
        return Value::Unknown;
    }
    let at = prior.get(ROTATED_AT);
    if is_due(at, days, now) {
        Value::Unknown
    } else {
        at.clone()
    }
}

/// The error of a configured period out of range (1 to 3650 days), on its attribute.
pub fn check(config: &Value) -> Option<crate::framework::Diagnostic> {
    let d = config.get(DAYS).as_i64()?;
    (!(1..=3650).contains(&d)).then(|| {
        crate::framework::Diagnostic::error(
            "Invalid master_password_rotation_days",
            format!("{d} is not a rotation period; use 1 to 3650 days, or leave it unset for the tier's."),
        )
        .at(crate::framework::AttributePath::attr(DAYS))
    })
}

/// Whether an apply is to rotate: an update whose plan left `master_password_rotated_at` to apply.
pub fn wanted(prior: &Value, planned: &Value) -> bool {
    !prior.is_null() && planned.get(ROTATED_AT).is_unknown()
}

/// The audit record of a rotation.
pub fn record(prior: &Value, info: &DatabaseInfo) -> RecordBody {
    RecordBody::PasswordRotation(PasswordRotationRecord {
        database: info.id.clone(),
        username: info.spec.master_username.clone(),
        rotated_at: info
            .master_password_rotated_at
            .map(ts)
            .unwrap_or_else(|| ts(Utc::now())),
        previous_rotated_at: prior.get(ROTATED_AT).as_str().map(str::to_string),
        max_age_days: prior
            .get(DAYS)
            .as_i64()
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(0),
        source: Some(SourceInfo {
            kind: "provider".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_rotation_is_planned_once_the_password_is_older_than_the_period() {
        let now = at("2026-03-01T00:00:00Z");
        let prior = Value::object([
            (ROTATED_AT, Value::string("2026-01-01T00:00:00Z")),
            (DAYS, Value::int(90)),
        ]);
        assert_eq!(
            planned_rotated_at(&prior, &Value::int(90), now),
            Value::string("2026-01-01T00:00:00Z")
        );
        assert!(planned_rotated_at(&prior, &Value::int(30), now).is_unknown());
        assert!(planned_rotated_at(&Value::Null, &Value::int(30), now).is_unknown());
        // No period, or an age the backend cannot tell (aws): never due.
        assert!(!is_due(prior.get(ROTATED_AT), &Value::Null, now));
        assert!(!is_due(&Value::Null, &Value::int(1), now));
        assert!(wanted(
            &prior,
            &Value::object([(ROTATED_AT, Value::Unknown)])
        ));
        assert!(!wanted(
            &Value::Null,
            &Value::object([(ROTATED_AT, Value::Unknown)])
        ));
    }
}
