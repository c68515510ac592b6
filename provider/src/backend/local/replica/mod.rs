//! Read replicas and failover drills on the local backend, for real: a replica is a PostgreSQL hot standby made
//! with `pg_basebackup` from its source, streaming over TLS as its own replication role through its own physical
//! slot, on its own port, run by its own OS user (as databases are); a drill stops or kills the primary, fences it,
//! promotes the standby, measures, and switches back.
//!
//! Layout of one replica (`<data_dir>/replicas/<name>/`): `metadata.json` (source, port, role, slot, phase),
//! `replication-password` (0600, the provider's only), `pgdata/`, `run/` (socket), `log/server.log`,
//! `server-ca.crt`. Drills keep a journal in `<data_dir>/drills/<database>.json` while they run, so a killed drill
//! is finished (the original topology restored) by the next read or drill of that database or replica.
//!
//! Files: [`meta`] (metadata and paths), [`create`] (named, resumable create steps), [`observe`] (status, lag,
//! import), [`remove`] (destroy), [`standby`] (standby configuration, fencing, promotion, pg_rewind), [`drill`]
//! (the drill), [`probe`] (the write probe), [`switchback`] (restoring the topology, also after a kill),
//! [`journal`].

pub mod create;
pub mod drill;
pub mod journal;
pub mod meta;
pub mod observe;
pub mod probe;
pub mod remove;
pub mod standby;
pub mod switchback;

use async_trait::async_trait;

use super::backend::LocalBackend;
use crate::backend::replica::{
    DrillMode, DrillOutcome, DrillSpec, ReplicaBackend, ReplicaInfo, ReplicaSpec,
};
use crate::backend::BackendError;

#[async_trait]
impl ReplicaBackend for LocalBackend {
    async fn replica_problems(&self, spec: &ReplicaSpec) -> Vec<BackendError> {
        let mut out = Vec::new();
        if !super::validate::valid_identifier(&spec.name) {
            out.push(BackendError::Invalid {
                field: "name".into(),
                message: format!(
                    "{:?} is not a valid replica name: use 1-63 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen and without \"--\"",
                    spec.name
                ),
            });
        }
        if let Some(r) = &spec.region {
            out.push(BackendError::Invalid {
                field: "region".into(),
                message: format!(
                    "the local backend has one region (this machine); remove region = {r:?} or use the aws backend for a cross-region replica"
                ),
            });
        }
        if spec.kms_key_id.is_some() {
            out.push(BackendError::Invalid {
                field: "kms_key_id".into(),
                message: "the local backend does not encrypt storage with KMS keys; remove kms_key_id or use the aws backend".into(),
            });
        }
        out
    }

    async fn create_replica(&self, spec: &ReplicaSpec) -> Result<ReplicaInfo, BackendError> {
        self.create_replica_local(spec).await
    }

    async fn read_replica(
        &self,
        name: &str,
        _region: Option<&str>,
    ) -> Result<Option<ReplicaInfo>, BackendError> {
        self.read_replica_local(name).await
    }

    async fn import_replica(&self, id: &str) -> Result<ReplicaInfo, BackendError> {
        self.import_replica_local(id).await
    }

    async fn update_replica(&self, spec: &ReplicaSpec) -> Result<ReplicaInfo, BackendError> {
        self.update_replica_local(spec).await
    }

    async fn delete_replica(&self, name: &str, _region: Option<&str>) -> Result<(), BackendError> {
        self.delete_replica_local(name).await
    }

    async fn failover_drill(&self, spec: &DrillSpec) -> Result<DrillOutcome, BackendError> {
        match &spec.mode {
            DrillMode::Promote { replica } => self.drill_local(spec, replica).await,
            DrillMode::MultiAz => Err(BackendError::Invalid {
                field: "mode".into(),
                message: "the local backend runs one server per database and has no Multi-AZ standby; set replica_id to a dbplatform_replica of the database instead".into(),
            }),
        }
    }
}
