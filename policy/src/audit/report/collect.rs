//! The report's figures from the log's records: one pass over the records within the filter's time window.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::data::{
    ChainStatus, DayCount, ExceptionRow, Kpis, OverrideRow, ReportData, RestoreRow, RestoreStats,
};
use crate::audit::query::{Filter, StoredRecord};
use crate::audit::verify::VerifyReport;

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
        failover_drills: super::drills::collect(
            records
                .iter()
                .filter(|r| filter.matches(r))
                .map(|r| &r.value),
        ),
        access: super::access::collect(
            records
                .iter()
                .filter(|r| filter.matches(r))
                .map(|r| &r.value),
        ),
        repairs,
    }
}
