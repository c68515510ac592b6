//! The audit record: one JSON line per event, with `seq`, `prev_hash`, `hash` and an optional signature.
//!
//! Field names follow OPA decision logs where they overlap (`decision_id`, `timestamp`, `bundles`, `result`).
//! Records never hold input values: only hashes of the input and what the rules concluded.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Schema tag written into every record.
pub const RECORD_SCHEMA: &str = "dbplatform.audit-record/v1";

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Record {
    /// Always `dbplatform.audit-record/v1`.
    pub schema: String,
    /// Monotonic sequence number, 1 for the first record of the chain, +1 per record across rotated files.
    pub seq: u64,
    /// When the record was appended, RFC 3339 UTC.
    pub timestamp: String,
    /// `hash` of the record with `seq - 1`; null only for the first record of the chain.
    pub prev_hash: Option<String>,
    /// What happened (`kind` tells which).
    #[serde(flatten)]
    pub body: RecordBody,
    /// `sha256:` + hex of sha256 over the RFC 8785 (JCS) form of this record without `hash` and `sig`.
    pub hash: String,
    /// Ed25519 signature over the same canonical bytes, when the writer has a signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<Signature>,
}

/// An Ed25519 signature of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Signature {
    /// Always `ed25519`.
    pub alg: String,
    /// First 16 hex digits of sha256 over the raw 32-byte public key: tells which key signed.
    pub key_id: String,
    /// Base64 (standard, padded) of the 64-byte signature.
    pub value: String,
}

/// The kinds of records, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordBody {
    /// A policy evaluation (provider plan time or `dbpolicy check`).
    Decision(Box<DecisionRecord>),
    /// A restore test of a database backup.
    RestoreTest(RestoreTestRecord),
    /// The result of applying one change (for the change failure rate).
    Apply(ApplyRecord),
    /// `dbpolicy audit repair` moved a torn tail away.
    Repair(RepairRecord),
    /// A failover drill (RTO/RPO evidence), beside restore tests.
    FailoverDrill(FailoverDrillRecord),
    /// A break-glass grant, renewal or revocation (access review evidence).
    BreakGlass(BreakGlassRecord),
    /// A rotation of a database's master password.
    PasswordRotation(PasswordRotationRecord),
}

impl RecordBody {
    /// The `kind` string of this body.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordBody::Decision(_) => "decision",
            RecordBody::RestoreTest(_) => "restore_test",
            RecordBody::Apply(_) => "apply",
            RecordBody::Repair(_) => "repair",
            RecordBody::FailoverDrill(_) => "failover_drill",
            RecordBody::BreakGlass(_) => "break_glass",
            RecordBody::PasswordRotation(_) => "password_rotation",
        }
    }
}

/// Who produced a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceInfo {
    /// `cli` or `provider`.
    pub kind: String,
    /// Version of the producing program.
    pub version: String,
}

/// Terraform context of a decision, where known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TerraformInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A policy bundle as OPA names it in decision logs (`bundles.NAME.revision`), plus its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BundleInfo {
    /// The bundle content hash (`bundle_hash` of the decision).
    pub revision: String,
    /// Rule ids with their versions.
    #[serde(default)]
    pub rules: Vec<RuleRef>,
}

/// A rule id with its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RuleRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A policy evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionRecord {
    /// The decision's id (same as in the decision document).
    pub decision_id: String,
    /// When the decision was evaluated ("now" of the engine), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_at: Option<String>,
    pub source: SourceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform: Option<TerraformInfo>,
    /// `sha256:` + hex over the JCS form of the normalized input (never the input itself).
    pub input_sha256: String,
    /// Bundles by name (`dbplatform` for the embedded one).
    pub bundles: BTreeMap<String, BundleInfo>,
    /// Per-resource results.
    pub result: DecisionResult,
    /// Exceptions that exempted a result.
    #[serde(default)]
    pub exceptions: Vec<ExceptionUse>,
    /// Soft-mandatory overrides that were applied.
    #[serde(default)]
    pub overrides: Vec<OverrideUse>,
    /// `pass` or `fail`.
    pub outcome: String,
    /// CI flags the caller gave (`--soft-fail`, `--skip-rule`, `--baseline` with the file's hash and counts),
    /// as in the decision's `ci` field; absent when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<crate::model::decision::CiFlags>,
}

/// What the rules concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionResult {
    /// Counts by status (`pass`, `fail`, ...), and `resources`.
    #[serde(default)]
    pub summary: BTreeMap<String, u64>,
    pub resources: Vec<ResourceResult>,
}

/// Results for one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceResult {
    /// Terraform resource address.
    pub address: String,
    /// Status per rule id.
    pub rules: BTreeMap<String, String>,
    /// Details of every result that is not `pass`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// A non-passing result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub rule_id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// An exception that was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExceptionUse {
    pub id: String,
    pub rule_id: String,
    pub address: String,
    pub owner: String,
    pub ticket: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub approved_by: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub expires: String,
}

