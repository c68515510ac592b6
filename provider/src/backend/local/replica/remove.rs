//! Destroying a replica (fault points `local.replica.delete.<step>`): marked `deleting`, server stopped, slot and
//! role dropped on the source (so the source stops keeping WAL for it), directory moved aside and removed, OS user
//! removed. A promoted replica (the primary since a drill that kept it) is never destroyed: it holds the data.

use super::super::backend::LocalBackend;
use super::super::identity;
use super::super::layout::{Layout, Phase};
use super::super::support::{quote_ident, sql_err};
use super::meta::ReplicaMeta;
use crate::backend::{BackendError, DatabaseStatus};

impl LocalBackend {
    pub(in crate::backend::local) async fn delete_replica_local(
        &self,
        name: &str,
    ) -> Result<(), BackendError> {
        let Some((_, meta)) = self.load_replica(name)? else {
            return Ok(());
        };
        self.finish_interrupted_drill(&meta.source).await;
        let Some((layout, mut meta)) = self.load_replica(name)? else {
            return Ok(());
        };
        if meta.phase == Phase::Ready {
            if meta.deletion_protection {
                return Err(BackendError::DeletionProtected {
                    name: name.to_string(),
                });
            }
            let info = self.replica_info(&layout, &meta).await?;
            if info.status == "promoted" {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "replica {name:?} is the primary since a failover drill with keep_promoted = true and holds the newest data; run a drill with keep_promoted = false to switch back first"
                    ),
                });
            }
            meta.phase = Phase::Deleting;
            meta.owner_process = Some(crate::liveness::current());
            self.save_replica(&layout, &meta)?;
        }
        crate::fault_points::reached("local.replica.delete.marked");
        self.discard_replica(&layout, &meta).await?;
        crate::fault_points::reached("local.replica.delete.removed");
        Ok(())
    }

    /// Stops a replica's server, drops its slot and role on the source and removes its directory and OS user.
    pub(in crate::backend::local) async fn discard_replica(
        &self,
        layout: &Layout,
        meta: &ReplicaMeta,
    ) -> Result<(), BackendError> {
        let bins = self
            .bins(Some(super::super::support::major_of(
                &meta.engine_version_actual,
            )))
            .or_else(|_| self.bins(None))?;
        if layout.pgdata().join("postmaster.pid").exists()
            && self.is_running(&bins, &layout.pgdata()).await? == DatabaseStatus::Available
        {
            self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
        }
        crate::fault_points::reached("local.replica.delete.stopped");
        self.drop_replication_objects(meta).await?;
        crate::fault_points::reached("local.replica.delete.slot_dropped");
        let aside = layout.sibling("deleting");
        std::fs::rename(&layout.root, &aside)
            .map_err(BackendError::io("moving aside", &layout.root))?;
        crate::fault_points::reached("local.replica.delete.detached");
        std::fs::remove_dir_all(&aside).map_err(BackendError::io("removing", &aside))?;
        if meta.socket_dir != layout.run() {
            let _ = std::fs::remove_dir_all(&meta.socket_dir);
        }
        if self.pg_env.os_user.is_none() {
            if let Some(u) = &meta.os_user {
                identity::remove_os_user(&super::super::pg::OsUser {
                    name: u.clone(),
                    uid: 0,
                    gid: 0,
                });
            }
        }
        Ok(())
    }

    /// Drops the replica's slot and role on its source when the source runs (a stopped or missing source keeps
    /// nothing that grows: a slot only holds WAL while its server writes).
    async fn drop_replication_objects(&self, meta: &ReplicaMeta) -> Result<(), BackendError> {
        let Some((sl, sm)) = self.load(&meta.source)? else {
            return Ok(());
        };
        let Ok(client) = self.admin_conn(&sl, &sm, "postgres")?.connect().await else {
            return Ok(());
        };
        // The WAL sender of a just-stopped standby may take a moment to exit and release the slot.
        for _ in 0..50 {
            let row = client
                .query_opt(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                    &[&meta.slot],
                )
                .await
                .map_err(|e| sql_err(&meta.source, e))?;
            match row.map(|r| r.get::<_, bool>(0)) {
                None => break,
                Some(true) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                Some(false) => {
                    client
                        .execute("SELECT pg_drop_replication_slot($1)", &[&meta.slot])
                        .await
                        .map_err(|e| sql_err(&meta.source, e))?;
                    break;
                }
            }
        }
        let exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&meta.role])
            .await
            .map_err(|e| sql_err(&meta.source, e))?
            .is_some();
        if exists {
            let r = quote_ident(&meta.role);
            client
                .batch_execute(&format!("DROP OWNED BY {r}; DROP ROLE {r};"))
                .await
                .map_err(|e| sql_err(&meta.source, e))?;
        }
        Ok(())
    }
}
