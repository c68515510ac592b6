//! Creating a database as named, resumable steps. The directory appears atomically with its `metadata.json`
//! (phase `creating`, the creating process, the chosen port and OS user), so whatever a killed provider leaves is
//! provably ours; each later step records itself in the metadata and at a fault point
//! (`crate::fault_points::reached("local.create.<step>")`). The phase becomes `ready` only after the last step.
//!
//! Steps: `marker` (directory, metadata, password file), `initdb` (superuser = the provider's admin role, peer
//! auth), `tls`, `config`, `start`, `roles` (the master user: login, not a superuser), `database` (owned by the
//! master user), `backup` (the first base backup), `done`.

use chrono::Utc;
use rand::Rng;

use super::backend::LocalBackend;
use super::identity::ADMIN_ROLE;
use super::layout::{Layout, Metadata, Phase};
use super::pg::{self};
use super::server::{free_port, socket_dir_for};
use super::support::*;
use crate::backend::{BackendError, DatabaseInfo, DatabaseSpec};

/// Records that `step` of a create is durable: in the metadata (for messages) and at the fault point.
fn step_done(
    backend: &LocalBackend,
    layout: &Layout,
    meta: &mut Metadata,
    step: &str,
) -> Result<(), BackendError> {
    meta.step = step.to_string();
    backend.save(layout, meta)?;
    crate::fault_points::reached(&format!("local.create.{step}"));
    Ok(())
}

impl LocalBackend {
    /// Runs every create step for a database whose directory does not exist yet.
    pub(super) async fn create_inner(
        &self,
        spec: &DatabaseSpec,
        layout: &Layout,
    ) -> Result<DatabaseInfo, BackendError> {
        let bins = self.bins(spec.engine_version.as_deref())?;
        let user = self.server_user(&spec.name)?;
        let u = user.as_ref();

        // Step "marker": build the directory under a private name, then rename it into place.
        let staging = layout.sibling("creating");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(BackendError::io("removing", &staging))?;
        }
        std::fs::create_dir_all(&staging)
            .map_err(BackendError::io("creating directory", &staging))?;
        // Searchable but not listable by the server users of other databases.
        pg::chmod(&staging, 0o711)?;
        let password: String = rand::thread_rng()
            .sample_iter(&rand::distributions::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let mut meta = Metadata {
            format: 2,
            id: spec.name.clone(),
            spec: spec.clone(),
            port: free_port()?,
            socket_dir: socket_dir_for(&layout.run(), &layout.root),
            engine_version_actual: bins.version.clone(),
            bindir: bins.bindir.clone(),
            created_at: Utc::now(),
            phase: Phase::Creating,
            step: "marker".into(),
            owner_process: Some(crate::liveness::current()),
            admin_role: Some(ADMIN_ROLE.to_string()),
            os_user: user.as_ref().map(|u| u.name.clone()),
            final_backup_id: None,
        };
        let staged = Layout {
            root: staging.clone(),
        };
        write_private(&staged.secret(), &password)?;
        self.save(&staged, &meta)?;
        std::fs::rename(&staging, &layout.root)
            .map_err(BackendError::io("moving into place", &staging))?;
        crate::fault_points::reached("local.create.marker");

        // Step "initdb": the bootstrap superuser is the provider's admin role, reachable only by peer auth.
        for d in [
            layout.pgdata(),
            layout.archive(),
            layout.backups(),
            layout.root.join("log"),
        ] {
            pg::server_dir(&d, u, 0o700)?;
        }
        self.check_reachable(&layout.pgdata(), u).await?;
        pg::server_dir(&layout.run(), u, 0o755)?;
        if meta.socket_dir != layout.run() {
            pg::server_dir(&meta.socket_dir, u, 0o755)?;
        }
        localpg::cluster::initdb(&bins, &layout.pgdata(), u, ADMIN_ROLE).await?;
        step_done(self, layout, &mut meta, "initdb")?;

        // Step "tls": a certificate for 127.0.0.1/localhost; clients may pin server-ca.crt.
        let ck = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .map_err(|e| {
            BackendError::Unsupported(format!("generating a TLS certificate failed: {e}"))
        })?;
        let crt = layout.pgdata().join("server.crt");
        let key = layout.pgdata().join("server.key");
        std::fs::write(&crt, ck.cert.pem()).map_err(BackendError::io("writing", &crt))?;
        write_private(&key, &ck.signing_key.serialize_pem())?;
        pg::chown(&crt, u)?;
        pg::chown(&key, u)?;
        std::fs::write(layout.ca_cert(), ck.cert.pem())
            .map_err(BackendError::io("writing", layout.ca_cert()))?;
        step_done(self, layout, &mut meta, "tls")?;

        // Step "config": include our settings file, access rules and the admin ident map.
        let conf = layout.pgdata().join("postgresql.conf");
        let mut base =
            std::fs::read_to_string(&conf).map_err(BackendError::io("reading", &conf))?;
        base.push_str("\n# dbplatform settings (managed; edit through Terraform)\ninclude = 'dbplatform.conf'\n");
        std::fs::write(&conf, base).map_err(BackendError::io("writing", &conf))?;
        self.write_config(layout, &meta)?;
        step_done(self, layout, &mut meta, "config")?;

        // Step "start"; a port taken between probing and binding: pick another once.
        if let Err(e) = self
            .pg_ctl_start(
                &bins,
                &layout.pgdata(),
                &layout.log(),
                "starting PostgreSQL",
            )
            .await
        {
            if !pg::log_tail(&layout.log(), 20).contains("could not bind") {
                return Err(e);
            }
            meta.port = free_port()?;
            self.save(layout, &meta)?;
            self.write_config(layout, &meta)?;
            self.pg_ctl_start(
                &bins,
                &layout.pgdata(),
                &layout.log(),
                "starting PostgreSQL",
            )
            .await?;
        }
        step_done(self, layout, &mut meta, "start")?;

        // Step "roles": the master user logs in with its password and owns its database, nothing more.
        let client = self
            .admin_conn(layout, &meta, "postgres")?
            .connect()
            .await?;
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        client
            .batch_execute(&format!(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '{}'",
                quote_ident(&spec.master_username),
                verifier.replace('\'', "''")
            ))
            .await
            .map_err(|e| sql_err(&spec.name, e))?;
        step_done(self, layout, &mut meta, "roles")?;

        // Step "database".
        let sql = if spec.db_name == "postgres" {
            format!(
                "ALTER DATABASE postgres OWNER TO {}",
                quote_ident(&spec.master_username)
            )
        } else {
            format!(
                "CREATE DATABASE {} OWNER {}",
                quote_ident(&spec.db_name),
                quote_ident(&spec.master_username)
            )
        };
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| sql_err(&spec.name, e))?;
        drop(client);
        step_done(self, layout, &mut meta, "database")?;

