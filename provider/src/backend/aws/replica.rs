//! Read replicas and failover drills on RDS: `CreateDBInstanceReadReplica` (same region, or another region through
//! a client for that region with the source's ARN), the waiter, import, `DeleteDBInstance`; drills are
//! `PromoteReadReplica` or `RebootDBInstance(ForceFailover)`, timed from the call until the instance is available.
//!
//! What is checked before any call: an encrypted source replicated into another region needs a KMS key of that
//! region (`kms_key_id`); RDS refuses such a replica, the API emulator accepts it, so our check must.
//!
//! The emulator (moto) accepts a promotion and a forced failover and changes nothing: a drill says so (`simulated`)
//! when the evidence shows it (the promoted replica still names its source; the instance is in the same zone
//! after a failover), instead of reporting an emulated figure as a failover time.

use std::collections::BTreeMap;
use std::time::Instant;

use async_trait::async_trait;
use aws_sdk_rds::types::{DbInstance, Tag};
use chrono::Utc;

use super::client::AwsBackend;
use super::error::ApiFailure;
use super::spec::{valid_instance_identifier, MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
use crate::backend::replica::{
    DrillMode, DrillOutcome, DrillSpec, DrillStep, ReplicaBackend, ReplicaInfo, ReplicaSpec,
};
use crate::backend::BackendError;

/// Tag naming the source database of a replica.
const SOURCE_TAG_KEY: &str = "dbplatform:replica-of";

fn invalid(field: &str, message: String) -> BackendError {
    BackendError::Invalid {
        field: field.into(),
        message,
    }
}

/// The region of a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`), `None` for key ids and aliases.
fn key_region(key: &str) -> Option<&str> {
    let mut parts = key.split(':');
    (parts.next() == Some("arn") && parts.nth(1) == Some("kms"))
        .then(|| parts.next())
        .flatten()
}

/// The encryption problem of a cross-region replica, if any (`source_encrypted`: `None` when the source does not
/// exist yet: golden-path databases on aws are encrypted, so it counts as encrypted).
pub(super) fn cross_region_key_problem(
    spec: &ReplicaSpec,
    own_region: &str,
    source_encrypted: Option<bool>,
) -> Option<BackendError> {
    let target = spec.region.as_deref().filter(|r| *r != own_region)?;
    match &spec.kms_key_id {
        None if source_encrypted != Some(false) => Some(invalid(
            "kms_key_id",
            format!(
                "the source database {:?} is encrypted{} and KMS keys are regional, so a replica in {target} needs a key of {target}: set kms_key_id to a KMS key ARN in {target} (RDS refuses the replica without one)",
                spec.source,
                if source_encrypted.is_none() { " (golden-path databases on aws always are)" } else { "" }
            ),
        )),
        Some(k) => match key_region(k) {
            Some(r) if r != target => Some(invalid(
                "kms_key_id",
                format!("kms_key_id {k:?} is a key of {r}, but the replica is in {target}: use a KMS key of {target}"),
            )),
            _ => None,
        },
        None => None,
    }
}

impl AwsBackend {
    fn own_region(&self) -> String {
        self.client
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default()
    }

    /// This backend, or one whose client talks to `region`.
    fn in_region(&self, region: Option<&str>) -> AwsBackend {
        match region {
            Some(r) if r != self.own_region() => {
                let conf = self
                    .client
                    .config()
                    .to_builder()
                    .region(aws_sdk_rds::config::Region::new(r.to_string()))
                    .build();
                AwsBackend {
                    client: aws_sdk_rds::Client::from_conf(conf),
                    ..self.clone()
                }
            }
            _ => self.clone(),
        }
    }

    fn replica_info_of(&self, db: &DbInstance, region: Option<&str>) -> ReplicaInfo {
        let mut tags = super::observe::tag_map(db.tag_list());
        tags.retain(|k, _| !k.starts_with("dbplatform:"));
        let source = db
            .read_replica_source_db_instance_identifier()
            .map(|s| s.rsplit(':').next().unwrap_or(s).to_string())
            .or_else(|| {
                db.tag_list()
                    .iter()
                    .find(|t| t.key() == Some(SOURCE_TAG_KEY))
                    .and_then(|t| t.value().map(str::to_string))
            })
            .unwrap_or_default();
        let endpoint = db
            .endpoint()
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_string();
        let port = db
            .endpoint()
            .and_then(|e| e.port())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(5432);
        let status = db.db_instance_status().unwrap_or("unknown").to_string();
        let engine = db.engine().unwrap_or("postgres");
        let user = db.master_username().unwrap_or("postgres");
        let dbname = db.db_name().unwrap_or("postgres");
        ReplicaInfo {
            id: db.db_instance_identifier().unwrap_or_default().to_string(),
            problem: (db.read_replica_source_db_instance_identifier().is_none())
                .then(|| "the instance is no longer a read replica (promoted)".to_string()),
            source,
            connection_string: super::observe::connection_uri(
                engine, user, &endpoint, port, dbname,
            ),
            endpoint,
            port,
            status,
            // RDS reports lag as the CloudWatch metric ReplicaLag, not through the RDS API.
            replication_lag_seconds: None,
            replication_tls: None,
            instance_class: db.db_instance_class().unwrap_or_default().to_string(),
            region: region.map(str::to_string),
            kms_key_id: db.kms_key_id().map(str::to_string),
            tags,
            deletion_protection: db.deletion_protection().unwrap_or(false),
        }
    }

    /// Makes `target`'s region hold parameter group `name` with the user parameters it has here.
    async fn copy_parameter_group(
        &self,
        target: &AwsBackend,
        name: &str,
        source: &DbInstance,
    ) -> Result<String, BackendError> {
        let info =
            self.read_parameter_group(name)
                .await?
                .ok_or_else(|| BackendError::NotFound {
                    backend: "aws",
                    name: name.to_string(),
                })?;
        let spec = super::parameter_group::ParameterGroupSpec {
            name: name.to_string(),
            family: info.family.clone(),
            engine: source.engine().unwrap_or("postgres").to_string(),
            description: info.description.clone(),
            parameters: info.parameters.clone(),
            tags: info.tags.clone(),
        };
        Ok(target.ensure_parameter_group(&spec).await?.name)
    }

    async fn describe_in(
        &self,
        name: &str,
        region: Option<&str>,
    ) -> Result<Option<DbInstance>, BackendError> {
        self.in_region(region)
            .describe_raw(name)
            .await
            .map_err(|f: ApiFailure| f.into_backend(format!("reading RDS instance {name:?}")))
    }
}

#[async_trait]
impl ReplicaBackend for AwsBackend {
    async fn replica_problems(&self, spec: &ReplicaSpec) -> Vec<BackendError> {
        let mut out = Vec::new();
        if !valid_instance_identifier(&spec.name) {
            out.push(invalid(
                "name",
                format!("{:?} is not a valid RDS instance identifier: 1-63 letters, digits or hyphens, starting with a letter, no \"--\", not ending with a hyphen", spec.name),
            ));
        }
        let encrypted = if spec.source.is_empty() {
            None
        } else {
            match self.describe_raw(&spec.source).await {
                Ok(Some(db)) => db.storage_encrypted(),
                _ => None,
            }
        };
        out.extend(cross_region_key_problem(
            spec,
            &self.own_region(),
            encrypted,
        ));
        out
    }

    async fn create_replica(&self, spec: &ReplicaSpec) -> Result<ReplicaInfo, BackendError> {
        if let Some(e) = self.replica_problems(spec).await.into_iter().next() {
            return Err(e);
        }
        let source = self
            .describe_raw(&spec.source)
            .await
            .map_err(|f| f.into_backend(format!("reading source database {:?}", spec.source)))?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: spec.source.clone(),
            })?;
        let region = spec.region.as_deref().filter(|r| *r != self.own_region());
        let target = self.in_region(region);
        let source_id = match region {
            Some(_) => source.db_instance_arn().unwrap_or(&spec.source).to_string(),
            None => spec.source.clone(),
        };
        let mut tags = spec.tags.clone();
        tags.insert(MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into());
        tags.insert(SOURCE_TAG_KEY.into(), spec.source.clone());
        // Parameter groups are regional: a cross-region replica gets a copy of the source's group in its region
        // (TLS stays forced there), named like the source's.
        let group = match (
            region,
            source
                .db_parameter_groups()
                .first()
                .and_then(|g| g.db_parameter_group_name()),
        ) {
            (Some(_), Some(name)) if !name.starts_with("default.") => {
                Some(self.copy_parameter_group(&target, name, &source).await?)
            }
            _ => None,
        };
        if target
            .describe_raw(&spec.name)
            .await
            .map_err(|f| f.into_backend("reading RDS"))?
            .is_none()
        {
            let mut req = target
                .client
                .create_db_instance_read_replica()
                .db_instance_identifier(&spec.name)
                .source_db_instance_identifier(source_id)
                .db_instance_class(&spec.instance_class)
                .deletion_protection(spec.deletion_protection)
                .set_tags(Some(
                    tags.iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ));
            if let Some(k) = &spec.kms_key_id {
                req = req.kms_key_id(k);
            }
            if let Some(g) = &group {
                req = req.db_parameter_group_name(g);
            }
            req.send().await.map_err(|e| {
                ApiFailure::from_sdk(&e)
                    .into_backend(format!("CreateDBInstanceReadReplica {:?}", spec.name))
            })?;
        }
        crate::fault_points::reached("aws.replica.requested");
        let policy = match spec.timeouts.create {
            Some(t) => self.timeouts.create.with_timeout(t),
            None => self.timeouts.create,
        };
        let db =
            target
                .wait_ready(&spec.name, &policy)
                .await
                .map_err(|e| BackendError::Command {
                    what: format!("waiting for replica {:?} to become available", spec.name),
                    status: "not available".into(),
                    output: e.to_string(),
                })?;
        Ok(self.replica_info_of(&db, region))
    }

    async fn read_replica(
        &self,
        name: &str,
        region: Option<&str>,
    ) -> Result<Option<ReplicaInfo>, BackendError> {
        let region = region.filter(|r| *r != self.own_region());
        Ok(self
            .describe_in(name, region)
            .await?
            .map(|db| self.replica_info_of(&db, region)))
    }

    async fn import_replica(&self, id: &str) -> Result<ReplicaInfo, BackendError> {
        let (region, name) = match id.split_once('/') {
            Some((r, n)) => (Some(r), n),
            None => (None, id),
        };
        let region = region.filter(|r| *r != self.own_region());
        let db = self
            .describe_in(name, region)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })?;
        if db.read_replica_source_db_instance_identifier().is_none() {
            return Err(invalid(
                "name",
                format!("RDS instance {name:?} is not a read replica; import it as a dbplatform_database instead"),
            ));
        }
        Ok(self.replica_info_of(&db, region))
    }

    async fn update_replica(&self, spec: &ReplicaSpec) -> Result<ReplicaInfo, BackendError> {
        let region = spec.region.as_deref().filter(|r| *r != self.own_region());
        let target = self.in_region(region);
        target
            .client
            .modify_db_instance()
            .db_instance_identifier(&spec.name)
            .db_instance_class(&spec.instance_class)
            .deletion_protection(spec.deletion_protection)
            .apply_immediately(true)
            .send()
            .await
            .map_err(|e| {
                ApiFailure::from_sdk(&e).into_backend(format!("ModifyDBInstance {:?}", spec.name))
            })?;
        let db = target
            .describe_raw(&spec.name)
            .await
            .map_err(|f| f.into_backend("reading RDS"))?;
        let db = db.ok_or_else(|| BackendError::NotFound {
            backend: "aws",
            name: spec.name.clone(),
        })?;
        if let Some(arn) = db.db_instance_arn() {
            let mut tags = spec.tags.clone();
            tags.insert(MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into());
            tags.insert(SOURCE_TAG_KEY.into(), spec.source.clone());
            let have: BTreeMap<String, String> = super::observe::tag_map(db.tag_list());
            target.sync_tags(arn, &have, &tags).await?;
        }
        let db = target
            .describe_raw(&spec.name)
            .await
            .map_err(|f| f.into_backend("reading RDS"))?;
        let db = db.ok_or_else(|| BackendError::NotFound {
            backend: "aws",
            name: spec.name.clone(),
        })?;
        Ok(self.replica_info_of(&db, region))
    }

    async fn delete_replica(&self, name: &str, region: Option<&str>) -> Result<(), BackendError> {
        let region = region.filter(|r| *r != self.own_region());
        let target = self.in_region(region);
        let Some(db) = target
            .describe_raw(name)
            .await
            .map_err(|f| f.into_backend("reading RDS"))?
        else {
            return Ok(());
        };
        if db.deletion_protection() == Some(true) {
            return Err(BackendError::DeletionProtected {
                name: name.to_string(),
            });
        }
        if db.db_instance_status() != Some("deleting") {
            if let Err(e) = target
                .client
                .delete_db_instance()
                .db_instance_identifier(name)
                .skip_final_snapshot(true)
                .send()
                .await
            {
                let f = ApiFailure::from_sdk(&e);
                // Gone already: a retried call whose first attempt went through (the emulator answers a cross-region
                // replica's delete with a 500 after deleting it, and the SDK's retry then finds nothing).
                if f.code != "DBInstanceNotFound" && f.code != "DBInstanceNotFoundFault" {
                    return Err(f.into_backend(format!("DeleteDBInstance {name:?}")));
                }
            }
        }
        crate::fault_points::reached("aws.replica.delete_requested");
        target
            .wait_gone(name, &self.timeouts.delete)
            .await
            .map_err(|e| BackendError::Command {
                what: format!("waiting for replica {name:?} to be deleted"),
                status: "still there".into(),
                output: e.to_string(),
            })
    }

    async fn failover_drill(&self, spec: &DrillSpec) -> Result<DrillOutcome, BackendError> {
        let mut out = DrillOutcome {
            started_at: Some(Utc::now()),
            ..Default::default()
        };
        let step = |out: &mut DrillOutcome, what: String| {
            out.steps.push(DrillStep {
                at: Utc::now(),
                what,
            })
        };
        match &spec.mode {
            DrillMode::MultiAz => {
                let before = self
                    .describe_raw(&spec.database)
                    .await
                    .map_err(|f| f.into_backend("reading RDS"))?
                    .ok_or_else(|| BackendError::NotFound {
                        backend: "aws",
                        name: spec.database.clone(),
                    })?;
                if before.multi_az() != Some(true) {
                    return Err(invalid(
                        "mode",
                        format!("database {:?} is not Multi-AZ, so it has no standby to fail over to; use a tier with multi_az, or a replica drill", spec.database),
                    ));
                }
                let zone = before.availability_zone().unwrap_or_default().to_string();
                let t0 = Instant::now();
                self.client
                    .reboot_db_instance()
                    .db_instance_identifier(&spec.database)
                    .force_failover(true)
                    .send()
                    .await
                    .map_err(|e| {
                        ApiFailure::from_sdk(&e).into_backend(format!(
                            "RebootDBInstance(ForceFailover) {:?}",
                            spec.database
                        ))
                    })?;
                step(
                    &mut out,
                    format!(
                        "RebootDBInstance ForceFailover=true on {:?} (primary in {zone})",
                        spec.database
                    ),
                );
                let after = self
                    .wait_ready(&spec.database, &self.timeouts.update)
                    .await
                    .map_err(|e| BackendError::Command {
                        what: "waiting for the failover".into(),
                        status: "not available".into(),
                        output: e.to_string(),
                    })?;
                out.rto_seconds = Some((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
                let now_zone = after.availability_zone().unwrap_or_default().to_string();
                out.simulated = now_zone == zone;
                let what = if out.simulated {
                    format!("available again, primary still in {zone}: no failover happened (the API emulator accepts the call and changes nothing)")
                } else {
                    format!("available again, primary now in {now_zone}")
                };
                step(&mut out, what);
                out.topology_restored = true;
                out.new_primary_endpoint = after
                    .endpoint()
                    .and_then(|e| e.address())
                    .unwrap_or_default()
                    .to_string();
            }
            DrillMode::Promote { replica } => {
                if !spec.keep_promoted {
                    return Err(invalid(
                        "keep_promoted",
                        "on aws a promoted read replica becomes a standalone instance and cannot follow its old source again; set keep_promoted = true (and create a new dbplatform_replica afterwards)".into(),
                    ));
                }
                let r = self
                    .describe_raw(replica)
                    .await
                    .map_err(|f| f.into_backend("reading RDS"))?
                    .ok_or_else(|| BackendError::NotFound {
                        backend: "aws",
                        name: replica.clone(),
                    })?;
                if r.read_replica_source_db_instance_identifier().is_none() {
                    return Err(invalid(
                        "replica_id",
                        format!("RDS instance {replica:?} is not a read replica"),
                    ));
                }
                let t0 = Instant::now();
                self.client
                    .promote_read_replica()
                    .db_instance_identifier(replica)
                    .send()
                    .await
                    .map_err(|e| {
                        ApiFailure::from_sdk(&e)
                            .into_backend(format!("PromoteReadReplica {replica:?}"))
                    })?;
                step(&mut out, format!("PromoteReadReplica {replica:?}"));
                let after = self
                    .wait_ready(replica, &self.timeouts.update)
                    .await
                    .map_err(|e| BackendError::Command {
                        what: "waiting for the promotion".into(),
                        status: "not available".into(),
                        output: e.to_string(),
                    })?;
                out.rto_seconds = Some((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
                out.simulated = after.read_replica_source_db_instance_identifier().is_some();
                let what = if out.simulated {
                    format!("available, but still a replica of {:?}: no promotion happened (the API emulator accepts the call and changes nothing)", after.read_replica_source_db_instance_identifier().unwrap_or_default())
                } else {
                    "available as a standalone primary".to_string()
                };
                step(&mut out, what);
                out.new_primary_endpoint = after
                    .endpoint()
                    .and_then(|e| e.address())
                    .unwrap_or_default()
                    .to_string();
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(region: Option<&str>, key: Option<&str>) -> ReplicaSpec {
        ReplicaSpec {
            name: "orders-dr".into(),
            source: "orders".into(),
            instance_class: "db.r6g.large".into(),
            region: region.map(str::to_string),
            kms_key_id: key.map(str::to_string),
            tags: BTreeMap::new(),
            deletion_protection: false,
            timeouts: Default::default(),
        }
    }

    #[test]
    fn an_encrypted_cross_region_replica_needs_a_key_of_its_region() {
        let e = cross_region_key_problem(&spec(Some("eu-west-1"), None), "us-east-1", Some(true))
            .unwrap();
        assert!(
            e.to_string()
                .contains("kms_key_id: the source database \"orders\" is encrypted"),
            "{e}"
        );
        assert!(e.to_string().contains("a key of eu-west-1"), "{e}");
        // Not created yet: golden-path databases are encrypted, so the key is required.
        assert!(
            cross_region_key_problem(&spec(Some("eu-west-1"), None), "us-east-1", None).is_some()
        );
        // A key of another region is refused by name.
        let wrong = cross_region_key_problem(
            &spec(
                Some("eu-west-1"),
                Some("arn:aws:kms:us-east-1:123456789012:key/abc"),
            ),
            "us-east-1",
            Some(true),
        )
        .unwrap();
        assert!(
            wrong.to_string().contains("is a key of us-east-1"),
            "{wrong}"
        );
        assert!(cross_region_key_problem(
            &spec(
                Some("eu-west-1"),
                Some("arn:aws:kms:eu-west-1:123456789012:key/abc")
            ),
            "us-east-1",
            Some(true)
        )
        .is_none());
        // Same region, or an unencrypted source: no key needed.
        assert!(cross_region_key_problem(&spec(None, None), "us-east-1", Some(true)).is_none());
        assert!(
            cross_region_key_problem(&spec(Some("us-east-1"), None), "us-east-1", Some(true))
                .is_none()
        );
        assert!(
            cross_region_key_problem(&spec(Some("eu-west-1"), None), "us-east-1", Some(false))
                .is_none()
        );
    }
}
