//! What an audit report shows, computed once by [`super::collect::build`] and printed by every format (the JSON
//! format is these types serialized).

use std::collections::BTreeMap;

use serde::Serialize;

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
    /// Failover drills (last per database, pass rate), beside restore tests.
    pub failover_drills: super::drills::DrillReport,
    /// Break-glass access (grants, renewals, revocations), for access reviews.
    pub access: super::access::AccessReport,
    pub repairs: u64,
}