        // Step "backup": the first base backup, so a restore test works from the start.
        if spec.backup_retention_days > 0 {
            self.take_base_backup(layout, &meta, &layout.backups(), None)
                .await?;
        }
        step_done(self, layout, &mut meta, "backup")?;

        meta.phase = Phase::Ready;
        meta.owner_process = None;
        step_done(self, layout, &mut meta, "done")?;
        self.info(layout, &meta).await
    }
}

/// The create steps in order, for messages about an interrupted create.
pub(super) const STEPS: &[&str] = &[
    "marker", "initdb", "tls", "config", "start", "roles", "database", "backup", "done",
];

/// What an interrupted create at `step` still lacks, in words.
pub(super) fn missing_after(step: &str) -> String {
    let done = STEPS.iter().position(|s| *s == step).map_or(0, |i| i + 1);
    let words: Vec<&str> = STEPS[done.min(STEPS.len())..]
        .iter()
        .filter(|s| **s != "done")
        .map(|s| match *s {
            "initdb" => "the cluster (initdb)",
            "tls" => "its TLS certificate",
            "config" => "its configuration",
            "start" => "a running server",
            "roles" => "the master user",
            "database" => "the application database",
            "backup" => "the first base backup",
            other => other,
        })
        .collect();
    if words.is_empty() {
        "nothing but the final mark".into()
    } else {
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::missing_after;

    #[test]
    fn an_interrupted_create_names_what_is_missing() {
        assert_eq!(
            missing_after("start"),
            "the master user, the application database, the first base backup"
        );
        assert!(missing_after("marker").starts_with("the cluster (initdb)"));
        assert_eq!(missing_after("backup"), "nothing but the final mark");
    }
}
