//! Creating a database: initdb with checksums and scram-sha-256, TLS material, configuration, first start, the
//! owner role and application database, and the first base backup.

use chrono::Utc;
use rand::Rng;

use super::backend::LocalBackend;
use super::layout::{Layout, Metadata};
use super::pg::{self};
use super::server::{free_port, socket_dir_for};
use super::support::*;
use crate::backend::{BackendError, DatabaseInfo, DatabaseSpec};

impl LocalBackend {
    pub(super) async fn create_inner(
        &self,
        spec: &DatabaseSpec,
        layout: &Layout,
    ) -> Result<DatabaseInfo, BackendError> {
        let bins = self.bins(spec.engine_version.as_deref())?;
        let user = self.os_user()?;
        let u = user.as_ref();
        std::fs::create_dir_all(&layout.root)
            .map_err(BackendError::io("creating directory", &layout.root))?;
        pg::chmod(&layout.root, 0o755)?;
        for d in [
            layout.pgdata(),
            layout.archive(),
            layout.backups(),
            layout.root.join("log"),
        ] {
            pg::server_dir(&d, u, 0o700)?;
        }
        self.check_reachable(&layout.pgdata()).await?;
        pg::server_dir(&layout.run(), u, 0o755)?;

        // Master password: 0600 file owned by the provider's user; initdb reads a short-lived copy.
        let password: String = rand::thread_rng()
            .sample_iter(&rand::distributions::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        write_private(&layout.secret(), &password)?;
        let pwfile = layout.root.join(".initdb-pw");
        write_private(&pwfile, &password)?;
        pg::chown(&pwfile, u)?;
        let init = pg::run(
            pg::command(&bins.tool("initdb"), u)
                .arg("-D")
                .arg(layout.pgdata())
                .arg("-U")
                .arg(&spec.master_username)
                .arg(format!("--pwfile={}", pwfile.display()))
                .args([
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "--data-checksums",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]),
            "initdb",
        )
        .await;
        let _ = std::fs::remove_file(&pwfile);
        init?;

        // TLS certificate for 127.0.0.1/localhost; clients may pin server-ca.crt.
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

        let conf = layout.pgdata().join("postgresql.conf");
        let mut base =
            std::fs::read_to_string(&conf).map_err(BackendError::io("reading", &conf))?;
        base.push_str("\n# dbplatform settings (managed; edit through Terraform)\ninclude = 'dbplatform.conf'\n");
        std::fs::write(&conf, base).map_err(BackendError::io("writing", &conf))?;

        let socket_dir = socket_dir_for(&layout.run(), &layout.root);
        if socket_dir != layout.run() {
            pg::server_dir(&socket_dir, u, 0o755)?;
        }
        let mut meta = Metadata {
            format: 1,
            id: spec.name.clone(),
            spec: spec.clone(),
            port: free_port()?,
            socket_dir,
            engine_version_actual: bins.version.clone(),
            bindir: bins.bindir.clone(),
            created_at: Utc::now(),
        };
        self.save(layout, &meta)?;
        self.write_config(layout, &meta)?;
        // A port taken between probing and binding: pick another once.
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

        if spec.db_name != "postgres" {
            let client = self.conn(layout, &meta, "postgres")?.connect().await?;
            client
                .batch_execute(&format!(
                    "CREATE DATABASE {} OWNER {}",
                    quote_ident(&spec.db_name),
                    quote_ident(&spec.master_username)
                ))
                .await
                .map_err(|e| sql_err(&spec.name, e))?;
        }
        if spec.backup_retention_days > 0 {
            self.take_base_backup(layout, &meta, &layout.backups(), None)
                .await?;
        }
        self.info(layout, &meta).await
    }
}
