//! Creating a replica as named, resumable steps, like a database (fault points `local.replica.<step>`): the
//! directory appears atomically with its `metadata.json` (phase `creating`), and the phase becomes `ready` only
//! after the last step. A create that fails or is killed holds no data of its own: the next create removes it
//! (server, directory, slot and role on the source, OS user) and starts again.
//!
//! Steps: `marker`, `role` (the replication role and physical slot on the source), `basebackup` (pg_basebackup
//! over TLS as the replica's OS user), `config` (own port, socket, certificate; standby settings), `start`,
//! `streaming` (the WAL receiver streams), `done`.

use chrono::Utc;
use rand::Rng;

use super::super::backend::LocalBackend;
use super::super::layout::{Layout, Metadata, Phase, BACKEND};
use super::super::pg;
use super::super::server::{free_port, socket_dir_for};
use super::super::support::{quote_ident, sql_err, write_private};
use super::meta::{name_hash, repl_conninfo, ReplicaMeta};
use super::standby::{base_backup, configure_standby, new_certificate, wait_streaming};
use crate::backend::replica::{ReplicaInfo, ReplicaSpec};
use crate::backend::{BackendError, DatabaseStatus};

/// The functions pg_rewind calls on its source, granted to the replication role so that a drill can rewind
/// either server from the other without a superuser password.
const REWIND_FUNCTIONS: &[&str] = &[
    "pg_catalog.pg_ls_dir(text, boolean, boolean)",
    "pg_catalog.pg_stat_file(text, boolean)",
    "pg_catalog.pg_read_binary_file(text)",
    "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)",
];

fn step_done(
    b: &LocalBackend,
    layout: &Layout,
    meta: &mut ReplicaMeta,
    step: &str,
) -> Result<(), BackendError> {
    meta.step = step.to_string();
    b.save_replica(layout, meta)?;
    crate::fault_points::reached(&format!("local.replica.{step}"));
    Ok(())
}

impl LocalBackend {
    /// The source database of a replica: complete and running (a replica streams from a live server).
    pub(in crate::backend::local) async fn replica_source(
        &self,
        source: &str,
    ) -> Result<(Layout, Metadata), BackendError> {
        let (layout, meta) = self.load(source)?.ok_or_else(|| BackendError::NotFound {
            backend: BACKEND,
            name: source.to_string(),
        })?;
        if meta.phase != Phase::Ready {
            return Err(BackendError::Invalid {
                field: "source_database_id".into(),
                message: format!(
                    "database {source:?} is not completely created (phase {:?}); apply it first",
                    meta.phase
                ),
            });
        }
        Ok((layout, meta))
    }

    pub(in crate::backend::local) async fn create_replica_local(
        &self,
        spec: &ReplicaSpec,
    ) -> Result<ReplicaInfo, BackendError> {
        if let Some(e) = self.replica_problems_now(spec).await {
            return Err(e);
        }
        self.finish_interrupted_drill(&spec.source).await;
        let (slayout, smeta) = self.replica_source(&spec.source).await?;
        let sbins = self.bins_for(&smeta)?;
        if self.is_running(&sbins, &slayout.pgdata()).await? != DatabaseStatus::Available {
            return Err(BackendError::Invalid {
                field: "source_database_id".into(),
                message: format!("database {:?} is not running; start it (terraform apply) before creating a replica", spec.source),
            });
        }
        let layout = self.replica_layout(&spec.name);
        let parent = self.data_dir.join("replicas");
        std::fs::create_dir_all(&parent)
            .map_err(BackendError::io("creating directory", &parent))?;
        pg::chmod(&parent, 0o711)?;
        if let Some((_, old)) = self.load_replica(&spec.name)? {
            match old.phase {
                Phase::Ready => {
                    return Err(BackendError::AlreadyExists {
                        name: spec.name.clone(),
                        location: layout.root.display().to_string(),
                    })
                }
                Phase::Creating
                    if old.owner_process.is_some_and(|(pid, t)| pid != std::process::id() && crate::liveness::alive(pid, t)) =>
                {
                    return Err(BackendError::Invalid {
                        field: "name".into(),
                        message: format!("replica {:?} is being created right now by another provider process; wait for that apply to finish", spec.name),
                    })
                }
                // An interrupted create or destroy of ours: nothing of value in it (the source holds the data).
                _ => self.discard_replica(&layout, &old).await?,
            }
        } else if layout.root.exists() {
            return Err(BackendError::Invalid {
                field: "name".into(),
                message: format!("{} exists but has no metadata.json, so this provider did not make it; move it away or choose another name", layout.root.display()),
            });
        }
        let mut meta = ReplicaMeta {
            format: 1,
            id: spec.name.clone(),
            source: spec.source.clone(),
            instance_class: spec.instance_class.clone(),
            tags: spec.tags.clone(),
            deletion_protection: spec.deletion_protection,
            port: free_port()?,
            socket_dir: socket_dir_for(&layout.run(), &layout.root),
            bindir: sbins.bindir.clone(),
            engine_version_actual: sbins.version.clone(),
            created_at: Utc::now(),
            phase: Phase::Creating,
            step: "marker".into(),
            owner_process: Some(crate::liveness::current()),
            os_user: None,
            role: format!("dbp_repl_{}", name_hash(&spec.name)),
            slot: format!("dbp_slot_{}", name_hash(&spec.name)),
        };
        let user = self.replica_os_user(&spec.name)?;
        meta.os_user = user.as_ref().map(|u| u.name.clone());
        match self
            .create_replica_steps(spec, &layout, &mut meta, &slayout, &smeta, user.as_ref())
            .await
        {
            Ok(info) => Ok(info),
            Err(e) => {
                if let Ok(Some((_, m))) = self.load_replica(&spec.name) {
                    if let Err(d) = self.discard_replica(&layout, &m).await {
                        tracing::warn!(
                            "cleaning up the failed replica create of {}: {d}",
                            spec.name
                        );
                    }
                }
                let _ = std::fs::remove_dir_all(layout.sibling("creating"));
                Err(e)
            }
        }
    }

