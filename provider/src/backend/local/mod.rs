//! The `local` backend: real PostgreSQL clusters on this machine, under the provider's `local.data_dir`.
//!
//! Layout of one database (`<data_dir>/databases/<name>/`):
//! - `metadata.json`    settings, port, tags (what RDS would keep in its API)
//! - `master-password`  the master password, mode 0600 (never in Terraform state)
//! - `pgdata/`          the cluster (initdb with data checksums and scram-sha-256), owned by the server user
//! - `wal-archive/`     continuous WAL archive (archive_command copies each finished segment here)
//! - `base-backups/`    `pg_basebackup` tarballs, pruned after `backup_retention_days`
//! - `run/`             the Unix socket the provider connects through; `log/server.log` the server's log
//!
//! Restores go to `<data_dir>/restores/<name>-<time>/`, final backups on destroy to `<data_dir>/final-backups/`.

pub mod pg;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use self::pg::{OsUser, PgBinaries};
use super::{
    BackendError, BackupInfo, ConnectionInfo, DatabaseBackend, DatabaseInfo, DatabaseSpec,
    DatabaseStatus, DeleteOptions, DeleteOutcome, IntegrityReport, RestoreTarget, RestoredInstance,
    UpdateOutcome,
};

const BACKEND: &str = "local";
/// Settings the backend manages itself; setting them in `parameters` would break archiving, TLS or access.
const MANAGED_PARAMETERS: &[&str] = &[
    "listen_addresses",
    "port",
    "unix_socket_directories",
    "archive_mode",
    "archive_command",
    "restore_command",
    "wal_level",
    "ssl",
    "ssl_cert_file",
    "ssl_key_file",
    "ssl_min_protocol_version",
    "password_encryption",
    "data_directory",
    "hba_file",
    "ident_file",
    "config_file",
];
/// PostgreSQL settings of context `postmaster`: changing them needs a server restart.
const RESTART_PARAMETERS: &[&str] = &[
    "max_connections",
    "shared_buffers",
    "max_worker_processes",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "max_pred_locks_per_transaction",
    "max_wal_senders",
    "max_replication_slots",
    "wal_buffers",
    "huge_pages",
    "huge_page_size",
    "shared_preload_libraries",
    "max_files_per_process",
    "track_commit_timestamp",
    "superuser_reserved_connections",
    "wal_log_hints",
    "autovacuum_max_workers",
    "max_logical_replication_workers",
    "cluster_name",
    "dynamic_shared_memory_type",
    "old_snapshot_threshold",
    "min_dynamic_shared_memory",
    "shared_memory_type",
];
/// How often, at the latest, a running database gets a fresh base backup (checked on refresh and apply).
const BASE_BACKUP_INTERVAL_HOURS: i64 = 24;

/// What the backend keeps about a database beside its data (the local stand-in for the RDS API).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Metadata {
    format: u32,
    id: String,
    spec: DatabaseSpec,
    port: u16,
    socket_dir: PathBuf,
    engine_version_actual: String,
    bindir: PathBuf,
    created_at: DateTime<Utc>,
}

/// Paths of one database's directory.
#[derive(Debug, Clone)]
struct Layout {
    root: PathBuf,
}

impl Layout {
    fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }
    fn archive(&self) -> PathBuf {
        self.root.join("wal-archive")
    }
    fn backups(&self) -> PathBuf {
        self.root.join("base-backups")
    }
    fn run(&self) -> PathBuf {
        self.root.join("run")
    }
    fn secret(&self) -> PathBuf {
        self.root.join("master-password")
    }
    fn metadata(&self) -> PathBuf {
        self.root.join("metadata.json")
    }
    fn log(&self) -> PathBuf {
        self.root.join("log").join("server.log")
    }
    fn ca_cert(&self) -> PathBuf {
        self.root.join("server-ca.crt")
    }
}

/// The local PostgreSQL backend. Cheap to construct; all state is on disk under `data_dir`.
#[derive(Debug)]
pub struct LocalBackend {
    data_dir: PathBuf,
    user: Mutex<Option<Option<OsUser>>>,
    binaries: Mutex<HashMap<Option<String>, PgBinaries>>,
}

