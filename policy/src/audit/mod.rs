//! Tamper-evident decision log.
//!
//! Every policy evaluation (CLI or provider), every restore test and every apply outcome becomes one JSON line in an
//! append-only log. Each record carries a monotonic `seq`, the `prev_hash` of the record before it and its own
//! `hash` (sha256 over the RFC 8785 canonical JSON of the record without `hash` and `sig`), optionally signed with
//! Ed25519. `verify` walks the chain across rotated files and names the first damaged line and the kind of damage.
//!
//! Entry points for other code:
//! - [`AuditLog`]: open a log and [`AuditLog::append`] a [`RecordBody`] (exclusive file lock, fsync, rotation).
//! - [`decision_record`] / [`DecisionMeta`]: turn a `dbplatform.decision/v1` document into a record body (used by
//!   [`crate::gate::decide`], the only place decisions are recorded).
//! - [`verify_log`]: check a log; [`record_schema`]: JSON Schema of a record; [`cli::AuditCommand`] / [`cli::run`].

pub mod cli;
pub mod config;
pub mod decision;
pub mod error;
pub mod hashing;
pub mod keys;
pub mod log;
pub mod pg;
pub mod query;
pub mod record;
pub mod report;
pub mod verify;

pub use config::AuditConfig;
pub use decision::{decision_record, input_sha256, DecisionMeta};
pub use error::AuditError;
pub use log::{AppendedRecord, AuditLog};
pub use record::{
    ApplyRecord, BreakGlassRecord, DecisionRecord, FailoverDrillRecord, PasswordRotationRecord,
    Record, RecordBody, RepairRecord, RestoreTestRecord, SourceInfo, RECORD_SCHEMA,
};
pub use verify::{verify_log, Damage, DamageKind, VerifyOptions, VerifyReport};

/// The JSON Schema of one audit record (for `dbpolicy schema audit-record`).
pub fn record_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Record)).unwrap_or(serde_json::Value::Null)
}
