//! What a replica is now (status, replication lag, TLS of the replication connection), import, and in-place
//! updates. A stopped standby reads as `stopped` and one that runs without streaming as `broken` (drift the
//! resource plans to repair); one promoted by a drill that kept it reads as `promoted`.

use super::super::backend::LocalBackend;
use super::super::layout::{Layout, Phase, BACKEND};
use super::meta::ReplicaMeta;
use crate::backend::replica::{ReplicaInfo, ReplicaSpec};
use crate::backend::{BackendError, DatabaseStatus};

/// Replication lag on the standby: 0 when everything received is replayed, else the age of the last replayed
/// transaction.
const LAG_SQL: &str = "SELECT pg_is_in_recovery(), \
     (SELECT status FROM pg_stat_wal_receiver LIMIT 1), \
     CASE WHEN NOT pg_is_in_recovery() THEN NULL \
          WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8 \
          ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8, 0) END";

impl LocalBackend {
    pub(in crate::backend::local) async fn replica_info(
        &self,
        layout: &Layout,
        meta: &ReplicaMeta,
    ) -> Result<ReplicaInfo, BackendError> {
        let mut info = ReplicaInfo {
            id: meta.id.clone(),
            source: meta.source.clone(),
            endpoint: "127.0.0.1".into(),
            port: meta.port,
            connection_string: String::new(),
            status: "broken".into(),
            replication_lag_seconds: None,
            replication_tls: None,
            instance_class: meta.instance_class.clone(),
            region: None,
            kms_key_id: None,
            tags: meta.tags.clone(),
            deletion_protection: meta.deletion_protection,
            problem: None,
        };
        let source = self.load(&meta.source)?;
        if let Some((_, s)) = &source {
            info.connection_string = format!(
                "postgresql://{}@127.0.0.1:{}/{}?sslmode=require",
                s.spec.master_username, meta.port, s.spec.db_name
            );
        }
        if !layout.pgdata().join("PG_VERSION").exists() {
            info.problem = Some(format!("{} holds no cluster", layout.pgdata().display()));
            return Ok(info);
        }
        let bins = self.bins(Some(super::super::support::major_of(
            &meta.engine_version_actual,
        )))?;
        match self.is_running(&bins, &layout.pgdata()).await? {
            DatabaseStatus::Available => {}
            DatabaseStatus::Stopped => {
                info.status = "stopped".into();
                info.problem = Some("the standby server is not running".into());
                return Ok(info);
            }
            other => {
                info.problem = Some(format!("the standby server is {}", other.as_str()));
                return Ok(info);
            }
        }
        let client = match Self::replica_admin(meta).connect().await {
            Ok(c) => c,
            Err(e) => {
                info.problem = Some(format!("the standby does not accept connections: {e}"));
                return Ok(info);
            }
        };
        let row = client
            .query_one(LAG_SQL, &[])
            .await
            .map_err(|e| super::super::support::sql_err(&meta.id, e))?;
        let in_recovery: bool = row.get(0);
        let receiver: Option<String> = row.get(1);
        info.replication_lag_seconds = row
            .get::<_, Option<f64>>(2)
            .map(|l| (l * 1000.0).round() / 1000.0);
        if !in_recovery {
            info.status = "promoted".into();
            info.problem = Some(
                "the replica was promoted and accepts writes (a drill with keep_promoted)".into(),
            );
        } else if receiver.as_deref() == Some("streaming") {
            info.status = "streaming".into();
        } else {
            info.problem = Some(format!(
                "the standby runs but does not stream from {:?} (WAL receiver: {})",
                meta.source,
                receiver.as_deref().unwrap_or("none")
            ));
        }
        info.replication_tls = self.replication_tls(&meta.source, &meta.id).await;
        Ok(info)
    }

    /// Whether the source's WAL sender to `replica` uses TLS, as the source sees it.
    async fn replication_tls(&self, source: &str, replica: &str) -> Option<bool> {
        let (sl, sm) = self.load(source).ok()??;
        let client = self
            .admin_conn(&sl, &sm, "postgres")
            .ok()?
            .connect()
            .await
            .ok()?;
        client
            .query_opt(
                "SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.application_name = $1 LIMIT 1",
                &[&replica],
            )
            .await
            .ok()
            .flatten()
            .map(|r| r.get(0))
    }

    pub(in crate::backend::local) async fn read_replica_local(
        &self,
        name: &str,
    ) -> Result<Option<ReplicaInfo>, BackendError> {
        let Some((_, meta)) = self.load_replica(name)? else {
            return Ok(None);
        };
        self.finish_interrupted_drill(&meta.source).await;
        let Some((layout, meta)) = self.load_replica(name)? else {
            return Ok(None);
        };
        if meta.phase == Phase::Creating {
            return Ok(None);
        }
        self.replica_info(&layout, &meta).await.map(Some)
    }

    pub(in crate::backend::local) async fn import_replica_local(
        &self,
        name: &str,
    ) -> Result<ReplicaInfo, BackendError> {
        let Some((layout, meta)) = self.load_replica(name)? else {
            return Err(BackendError::NotFound {
                backend: BACKEND,
                name: name.to_string(),
            });
        };
        match meta.phase {
            Phase::Ready => {}
            Phase::Creating => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "replica {name:?} was not completely created (interrupted after step {:?}), so it cannot be imported; run terraform apply to create it again",
                        meta.step
                    ),
                })
            }
            Phase::Deleting => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!("replica {name:?} is being destroyed (an interrupted destroy); run terraform destroy to finish"),
                })
            }
        }
        let bins = self.bins(Some(super::super::support::major_of(
            &meta.engine_version_actual,
        )))?;
        self.ensure_started(
            &bins,
            &layout,
            &format!("starting replica {name:?} to import it"),
        )
        .await?;
        self.replica_info(&layout, &meta).await
    }

    pub(in crate::backend::local) async fn update_replica_local(
        &self,
        spec: &ReplicaSpec,
    ) -> Result<ReplicaInfo, BackendError> {
        let Some((layout, mut meta)) = self.load_replica(&spec.name)? else {
            return Err(BackendError::NotFound {
                backend: BACKEND,
                name: spec.name.clone(),
            });
        };
        let bins = self.bins(Some(super::super::support::major_of(
            &meta.engine_version_actual,
        )))?;
        let restart = meta.instance_class != spec.instance_class;
        meta.tags = spec.tags.clone();
        meta.deletion_protection = spec.deletion_protection;
        meta.instance_class = spec.instance_class.clone();
        self.save_replica(&layout, &meta)?;
        if restart {
            let (_, smeta) = self.replica_source(&meta.source).await?;
            self.write_replica_config(&layout, &meta, &smeta)?;
            self.ensure_stopped(&bins, &layout.pgdata()).await?;
        }
        self.ensure_started(&bins, &layout, &format!("starting replica {:?}", spec.name))
            .await?;
        self.replica_info(&layout, &meta).await
    }
}
