//! The audit record of a failover drill (`kind = "failover_drill"`), beside restore tests in the same log: what
//! was failed and how, the measured RTO and RPO against the objectives, and whether the topology came back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::record::SourceInfo;

/// One failover drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailoverDrillRecord {
    /// The drilled database (identifier).
    pub database: String,
    /// The replica promoted, for replica drills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
    /// `replica` or `multi_az`.
    pub mode: String,
    /// `stop` or `crash` (local), `reboot_failover` / `promote` (aws).
    pub failure: String,
    /// The drill completed, within its objectives, with the topology as asked.
    pub succeeded: bool,
    /// Seconds from the primary's stop to the first committed write on the new primary (rounded to ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<f64>,
    /// Commit-time span of the probe rows lost (rounded to ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_lost: Option<u64>,
    /// The objectives the figures were held against (the tier's unless set on the drill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rto_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rpo_seconds: Option<f64>,
    pub topology_restored: bool,
    /// The backend accepted the calls without failing anything over (an API emulator): the figures are not a
    /// failover's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
}

#[cfg(test)]
mod tests {
    use super::super::record::RecordBody;
    use super::*;

    #[test]
    fn a_drill_is_its_own_kind_of_record() {
        let body = RecordBody::FailoverDrill(FailoverDrillRecord {
            database: "orders".into(),
            replica: Some("orders-ro".into()),
            mode: "replica".into(),
            failure: "crash".into(),
            succeeded: true,
            rto_seconds: Some(1.25),
            rpo_seconds: Some(0.0),
            rows_lost: Some(0),
            max_rto_seconds: Some(14400.0),
            max_rpo_seconds: Some(3600.0),
            topology_restored: true,
            simulated: false,
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:09Z".into(),
            error: None,
            source: None,
        });
        assert_eq!(body.kind(), "failover_drill");
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["kind"], "failover_drill");
        assert!(v.get("simulated").is_none(), "false is left out: {v}");
        let back: RecordBody = serde_json::from_value(v).unwrap();
        assert_eq!(back, body);
    }
}