impl LocalBackend {
    /// A backend keeping its databases under `data_dir` (created on first use).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            user: Mutex::new(None),
            binaries: Mutex::new(HashMap::new()),
        }
    }

    /// The directory databases live under.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where final backups taken on destroy are kept.
    pub fn final_backups_dir(&self) -> PathBuf {
        self.data_dir.join("final-backups")
    }

    /// Where scratch restores are made.
    pub fn restores_dir(&self) -> PathBuf {
        self.data_dir.join("restores")
    }

    fn layout(&self, name: &str) -> Layout {
        Layout {
            root: self.data_dir.join("databases").join(name),
        }
    }

    fn os_user(&self) -> Result<Option<OsUser>, BackendError> {
        let mut guard = self
            .user
            .lock()
            .map_err(|_| BackendError::Unsupported("internal lock poisoned".into()))?;
        if let Some(u) = guard.as_ref() {
            return Ok(u.clone());
        }
        let u = pg::server_user()?;
        *guard = Some(u.clone());
        Ok(u)
    }

    fn bins(&self, major: Option<&str>) -> Result<PgBinaries, BackendError> {
        let key = major.map(str::to_string);
        if let Ok(g) = self.binaries.lock() {
            if let Some(b) = g.get(&key) {
                return Ok(b.clone());
            }
        }
        let b = PgBinaries::locate(major)?;
        if let Ok(mut g) = self.binaries.lock() {
            g.insert(key, b.clone());
        }
        Ok(b)
    }

    fn bins_for(&self, meta: &Metadata) -> Result<PgBinaries, BackendError> {
        self.bins(
            meta.spec
                .engine_version
                .as_deref()
                .or(Some(major_of(&meta.engine_version_actual))),
        )
    }

    fn load(&self, name: &str) -> Result<Option<(Layout, Metadata)>, BackendError> {
        let layout = self.layout(name);
        let path = layout.metadata();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BackendError::io("reading", &path)(e)),
        };
        let meta: Metadata = serde_json::from_str(&text).map_err(|e| BackendError::Metadata {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Some((layout, meta)))
    }

    fn load_existing(&self, name: &str) -> Result<(Layout, Metadata), BackendError> {
        self.load(name)?.ok_or_else(|| BackendError::NotFound {
            backend: BACKEND,
            name: name.to_string(),
        })
    }

    fn save(&self, layout: &Layout, meta: &Metadata) -> Result<(), BackendError> {
        let text = serde_json::to_string_pretty(meta).map_err(|e| BackendError::Metadata {
            path: layout.metadata(),
            message: e.to_string(),
        })?;
        let tmp = layout.root.join("metadata.json.tmp");
        std::fs::write(&tmp, text).map_err(BackendError::io("writing", &tmp))?;
        std::fs::rename(&tmp, layout.metadata())
            .map_err(BackendError::io("replacing", layout.metadata()))
    }

    fn password(&self, layout: &Layout) -> Result<String, BackendError> {
        std::fs::read_to_string(layout.secret())
            .map(|s| s.trim().to_string())
            .map_err(BackendError::io(
                "reading the master password file",
                layout.secret(),
            ))
    }

    fn conn(
        &self,
        layout: &Layout,
        meta: &Metadata,
        dbname: &str,
    ) -> Result<ConnectionInfo, BackendError> {
        Ok(ConnectionInfo {
            host: meta.socket_dir.display().to_string(),
            port: meta.port,
            user: meta.spec.master_username.clone(),
            password: self.password(layout)?,
            dbname: dbname.to_string(),
        })
    }

    async fn is_running(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
    ) -> Result<DatabaseStatus, BackendError> {
        if !pgdata.join("PG_VERSION").exists() {
            return Ok(DatabaseStatus::Failed);
        }
        let user = self.os_user()?;
        let status = pg::command(&bins.tool("pg_ctl"), user.as_ref())
            .arg("status")
            .arg("-D")
            .arg(pgdata)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await
            .map_err(BackendError::io("running pg_ctl status for", pgdata))?;
        Ok(match status.code() {
            Some(0) => DatabaseStatus::Available,
            Some(3) => DatabaseStatus::Stopped,
            _ => DatabaseStatus::Failed,
        })
    }

    async fn pg_ctl_start(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
        log: &Path,
        what: &str,
    ) -> Result<(), BackendError> {
        let user = self.os_user()?;
        let r = pg::run(
            pg::command(&bins.tool("pg_ctl"), user.as_ref())
                .arg("start")
                .arg("-D")
                .arg(pgdata)
                .arg("-l")
                .arg(log)
                .args(["-w", "-t", "600", "-s"]),
            what,
        )
        .await;
        if let Err(BackendError::Command {
            what,
            status,
            output,
        }) = r
        {
            return Err(BackendError::Command {
                what,
                status,
                output: format!(
                    "{output}\nserver log ({}):\n{}",
                    log.display(),
                    pg::log_tail(log, 15)
                ),
            });
        }
        r.map(|_| ())
    }

    async fn pg_ctl_stop(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
        mode: &str,
    ) -> Result<(), BackendError> {
        let user = self.os_user()?;
        pg::run(
            pg::command(&bins.tool("pg_ctl"), user.as_ref())
                .arg("stop")
                .arg("-D")
                .arg(pgdata)
                .args(["-m", mode, "-w", "-s"]),
            &format!("stopping PostgreSQL in {}", pgdata.display()),
        )
        .await
        .map(|_| ())
    }

    async fn info(&self, layout: &Layout, meta: &Metadata) -> Result<DatabaseInfo, BackendError> {
        let bins = self.bins_for(meta)?;
        let status = self.is_running(&bins, &layout.pgdata()).await?;
        Ok(DatabaseInfo {
            id: meta.id.clone(),
            spec: meta.spec.clone(),
            endpoint: "127.0.0.1".into(),
            port: meta.port,
            status,
            engine_version_actual: meta.engine_version_actual.clone(),
            connection_string: connection_string(&meta.spec, meta.port),
            master_user_secret: layout.secret().display().to_string(),
            data_dir: Some(layout.root.clone()),
            created_at: meta.created_at,
        })
    }

    /// Writes `dbplatform.conf` (included from postgresql.conf) and `pg_hba.conf` for a spec.
    fn write_config(&self, layout: &Layout, meta: &Metadata) -> Result<(), BackendError> {
        let conf = layout.pgdata().join("dbplatform.conf");
        let text = server_conf(&meta.spec, meta.port, &meta.socket_dir, &layout.archive());
        std::fs::write(&conf, text).map_err(BackendError::io("writing", &conf))?;
        pg::chown(&conf, self.os_user()?.as_ref())?;
        let hba = layout.pgdata().join("pg_hba.conf");
        std::fs::write(&hba, hba_conf(meta.spec.tls_required))
            .map_err(BackendError::io("writing", &hba))?;
        pg::chown(&hba, self.os_user()?.as_ref())
    }

    /// Checks that the server user can write `dir` (all parents searchable), with a fix when it cannot.
    async fn check_reachable(&self, dir: &Path) -> Result<(), BackendError> {
        let Some(u) = self.os_user()? else {
            return Ok(());
        };
        let ok = pg::command(Path::new("/usr/bin/test"), Some(&u))
            .arg("-w")
            .arg(dir)
            .status()
            .await
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(BackendError::Invalid {
                field: "local.data_dir".into(),
                message: format!(
                    "the PostgreSQL server runs as OS user {:?} (PostgreSQL refuses to run as root) and cannot reach {}; give it search permission on every parent directory (e.g. `chmod o+x` on them) or set local {{ data_dir }} to a directory it can reach, such as /var/lib/dbplatform",
                    u.name,
                    dir.display()
                ),
            })
        }
    }

    async fn create_inner(
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

    /// `pg_basebackup` (tar, gzip, WAL streamed in) into `parent/<id>/`, recorded in `backup.json`.
    async fn take_base_backup(
        &self,
        layout: &Layout,
        meta: &Metadata,
        parent: &Path,
        id: Option<String>,
    ) -> Result<BackupInfo, BackendError> {
        let bins = self.bins_for(meta)?;
        let user = self.os_user()?;
        let conn = self.conn(layout, meta, "postgres")?;
        let client = conn.connect().await?;
        let start_wal: String = client
            .query_one("SELECT pg_walfile_name(pg_current_wal_lsn())", &[])
            .await
            .map_err(|e| sql_err(&meta.spec.name, e))?
            .get(0);
        drop(client);
        let started_at = Utc::now();
        let id = id.unwrap_or_else(|| started_at.format("%Y%m%dT%H%M%S%.3fZ").to_string());
        pg::server_dir(parent, user.as_ref(), 0o700)?;
        let dir = parent.join(&id);
        pg::run(
            pg::command(&bins.tool("pg_basebackup"), user.as_ref())
                .env("PGPASSWORD", &conn.password)
                .arg("-h")
                .arg(&conn.host)
                .arg("-p")
                .arg(conn.port.to_string())
                .arg("-U")
                .arg(&conn.user)
                .arg("-D")
                .arg(&dir)
                .args([
                    "-Ft",
                    "-z",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-password",
                    "-l",
                ])
                .arg(format!("dbplatform {id}")),
            &format!("pg_basebackup of database {:?}", meta.spec.name),
        )
        .await?;
        let info = BackupInfo {
            id,
            location: dir.display().to_string(),
            started_at,
            finished_at: Utc::now(),
            start_wal: Some(start_wal),
        };
        let json = serde_json::to_string_pretty(&info).map_err(|e| BackendError::Metadata {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(dir.join("backup.json"), json)
            .map_err(BackendError::io("writing", dir.join("backup.json")))?;
        Ok(info)
    }

    fn backups_in(&self, dir: &Path) -> Result<Vec<BackupInfo>, BackendError> {
        let mut out = Vec::new();
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(BackendError::io("listing", dir)(e)),
        };
        for e in rd.flatten() {
            let p = e.path().join("backup.json");
            if let Ok(t) = std::fs::read_to_string(&p) {
                match serde_json::from_str::<BackupInfo>(&t) {
                    Ok(b) => out.push(b),
                    Err(err) => {
                        tracing::warn!("ignoring unreadable backup record {}: {err}", p.display())
                    }
                }
            }
        }
        out.sort_by_key(|b| b.finished_at);
        Ok(out)
    }

    /// Removes base backups older than the retention period (always keeping the newest) and WAL they no longer need.
    async fn prune(&self, layout: &Layout, meta: &Metadata) -> Result<(), BackendError> {
        let backups = self.backups_in(&layout.backups())?;
        let cutoff =
            Utc::now() - chrono::Duration::days(i64::from(meta.spec.backup_retention_days.max(1)));
        let keep_from = backups
            .iter()
            .position(|b| b.finished_at >= cutoff)
            .unwrap_or(backups.len().saturating_sub(1));
        for b in &backups[..keep_from] {
            std::fs::remove_dir_all(&b.location)
                .map_err(BackendError::io("removing expired backup", &b.location))?;
        }
        if let Some(oldest) = backups.get(keep_from).and_then(|b| b.start_wal.clone()) {
            let bins = self.bins_for(meta)?;
            if bins.has("pg_archivecleanup") {
                let user = self.os_user()?;
                pg::run(
                    pg::command(&bins.tool("pg_archivecleanup"), user.as_ref())
                        .arg(layout.archive())
                        .arg(&oldest),
                    "removing WAL older than the oldest kept backup",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Takes a base backup when the newest is older than the interval (the local "backup window").
    async fn ensure_recent_backup(
        &self,
        layout: &Layout,
        meta: &Metadata,
    ) -> Result<(), BackendError> {
        if meta.spec.backup_retention_days == 0 {
            return Ok(());
        }
        let newest = self
            .backups_in(&layout.backups())?
            .last()
            .map(|b| b.finished_at);
        if newest
            .is_none_or(|t| Utc::now() - t > chrono::Duration::hours(BASE_BACKUP_INTERVAL_HOURS))
        {
            self.take_base_backup(layout, meta, &layout.backups(), None)
                .await?;
            self.prune(layout, meta).await?;
        }
        Ok(())
    }

    /// Forces the current WAL segment into the archive and waits until it is there.
    async fn archive_now(
        &self,
        client: &tokio_postgres::Client,
        name: &str,
    ) -> Result<(), BackendError> {
        let wal: String = client
            .query_one("SELECT pg_walfile_name(pg_switch_wal())", &[])
            .await
            .map_err(|e| sql_err(name, e))?
            .get(0);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let row = client
                .query_one(
                    "SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_wal, ''), failed_count FROM pg_stat_archiver",
                    &[],
                )
                .await
                .map_err(|e| sql_err(name, e))?;
            let archived: String = row.get(0);
            if archived.as_str() >= wal.as_str() && archived.len() == wal.len() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                let failed: String = row.get(1);
                return Err(BackendError::Restore(format!(
                    "WAL segment {wal} of database {name:?} was not archived within 60 s (last archived {archived:?}, last failed {failed:?}); check the server log and that the wal-archive directory is writable"
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[async_trait]
impl DatabaseBackend for LocalBackend {
    fn kind(&self) -> &'static str {
        BACKEND
    }

    fn validate_spec(&self, spec: &DatabaseSpec) -> Result<(), BackendError> {
        validate_spec(spec)
    }

    fn restart_required(&self, current: &DatabaseSpec, desired: &DatabaseSpec) -> Vec<String> {
        let mut out = Vec::new();
        if sizing(&current.instance_class) != sizing(&desired.instance_class) {
            let (a, b) = (
                sizing(&current.instance_class),
                sizing(&desired.instance_class),
            );
            out.push(format!(
                "instance_class {:?} -> {:?} (shared_buffers {}MB -> {}MB, max_connections {} -> {})",
                current.instance_class, desired.instance_class, a.0, b.0, a.1, b.1
            ));
        }
        let keys: std::collections::BTreeSet<&String> = current
            .parameters
            .keys()
            .chain(desired.parameters.keys())
            .collect();
        for k in keys {
            if current.parameters.get(k) != desired.parameters.get(k)
                && RESTART_PARAMETERS.contains(&k.as_str())
            {
                out.push(format!("parameters.{k}"));
            }
        }
        out
    }

    async fn create(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, BackendError> {
        validate_spec(spec)?;
        let layout = self.layout(&spec.name);
        if layout.root.exists() {
            return Err(BackendError::AlreadyExists {
                name: spec.name.clone(),
                location: layout.root.display().to_string(),
            });
        }
        std::fs::create_dir_all(&self.data_dir)
            .map_err(BackendError::io("creating data directory", &self.data_dir))?;
        match self.create_inner(spec, &layout).await {
            Ok(info) => Ok(info),
            Err(e) => {
                // Leave nothing half-made behind: a retry must be able to start from scratch.
                if let Ok(bins) = self.bins(spec.engine_version.as_deref()) {
                    if self.is_running(&bins, &layout.pgdata()).await.ok()
                        == Some(DatabaseStatus::Available)
                    {
                        let _ = self.pg_ctl_stop(&bins, &layout.pgdata(), "immediate").await;
                    }
                }
                let _ = std::fs::remove_dir_all(&layout.root);
                Err(e)
            }
        }
    }

    async fn read(&self, name: &str) -> Result<Option<DatabaseInfo>, BackendError> {
        let Some((layout, meta)) = self.load(name)? else {
            return Ok(None);
        };
        if !layout.pgdata().join("PG_VERSION").exists() {
            return Ok(None);
        }
        let info = self.info(&layout, &meta).await?;
        if info.status == DatabaseStatus::Available {
            if let Err(e) = self.ensure_recent_backup(&layout, &meta).await {
                tracing::warn!("scheduled base backup of {name} failed: {e}");
            }
        }
        Ok(Some(info))
    }

    async fn update(
        &self,
        name: &str,
        desired: &DatabaseSpec,
    ) -> Result<UpdateOutcome, BackendError> {
        validate_spec(desired)?;
        let (layout, mut meta) = self.load_existing(name)?;
        for (field, a, b) in [
            ("engine", &meta.spec.engine, &desired.engine),
            ("db_name", &meta.spec.db_name, &desired.db_name),
            (
                "master_username",
                &meta.spec.master_username,
                &desired.master_username,
            ),
        ] {
            if a != b {
                return Err(BackendError::Invalid {
                    field: field.into(),
                    message: format!(
                        "cannot change {a:?} to {b:?} in place; the database must be replaced"
                    ),
                });
            }
        }
        if let Some(v) = &desired.engine_version {
            if v != major_of(&meta.engine_version_actual) {
                return Err(BackendError::Invalid {
                    field: "engine_version".into(),
                    message: format!(
                        "the local backend cannot upgrade PostgreSQL {} to {v} in place; the database must be replaced",
                        meta.engine_version_actual
                    ),
                });
            }
        }
        let bins = self.bins_for(&meta)?;
        let status = self.is_running(&bins, &layout.pgdata()).await?;
        let needs_restart = !self.restart_required(&meta.spec, desired).is_empty();
        let old = meta.clone();
        meta.spec = desired.clone();
        self.write_config(&layout, &meta)?;
        let mut restarted = false;
        let mut started = false;
        if status == DatabaseStatus::Available {
            let client = self.conn(&layout, &meta, "postgres")?.connect().await?;
            // Values PostgreSQL can check per session are tried with SET LOCAL first (pg_file_settings only
            // catches unknown names); settings that cannot change at run time are checked by the restart below.
            for (k, v) in &desired.parameters {
                if old.spec.parameters.get(k) == Some(v) {
                    continue;
                }
                let sql = format!("BEGIN; SET LOCAL {k} = {}; ROLLBACK", pg::conf_quote(v));
                if let Err(e) = client.batch_execute(&sql).await {
                    let _ = client.batch_execute("ROLLBACK").await;
                    let code = e.code().map(|c| c.code().to_string()).unwrap_or_default();
                    if code != "55P02" && code != "42501" {
                        self.write_config(&layout, &old)?;
                        let why = e
                            .as_db_error()
                            .map(|d| d.message().to_string())
                            .unwrap_or_else(|| e.to_string());
                        return Err(BackendError::Invalid {
                            field: format!("parameters.{k}"),
                            message: format!(
                                "PostgreSQL rejects {k} = {v:?} ({why}); fix or remove it"
                            ),
                        });
                    }
                }
            }
            let errors = client
                .query("SELECT coalesce(name, ''), error FROM pg_file_settings WHERE error IS NOT NULL AND error <> 'setting could not be applied'", &[])
                .await
                .map_err(|e| sql_err(name, e))?;
            if let Some(row) = errors.first() {
                let pname: String = row.get(0);
                let err: String = row.get(1);
                self.write_config(&layout, &old)?;
                return Err(BackendError::Invalid {
                    field: format!("parameters.{pname}"),
                    message: format!("PostgreSQL rejects this setting ({err}); fix or remove it"),
                });
            }
            client
                .batch_execute("SELECT pg_reload_conf()")
                .await
                .map_err(|e| sql_err(name, e))?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let pending: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_settings WHERE pending_restart",
                    &[],
                )
                .await
                .map_err(|e| sql_err(name, e))?
                .get(0);
            drop(client);
            if needs_restart || pending > 0 {
                self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
                if let Err(e) = self
                    .pg_ctl_start(
                        &bins,
                        &layout.pgdata(),
                        &layout.log(),
                        "restarting PostgreSQL to apply settings",
                    )
                    .await
                {
                    // Put the last working configuration back so the database comes up again.
                    self.write_config(&layout, &old)?;
                    self.pg_ctl_start(
                        &bins,
                        &layout.pgdata(),
                        &layout.log(),
                        "starting PostgreSQL with the previous settings",
                    )
                    .await?;
                    return Err(e);
                }
                restarted = true;
            }
        } else {
            if let Err(e) = self
                .pg_ctl_start(
                    &bins,
                    &layout.pgdata(),
                    &layout.log(),
                    &format!("starting stopped database {name:?}"),
                )
                .await
            {
                self.write_config(&layout, &old)?;
                return Err(e);
            }
            started = true;
        }
        self.save(&layout, &meta)?;
        if meta.spec.backup_retention_days > 0 {
            self.ensure_recent_backup(&layout, &meta).await?;
            self.prune(&layout, &meta).await?;
        }
        Ok(UpdateOutcome {
            info: self.info(&layout, &meta).await?,
            restarted,
            started,
        })
    }

    async fn delete(
        &self,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, BackendError> {
        let Some((layout, meta)) = self.load(name)? else {
            return Ok(DeleteOutcome { final_backup: None });
        };
        if meta.spec.deletion_protection {
            return Err(BackendError::DeletionProtected {
                name: name.to_string(),
            });
        }
        let bins = self.bins_for(&meta)?;
        let user = self.os_user()?;
        let status = self.is_running(&bins, &layout.pgdata()).await?;
        let mut final_backup = None;
        if !opts.skip_final_backup && layout.pgdata().join("PG_VERSION").exists() {
            let now = Utc::now();
            let id = opts
                .final_backup_name
                .clone()
                .unwrap_or_else(|| format!("{name}-{}", now.format("%Y%m%dT%H%M%SZ")));
            let parent = self.final_backups_dir();
            pg::server_dir(&parent, user.as_ref(), 0o755)?;
            let dir = parent.join(&id);
            if dir.exists() {
                return Err(BackendError::AlreadyExists {
                    name: id,
                    location: dir.display().to_string(),
                });
            }
            let info = if status == DatabaseStatus::Available {
                self.take_base_backup(&layout, &meta, &parent, Some(id.clone()))
                    .await?
            } else {
                // A stopped cluster is consistent on disk: a cold copy is a complete backup.
                pg::server_dir(&dir, user.as_ref(), 0o700)?;
                pg::run(
                    pg::command(Path::new("tar"), user.as_ref())
                        .arg("-czf")
                        .arg(dir.join("base.tar.gz"))
                        .arg("-C")
                        .arg(layout.pgdata())
                        .arg("."),
                    "final (cold) backup",
                )
                .await?;
                let info = BackupInfo {
                    id: id.clone(),
                    location: dir.display().to_string(),
                    started_at: now,
                    finished_at: Utc::now(),
                    start_wal: None,
                };
                let json =
                    serde_json::to_string_pretty(&info).map_err(|e| BackendError::Metadata {
                        path: dir.clone(),
                        message: e.to_string(),
                    })?;
                std::fs::write(dir.join("backup.json"), json)
                    .map_err(BackendError::io("writing", dir.join("backup.json")))?;
                info
            };
            for f in [layout.metadata(), layout.secret(), layout.ca_cert()] {
                if let Some(file) = f.file_name() {
                    std::fs::copy(&f, dir.join(file))
                        .map_err(BackendError::io("copying into the final backup", &f))?;
                }
            }
            final_backup = Some(info);
        }
        if status == DatabaseStatus::Available {
            self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
        }
        std::fs::remove_dir_all(&layout.root)
            .map_err(BackendError::io("removing", &layout.root))?;
        if meta.socket_dir != layout.run() {
            let _ = std::fs::remove_dir_all(&meta.socket_dir);
        }
        Ok(DeleteOutcome { final_backup })
    }

    async fn start(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let bins = self.bins_for(&meta)?;
        if self.is_running(&bins, &layout.pgdata()).await? != DatabaseStatus::Available {
            self.pg_ctl_start(
                &bins,
                &layout.pgdata(),
                &layout.log(),
                &format!("starting database {name:?}"),
            )
            .await?;
        }
        self.info(&layout, &meta).await
    }

    async fn stop(&self, name: &str) -> Result<(), BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let bins = self.bins_for(&meta)?;
        if self.is_running(&bins, &layout.pgdata()).await? == DatabaseStatus::Available {
            self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
        }
        Ok(())
    }

    async fn backup(&self, name: &str) -> Result<BackupInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let info = self
            .take_base_backup(&layout, &meta, &layout.backups(), None)
            .await?;
        self.prune(&layout, &meta).await?;
        Ok(info)
    }

    async fn list_backups(&self, name: &str) -> Result<Vec<BackupInfo>, BackendError> {
        let (layout, _) = self.load_existing(name)?;
        self.backups_in(&layout.backups())
    }

    async fn connection(&self, name: &str) -> Result<ConnectionInfo, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        self.conn(&layout, &meta, &meta.spec.db_name)
    }

    async fn restore(
        &self,
        name: &str,
        target: RestoreTarget,
    ) -> Result<RestoredInstance, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let bins = self.bins_for(&meta)?;
        let user = self.os_user()?;
        let u = user.as_ref();
        let now = Utc::now();
        if let RestoreTarget::PointInTime(t) = target {
            if t > now {
                return Err(BackendError::Invalid {
                    field: "point_in_time".into(),
                    message: format!(
                        "{} is in the future; give a past time or leave it unset for the latest",
                        rfc3339(t)
                    ),
                });
            }
        }
        let running = self.is_running(&bins, &layout.pgdata()).await? == DatabaseStatus::Available;
        // Make the source's latest changes restorable: a marker the recovery must reach, then a WAL switch.
        let mut target_setting = None;
        let mut recovery_point = match target {
            RestoreTarget::PointInTime(t) => t,
            RestoreTarget::Latest => now,
        };
        if running {
            let client = self.conn(&layout, &meta, "postgres")?.connect().await?;
            match target {
                RestoreTarget::Latest => {
                    let rp = format!("dbplatform-restore-{}", now.format("%Y%m%dT%H%M%S%.6fZ"));
                    client
                        .query_one("SELECT pg_create_restore_point($1)::text", &[&rp])
                        .await
                        .map_err(|e| sql_err(name, e))?;
                    recovery_point = Utc::now();
                    target_setting =
                        Some(format!("recovery_target_name = {}", pg::conf_quote(&rp)));
                }
                RestoreTarget::PointInTime(t) => {
                    // A commit after the target lets recovery see that it has passed it.
                    client
                        .batch_execute("SELECT txid_current()")
                        .await
                        .map_err(|e| sql_err(name, e))?;
                    target_setting = Some(format!(
                        "recovery_target_time = {}",
                        pg::conf_quote(&t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string())
                    ));
                }
            }
            self.archive_now(&client, name).await?;
        } else if let RestoreTarget::PointInTime(t) = target {
            target_setting = Some(format!(
                "recovery_target_time = {}",
                pg::conf_quote(&t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string())
            ));
        } else {
            recovery_point = newest_mtime(&layout.archive()).unwrap_or(now);
        }
        let backups = self.backups_in(&layout.backups())?;
        let until = match target {
            RestoreTarget::PointInTime(t) => t,
            RestoreTarget::Latest => Utc::now(),
        };
        let Some(base) = backups
            .iter()
            .rev()
            .find(|b| b.finished_at <= until)
            .cloned()
        else {
            return Err(BackendError::Restore(match backups.first() {
                None => format!("database {name:?} has no base backup yet (backup_retention_days = {}); nothing to restore", meta.spec.backup_retention_days),
                Some(b) => format!(
                    "point_in_time {} is before the oldest kept backup of {name:?} (finished {}); choose a later time",
                    rfc3339(until),
                    rfc3339(b.finished_at)
                ),
            }));
        };

        let id = format!("{name}-{}", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
        let scratch = Layout {
            root: self.restores_dir().join(&id),
        };
        std::fs::create_dir_all(&scratch.root)
            .map_err(BackendError::io("creating directory", &scratch.root))?;
        pg::chmod(&scratch.root, 0o755)?;
        let socket_dir = socket_dir_for(&scratch.run(), &scratch.root);
        let result = async {
            pg::server_dir(&scratch.pgdata(), u, 0o700)?;
            pg::server_dir(&scratch.run(), u, 0o755)?;
            pg::server_dir(&scratch.root.join("log"), u, 0o755)?;
            if socket_dir != scratch.run() {
                pg::server_dir(&socket_dir, u, 0o755)?;
            }
            let base_dir = PathBuf::from(&base.location);
            pg::run(
                pg::command(Path::new("tar"), u).arg("-xzf").arg(base_dir.join("base.tar.gz")).arg("-C").arg(scratch.pgdata()),
                &format!("unpacking base backup {} (base.tar.gz)", base.id),
            )
            .await?;
            if base_dir.join("pg_wal.tar.gz").exists() {
                pg::run(
                    pg::command(Path::new("tar"), u)
                        .arg("-xzf")
                        .arg(base_dir.join("pg_wal.tar.gz"))
                        .arg("-C")
                        .arg(scratch.pgdata().join("pg_wal")),
                    &format!("unpacking base backup {} (pg_wal.tar.gz)", base.id),
                )
                .await?;
            }
            let _ = std::fs::remove_file(scratch.pgdata().join("postmaster.pid"));
            let auto = scratch.pgdata().join("postgresql.auto.conf");
            let mut text = std::fs::read_to_string(&auto).unwrap_or_default();
            text.push_str(&format!(
                "\n# dbplatform scratch restore\nlisten_addresses = ''\nunix_socket_directories = {}\narchive_mode = off\nhot_standby = off\nrestore_command = {}\nrecovery_target_action = 'promote'\n",
                pg::conf_quote(&socket_dir.display().to_string()),
                pg::conf_quote(&format!("cp \"{}/%f\" \"%p\"", layout.archive().display())),
            ));
            if let Some(t) = &target_setting {
                text.push_str(t);
                text.push('\n');
            }
            std::fs::write(&auto, text).map_err(BackendError::io("writing", &auto))?;
            pg::chown(&auto, u)?;
            let signal = scratch.pgdata().join("recovery.signal");
            std::fs::write(&signal, "").map_err(BackendError::io("writing", &signal))?;
            pg::chown(&signal, u)?;
            if let Err(e) = self.pg_ctl_start(&bins, &scratch.pgdata(), &scratch.log(), "starting the restored copy").await {
                return Err(BackendError::Restore(format!(
                    "restoring {name:?} from base backup {} plus archived WAL failed: {e}",
                    base.id
                )));
            }
            let conn = ConnectionInfo {
                host: socket_dir.display().to_string(),
                port: meta.port,
                user: meta.spec.master_username.clone(),
                password: self.password(&layout)?,
                dbname: meta.spec.db_name.clone(),
            };
            // pg_ctl returns once the server runs; recovery may still be replaying WAL (or fail and exit).
            let deadline = std::time::Instant::now() + Duration::from_secs(900);
            loop {
                if self.is_running(&bins, &scratch.pgdata()).await? != DatabaseStatus::Available {
                    return Err(BackendError::Restore(format!(
                        "restoring {name:?} from base backup {} plus archived WAL failed: the recovering server stopped; its log ({}):\n{}",
                        base.id,
                        scratch.log().display(),
                        pg::log_tail(&scratch.log(), 12)
                    )));
                }
                if let Ok(client) = conn.connect().await {
                    if let Ok(row) = client.query_one("SELECT pg_is_in_recovery()", &[]).await {
                        if !row.get::<_, bool>(0) {
                            break;
                        }
                    }
                }
                if std::time::Instant::now() > deadline {
                    return Err(BackendError::Restore(format!(
                        "the restored copy of {name:?} was still recovering after 900 s; see {}",
                        scratch.log().display()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(conn)
        }
        .await;
        match result {
            Ok(connection) => Ok(RestoredInstance {
                id,
                connection,
                recovery_point,
                base_backup: base,
                location: scratch.root.display().to_string(),
            }),
            Err(e) => {
                let _ = self
                    .pg_ctl_stop(&bins, &scratch.pgdata(), "immediate")
                    .await;
                let _ = std::fs::remove_dir_all(&scratch.root);
                if socket_dir != scratch.run() {
                    let _ = std::fs::remove_dir_all(&socket_dir);
                }
                Err(e)
            }
        }
    }

    async fn check_integrity(
        &self,
        restored: &RestoredInstance,
    ) -> Result<IntegrityReport, BackendError> {
        let bins = self.bins(None)?;
        if !bins.has("pg_amcheck") {
            return Ok(IntegrityReport {
                tool: format!("pg_amcheck (not installed in {})", bins.bindir.display()),
                ran: false,
                ok: true,
                output: String::new(),
            });
        }
        let user = self.os_user()?;
        let c = &restored.connection;
        let out = pg::command(&bins.tool("pg_amcheck"), user.as_ref())
            .env("PGPASSWORD", &c.password)
            .arg("-h")
            .arg(&c.host)
            .arg("-p")
            .arg(c.port.to_string())
            .arg("-U")
            .arg(&c.user)
            .args([
                "--install-missing",
                "--all",
                "--no-password",
                "--maintenance-db",
            ])
            .arg(&c.dbname)
            .output()
            .await
            .map_err(BackendError::io(
                "running pg_amcheck on",
                &restored.location,
            ))?;
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .trim()
        .to_string();
        Ok(IntegrityReport {
            tool: "pg_amcheck".into(),
            ran: true,
            ok: out.status.success(),
            output,
        })
    }

    async fn discard_restored(&self, restored: &RestoredInstance) -> Result<(), BackendError> {
        let scratch = Layout {
            root: PathBuf::from(&restored.location),
        };
        if !scratch.root.starts_with(self.restores_dir()) {
            return Err(BackendError::Invalid {
                field: "location".into(),
                message: format!(
                    "{} is not a scratch restore of this backend",
                    scratch.root.display()
                ),
            });
        }
        let bins = self.bins(None)?;
        if self.is_running(&bins, &scratch.pgdata()).await? == DatabaseStatus::Available {
            self.pg_ctl_stop(&bins, &scratch.pgdata(), "immediate")
                .await?;
        }
        std::fs::remove_dir_all(&scratch.root)
            .map_err(BackendError::io("removing", &scratch.root))?;
        let sock = PathBuf::from(&restored.connection.host);
        if !sock.starts_with(&scratch.root) {
            let _ = std::fs::remove_dir_all(sock);
        }
        Ok(())
    }
}

/// The checks every spec must pass on this backend; messages name the attribute and the fix.
pub fn validate_spec(spec: &DatabaseSpec) -> Result<(), BackendError> {
    let invalid = |field: &str, message: String| {
        Err(BackendError::Invalid {
            field: field.into(),
            message,
        })
    };
    if !valid_identifier(&spec.name) {
        return invalid(
            "name",
            format!("{:?} is not a valid database name: use 1-63 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen and without \"--\"", spec.name),
        );
    }
    if spec.engine != "postgres" {
        return invalid(
            "engine",
            format!("the local backend runs PostgreSQL only, not {:?}; set engine = \"postgres\" or use the aws backend", spec.engine),
        );
    }
    if let Some(v) = &spec.engine_version {
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
            return invalid(
                "engine_version",
                format!("{v:?} is not a PostgreSQL major version; use e.g. \"15\""),
            );
        }
    }
    if spec.multi_az {
        return invalid(
            "multi_az",
            "the local backend runs one server per database and cannot be multi-AZ; set multi_az = false or use the aws backend".into(),
        );
    }
    if !valid_sql_name(&spec.db_name) {
        return invalid(
            "db_name",
            format!("{:?} is not a valid database name: 1-63 letters, digits and underscores, starting with a letter", spec.db_name),
        );
    }
    if !valid_sql_name(&spec.master_username) || spec.master_username.starts_with("pg_") {
        return invalid(
            "master_username",
            format!(
                "{:?} is not a valid role name: 1-63 letters, digits and underscores, starting with a letter, not starting with pg_",
                spec.master_username
            ),
        );
    }
    for (k, v) in &spec.parameters {
        if k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        {
            return invalid(
                &format!("parameters.{k}"),
                "not a PostgreSQL setting name (lowercase letters, digits, _ and .)".into(),
            );
        }
        if MANAGED_PARAMETERS.contains(&k.as_str()) {
            return invalid(
                &format!("parameters.{k}"),
                format!("{k} is managed by dbplatform (archiving, TLS and access depend on it); remove it from parameters"),
            );
        }
        if v.contains('\n') {
            return invalid(
                &format!("parameters.{k}"),
                "values cannot contain line breaks".into(),
            );
        }
    }
    Ok(())
}

/// Database identifiers as RDS accepts them, so a name works on both backends.
fn valid_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn valid_sql_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Memory and connection sizing an instance class stands for on this machine: (shared_buffers MB, max_connections).
pub fn sizing(instance_class: &str) -> (u32, u32) {
    let size = instance_class.rsplit('.').next().unwrap_or("");
    match size {
        "local" | "micro" => (32, 50),
        "small" => (64, 100),
        "medium" => (128, 150),
        "large" => (256, 200),
        "xlarge" => (512, 300),
        _ if size.ends_with("xlarge") => (1024, 400),
        _ => (128, 100),
    }
}

/// `dbplatform.conf`: the settings the backend owns, then the user's parameters.
fn server_conf(spec: &DatabaseSpec, port: u16, socket_dir: &Path, archive: &Path) -> String {
    let (shared_buffers, max_connections) = sizing(&spec.instance_class);
    let tls = match spec.min_tls_version.as_str() {
        "1.3" => "TLSv1.3",
        _ => "TLSv1.2",
    };
    let archive_on = spec.backup_retention_days > 0;
    let mut s = format!(
        "# Managed by dbplatform (Terraform); edits are overwritten on the next apply.\n\
         listen_addresses = '127.0.0.1'\n\
         port = {port}\n\
         unix_socket_directories = {sock}\n\
         password_encryption = 'scram-sha-256'\n\
         ssl = on\n\
         ssl_cert_file = 'server.crt'\n\
         ssl_key_file = 'server.key'\n\
         ssl_min_protocol_version = '{tls}'\n\
         wal_level = replica\n\
         max_wal_senders = 5\n\
         archive_mode = {archive_mode}\n\
         archive_command = {archive_command}\n\
         archive_timeout = 60\n\
         shared_buffers = {shared_buffers}MB\n\
         max_connections = {max_connections}\n",
        sock = pg::conf_quote(&socket_dir.display().to_string()),
        archive_mode = if archive_on { "on" } else { "off" },
        archive_command = pg::conf_quote(&format!(
            "test ! -f \"{dir}/%f\" && cp \"%p\" \"{dir}/%f.tmp\" && mv \"{dir}/%f.tmp\" \"{dir}/%f\"",
            dir = archive.display()
        )),
    );
    if !spec.parameters.is_empty() {
        s.push_str("# parameters from the dbplatform_database resource\n");
        for (k, v) in &spec.parameters {
            s.push_str(&format!("{k} = {}\n", pg::conf_quote(v)));
        }
    }
    s
}

/// Client authentication: scram-sha-256 everywhere, TCP only over TLS when the tier requires it.
fn hba_conf(tls_required: bool) -> String {
    let host = if tls_required { "hostssl" } else { "host" };
    let mut s = format!(
        "# Managed by dbplatform.\n\
         local   all          all                   scram-sha-256\n\
         local   replication  all                   scram-sha-256\n\
         {host:<7} all          all   127.0.0.1/32    scram-sha-256\n\
         {host:<7} replication  all   127.0.0.1/32    scram-sha-256\n"
    );
    if tls_required {
        s.push_str("hostnossl all        all   0.0.0.0/0       reject\n");
    }
    s
}

/// A libpq URI without the password.
pub fn connection_string(spec: &DatabaseSpec, port: u16) -> String {
    let mode = if spec.tls_required {
        "require"
    } else {
        "prefer"
    };
    format!(
        "postgresql://{}@127.0.0.1:{port}/{}?sslmode={mode}",
        spec.master_username, spec.db_name
    )
}

/// Unix socket paths are limited to ~107 bytes: use a short directory under /tmp when `preferred` is too long.
fn socket_dir_for(preferred: &Path, root: &Path) -> PathBuf {
    if preferred.as_os_str().len() + ".s.PGSQL.65535".len() + 1 < 100 {
        return preferred.to_path_buf();
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut h);
    PathBuf::from(format!("/tmp/dbplatform-{:016x}", h.finish()))
}

fn free_port() -> Result<u16, BackendError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(BackendError::io("finding a free port on", "127.0.0.1"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(BackendError::io("finding a free port on", "127.0.0.1"))
}

fn write_private(path: &Path, content: &str) -> Result<(), BackendError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(BackendError::io("writing", path))?;
    f.write_all(content.as_bytes())
        .map_err(BackendError::io("writing", path))
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn sql_err(name: &str, e: tokio_postgres::Error) -> BackendError {
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    };
    BackendError::Sql {
        name: name.to_string(),
        message,
    }
}

fn major_of(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn newest_mtime(dir: &Path) -> Option<DateTime<Utc>> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()
        .map(DateTime::<Utc>::from)
}

/// Parameters map helper for callers building specs.
pub fn parameters(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> DatabaseSpec {
        DatabaseSpec {
            name: "orders".into(),
            engine: "postgres".into(),
            engine_version: None,
            tier: "tier-3".into(),
            instance_class: "db.t4g.micro".into(),
            db_name: "app".into(),
            master_username: "app_admin".into(),
            multi_az: false,
            backup_retention_days: 1,
            point_in_time_recovery: false,
            deletion_protection: false,
            tls_required: true,
            min_tls_version: "1.2".into(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn names_follow_rds_rules() {
        assert!(valid_identifier("orders-eu-1"));
        for bad in ["", "Orders", "1db", "a--b", "a-", "a_b"] {
            assert!(!valid_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn spec_errors_name_the_attribute_and_fix() {
        let mut s = spec();
        s.engine = "mysql".into();
        let e = validate_spec(&s).unwrap_err().to_string();
        assert!(
            e.starts_with("engine:") && e.contains("engine = \"postgres\""),
            "{e}"
        );
        let mut s = spec();
        s.multi_az = true;
        assert!(validate_spec(&s)
            .unwrap_err()
            .to_string()
            .starts_with("multi_az:"));
        let mut s = spec();
        s.parameters = parameters(&[("archive_command", "true")]);
        let e = validate_spec(&s).unwrap_err().to_string();
        assert!(
            e.contains("parameters.archive_command") && e.contains("managed by dbplatform"),
            "{e}"
        );
        assert!(validate_spec(&spec()).is_ok());
    }

    #[test]
    fn restart_needed_for_postmaster_settings_only() {
        let b = LocalBackend::new("/nonexistent");
        let a = spec();
        let mut c = spec();
        c.parameters = parameters(&[("work_mem", "8MB")]);
        assert!(b.restart_required(&a, &c).is_empty());
        c.parameters = parameters(&[("max_connections", "80")]);
        assert_eq!(
            b.restart_required(&a, &c),
            vec!["parameters.max_connections".to_string()]
        );
        let mut d = spec();
        d.instance_class = "db.t4g.medium".into();
        assert!(b.restart_required(&a, &d)[0].contains("shared_buffers 32MB -> 128MB"));
    }

    #[test]
    fn tls_required_rejects_plain_tcp() {
        assert!(hba_conf(true).contains("hostnossl all        all   0.0.0.0/0       reject"));
        assert!(!hba_conf(false).contains("reject"));
        let conf = server_conf(&spec(), 5555, Path::new("/r"), Path::new("/a"));
        assert!(
            conf.contains("port = 5555")
                && conf.contains("archive_mode = on")
                && conf.contains("ssl = on")
        );
        assert_eq!(
            connection_string(&spec(), 5555),
            "postgresql://app_admin@127.0.0.1:5555/app?sslmode=require"
        );
    }

    #[test]
    fn long_socket_paths_move_to_tmp() {
        let long = PathBuf::from(format!("/{}", "x".repeat(120)));
        assert!(socket_dir_for(&long.join("run"), &long)
            .to_string_lossy()
            .starts_with("/tmp/dbplatform-"));
        assert_eq!(
            socket_dir_for(Path::new("/d/run"), Path::new("/d")),
            PathBuf::from("/d/run")
        );
    }
}