    async fn create_replica_steps(
        &self,
        spec: &ReplicaSpec,
        layout: &Layout,
        meta: &mut ReplicaMeta,
        slayout: &Layout,
        smeta: &Metadata,
        u: Option<&pg::OsUser>,
    ) -> Result<ReplicaInfo, BackendError> {
        let sbins = self.bins_for(smeta)?;
        // Step "marker".
        let staging = layout.sibling("creating");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(BackendError::io("removing", &staging))?;
        }
        std::fs::create_dir_all(&staging)
            .map_err(BackendError::io("creating directory", &staging))?;
        pg::chmod(&staging, 0o711)?;
        let password: String = rand::thread_rng()
            .sample_iter(&rand::distributions::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let staged = Layout {
            root: staging.clone(),
        };
        write_private(&Self::replication_password_file(&staged), &password)?;
        self.save_replica(&staged, meta)?;
        std::fs::rename(&staging, &layout.root)
            .map_err(BackendError::io("moving into place", &staging))?;
        crate::fault_points::reached("local.replica.marker");

        // Step "role": its own login with REPLICATION only (plus what pg_rewind reads), and a physical slot.
        let client = self
            .admin_conn(slayout, smeta, "postgres")?
            .connect()
            .await?;
        let verifier =
            postgres_protocol::password::scram_sha_256(password.as_bytes()).replace('\'', "''");
        let role = quote_ident(&meta.role);
        let exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&meta.role])
            .await
            .map_err(|e| sql_err(&spec.source, e))?
            .is_some();
        let mut sql = if exists {
            format!("ALTER ROLE {role} LOGIN REPLICATION PASSWORD '{verifier}';")
        } else {
            format!("CREATE ROLE {role} LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '{verifier}';")
        };
        for f in REWIND_FUNCTIONS {
            sql.push_str(&format!("GRANT EXECUTE ON FUNCTION {f} TO {role};"));
        }
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| sql_err(&spec.source, e))?;
        client
            .execute(
                "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
                &[&meta.slot],
            )
            .await
            .map_err(|e| sql_err(&spec.source, e))?;
        drop(client);
        step_done(self, layout, meta, "role")?;

        // Step "basebackup": as the replica's OS user, over TLS, through the slot.
        for d in [layout.pgdata(), layout.root.join("log")] {
            pg::server_dir(&d, u, 0o700)?;
        }
        self.check_reachable(&layout.pgdata(), u).await?;
        pg::server_dir(&layout.run(), u, 0o755)?;
        if meta.socket_dir != layout.run() {
            pg::server_dir(&meta.socket_dir, u, 0o755)?;
        }
        pg::run(
            base_backup(
                &sbins,
                u,
                &password,
                smeta.port,
                &meta.role,
                &layout.pgdata(),
                Some(&meta.slot),
            )
            .env("PGAPPNAME", &spec.name),
            &format!(
                "pg_basebackup of {:?} for replica {:?}",
                spec.source, spec.name
            ),
        )
        .await?;
        step_done(self, layout, meta, "basebackup")?;

        // Step "config".
        let pem = new_certificate(&layout.root, &layout.pgdata(), u)?;
        std::fs::write(layout.ca_cert(), pem)
            .map_err(BackendError::io("writing", layout.ca_cert()))?;
        self.write_replica_config(layout, meta, smeta)?;
        let conninfo = repl_conninfo(smeta.port, &meta.role, &password, None, &spec.name);
        configure_standby(&layout.pgdata(), u, &conninfo, Some(&meta.slot))?;
        step_done(self, layout, meta, "config")?;

        // Step "start" (another port once when the chosen one was taken meanwhile).
        let bins = self.bins(Some(super::super::support::major_of(
            &meta.engine_version_actual,
        )))?;
        if let Err(e) = self
            .pg_ctl_start(
                &bins,
                &layout.pgdata(),
                &layout.log(),
                "starting the replica",
            )
            .await
        {
            if !pg::log_tail(&layout.log(), 20).contains("could not bind") {
                return Err(e);
            }
            meta.port = free_port()?;
            self.save_replica(layout, meta)?;
            self.write_replica_config(layout, meta, smeta)?;
            self.pg_ctl_start(
                &bins,
                &layout.pgdata(),
                &layout.log(),
                "starting the replica",
            )
            .await?;
        }
        step_done(self, layout, meta, "start")?;

        // Step "streaming".
        let admin = Self::replica_admin(meta);
        let streaming = wait_streaming(&admin, std::time::Duration::from_secs(60)).await;
        if !streaming {
            return Err(BackendError::Command {
                what: format!(
                    "waiting for replica {:?} to stream from {:?}",
                    spec.name, spec.source
                ),
                status: "not streaming after 60 s".into(),
                output: pg::log_tail(&layout.log(), 15),
            });
        }
        step_done(self, layout, meta, "streaming")?;
        meta.phase = Phase::Ready;
        meta.owner_process = None;
        step_done(self, layout, meta, "done")?;
        self.replica_info(layout, meta).await
    }

    /// Problems only a live check finds (the source exists); `None` when the replica can be made.
    async fn replica_problems_now(&self, spec: &ReplicaSpec) -> Option<BackendError> {
        use crate::backend::replica::ReplicaBackend;
        self.replica_problems(spec).await.into_iter().next()
    }
}