/// An override that was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OverrideUse {
    pub rule_id: String,
    pub address: String,
    pub reason: String,
    pub by: String,
}

/// A restore test of a database backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RestoreTestRecord {
    /// Database (resource address or identifier).
    pub database: String,
    pub succeeded: bool,
    /// Wall time of the restore in seconds, rounded to milliseconds.
    pub restore_seconds: f64,
    /// The point in time the restore reached, RFC 3339, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<String>,
    /// Number of verification queries that matched between source and restore.
    pub checked_queries: u64,
    /// RFC 3339.
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
}

/// A failover drill (`kind = "failover_drill"`), beside restore tests in the same log: what was failed and how,
/// the measured RTO and RPO against the objectives, and whether the topology came back.
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

/// A break-glass event (`kind = "break_glass"`): a named person given a role for a bounded time, the window
/// renewed, or the access revoked. Auditors read who had what, since when, until when, approved by whom, on which
/// ticket, and when it was taken away (`dbpolicy audit report --section access`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BreakGlassRecord {
    /// `grant`, `renew` or `revoke`.
    pub event: String,
    /// The database (identifier).
    pub database: String,
    /// The person given access, as configured (`alice@example.com`).
    pub person: String,
    /// The database login made for the person.
    pub username: String,
    /// The role granted.
    pub role: String,
    /// The template of the role when a `dbplatform_role` made it (`readonly` ...); absent for other roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_template: Option<String>,
    pub reason: String,
    pub ticket: String,
    pub approved_by: String,
    /// The approved time to live, in seconds.
    pub ttl_seconds: u64,
    /// Start of the window (grant or renewal), RFC 3339.
    pub granted_at: String,
    /// When the database stops accepting the login (`VALID UNTIL`), RFC 3339.
    pub expires_at: String,
    /// When the access was taken away (revoke events), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
}

/// A master password rotation (`kind = "password_rotation"`): when the password of a database's master user was
/// replaced, and how old the one it replaced was, so a review can show rotation kept to its schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PasswordRotationRecord {
    /// The database (identifier).
    pub database: String,
    /// The master user whose password was replaced.
    pub username: String,
    /// When the new password was set, RFC 3339.
    pub rotated_at: String,
    /// When the password it replaced was set, RFC 3339, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_rotated_at: Option<String>,
    /// The rotation period the database asked for (`master_password_rotation_days`).
    pub max_age_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
}

/// The result of applying one planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApplyRecord {
    pub address: String,
    /// create | update | replace | delete
    pub action: String,
    pub succeeded: bool,
    /// RFC 3339.
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
}

/// A repair of a torn tail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RepairRecord {
    /// The file the torn bytes were moved to.
    pub torn_file: String,
    pub torn_bytes: u64,
    /// `sha256:` + hex of the torn bytes.
    pub torn_sha256: String,
    /// Who ran the repair (`$USER`), when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
}

/// Rounds seconds to milliseconds so that the number survives any JSON parser unchanged (stable hashes).
pub fn round_seconds(s: f64) -> f64 {
    if s.is_finite() {
        (s * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_flattened_with_kind_tag() {
        let r = Record {
            schema: RECORD_SCHEMA.into(),
            seq: 1,
            timestamp: "2026-01-01T00:00:00Z".into(),
            prev_hash: None,
            body: RecordBody::Apply(ApplyRecord {
                address: "a.b".into(),
                action: "create".into(),
                succeeded: true,
                finished_at: "2026-01-01T00:00:00Z".into(),
                error: None,
                decision_id: None,
                source: None,
            }),
            hash: "sha256:00".into(),
            sig: None,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "apply");
        assert_eq!(v["address"], "a.b");
        let back: Record = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn seconds_are_rounded_to_millis() {
        assert_eq!(round_seconds(9.01234), 9.012);
        assert_eq!(round_seconds(f64::NAN), 0.0);
    }

    #[test]
    fn a_break_glass_event_is_its_own_kind_of_record() {
        let body = RecordBody::BreakGlass(BreakGlassRecord {
            event: "grant".into(),
            database: "orders".into(),
            person: "alice@example.com".into(),
            username: "bg_alice_example_com_0a1b2c3d".into(),
            role: "orders_rw".into(),
            role_template: Some("readwrite".into()),
            reason: "INC-42 stuck batch".into(),
            ticket: "INC-42".into(),
            approved_by: "bob@example.com".into(),
            ttl_seconds: 3600,
            granted_at: "2026-01-01T00:00:00Z".into(),
            expires_at: "2026-01-01T01:00:00Z".into(),
            revoked_at: None,
            source: None,
        });
        assert_eq!(body.kind(), "break_glass");
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["kind"], "break_glass");
        assert_eq!(v["approved_by"], "bob@example.com");
        assert!(v.get("revoked_at").is_none(), "absent until revoked: {v}");
        let back: RecordBody = serde_json::from_value(v).unwrap();
        assert_eq!(back, body);
    }

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
