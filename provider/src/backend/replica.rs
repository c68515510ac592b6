//! Read replicas and failover drills behind one neutral trait, so `dbplatform_replica` and
//! `dbplatform_failover_drill` never name a backend. A backend offers them through
//! [`super::DatabaseBackend::replicas`]; one without them answers `None` and the resources say so at plan time.
//!
//! Locally a replica is a real PostgreSQL hot standby streaming over TLS, and a drill really stops (or kills) the
//! primary and promotes it; on RDS the same calls become `CreateDBInstanceReadReplica`, `PromoteReadReplica` and
//! `RebootDBInstance(ForceFailover)`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::BackendError;
use super::instance::OpTimeouts;

/// What a `dbplatform_replica` asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaSpec {
    /// The replica's own name (an instance identifier on RDS, a directory name locally).
    pub name: String,
    /// The source `dbplatform_database`'s id.
    pub source: String,
    pub instance_class: String,
    /// Target region of a cross-region replica (aws); `None`: the source's region.
    pub region: Option<String>,
    /// KMS key in the target region for an encrypted cross-region replica (aws).
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub deletion_protection: bool,
    #[serde(skip)]
    pub timeouts: OpTimeouts,
}

/// A replica as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaInfo {
    pub id: String,
    pub source: String,
    pub endpoint: String,
    pub port: u16,
    /// libpq URI without a password (the source's master user, read-only).
    pub connection_string: String,
    /// `streaming`, `stopped`, `broken` (running but not replicating), `promoted` (writable since a drill that
    /// kept it promoted), `creating`, or the service's own status (aws).
    pub status: String,
    /// Seconds the replica's data is behind its source, when it can be measured.
    pub replication_lag_seconds: Option<f64>,
    /// Whether the replication connection uses TLS, when the backend can tell.
    pub replication_tls: Option<bool>,
    pub instance_class: String,
    pub region: Option<String>,
    /// The storage encryption key (aws), for import.
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub deletion_protection: bool,
    /// Why the replica is not streaming, in words (status other than `streaming`).
    pub problem: Option<String>,
}

/// How the primary is failed in a drill (local backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A clean, fast shutdown (`pg_ctl stop -m fast`).
    Stop,
    /// SIGKILL to every server process, as a power loss or OOM kill would.
    Crash,
}

impl FailureKind {
    /// The text of the `failure` argument.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Stop => "stop",
            FailureKind::Crash => "crash",
        }
    }
}

/// What a drill does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillMode {
    /// Promote a replica (local and aws).
    Promote { replica: String },
    /// Reboot a Multi-AZ instance with failover (aws).
    MultiAz,
}

/// One drill request.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillSpec {
    pub database: String,
    pub mode: DrillMode,
    pub failure: FailureKind,
    /// Write a probe row continuously before and during the drill (RPO and rows lost are measured from it).
    pub write_probe: bool,
    /// Leave the promoted replica as the primary (the old primary becomes its standby) instead of switching back.
    pub keep_promoted: bool,
}

/// One thing a drill did, with when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillStep {
    pub at: DateTime<Utc>,
    pub what: String,
}

/// The evidence of one drill.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DrillOutcome {
    pub started_at: Option<DateTime<Utc>>,
    /// From the primary's stop to the first committed write on the new primary.
    pub rto_seconds: Option<f64>,
    /// Commit-time span of probe rows committed on the old primary but absent after promotion (0: none lost).
    pub rpo_seconds: Option<f64>,
    pub rows_lost: Option<u64>,
    /// Probe rows acknowledged on the old primary before it failed.
    pub rows_before: Option<u64>,
    /// Where writes go after the drill (the original primary unless `keep_promoted`).
    pub new_primary_endpoint: String,
    pub steps: Vec<DrillStep>,
    /// Whether the original topology (writes to the primary, the replica streaming) is back.
    pub topology_restored: bool,
    /// Whether the drill ran against an emulator that accepts the calls and changes nothing (aws on moto):
    /// the figures then measure the API round trips, not a failover.
    pub simulated: bool,
    /// What went wrong, when the drill could not complete.
    pub error: Option<String>,
}

/// Replicas and drills on one backend.
#[async_trait]
pub trait ReplicaBackend: Send + Sync {
    /// Problems of a replica spec found without side effects (plan time): naming, regions, encryption keys.
    async fn replica_problems(&self, spec: &ReplicaSpec) -> Vec<BackendError>;
    /// Creates a replica of `spec.source` and waits until it replicates.
    async fn create_replica(&self, spec: &ReplicaSpec) -> Result<ReplicaInfo, BackendError>;
    /// The replica as it is now (in `region` when it is a cross-region one); `None` when it no longer exists.
    async fn read_replica(
        &self,
        name: &str,
        region: Option<&str>,
    ) -> Result<Option<ReplicaInfo>, BackendError>;
    /// Adopts an existing replica (terraform import of `NAME`, or `REGION/NAME` for a cross-region one on aws);
    /// an error naming what is missing otherwise.
    async fn import_replica(&self, id: &str) -> Result<ReplicaInfo, BackendError>;
    /// Applies in-place changes (tags, deletion protection, class) and restarts a stopped replica.
    async fn update_replica(&self, spec: &ReplicaSpec) -> Result<ReplicaInfo, BackendError>;
    /// Deletes a replica (refused under deletion protection, and while it is a promoted primary).
    async fn delete_replica(&self, name: &str, region: Option<&str>) -> Result<(), BackendError>;
    /// Runs a failover drill and reports its evidence; `Err` only when nothing was done.
    async fn failover_drill(&self, spec: &DrillSpec) -> Result<DrillOutcome, BackendError>;
}
