//! Running PostgreSQL servers with pg_ctl: status, start (with the log tail on failure), stop, writing the
//! server's configuration files, and checking that the server user can reach a directory.

use std::path::{Path, PathBuf};

use super::backend::LocalBackend;
use super::conf::{hba_conf, server_conf};
use super::identity;
use super::layout::{Layout, Metadata};
use super::pg::{self, OsUser, PgBinaries};
use crate::backend::{BackendError, DatabaseStatus};

impl LocalBackend {
    pub(super) async fn is_running(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
    ) -> Result<DatabaseStatus, BackendError> {
        if !pgdata.join("PG_VERSION").exists() {
            return Ok(DatabaseStatus::Failed);
        }
        let user = identity::owner_of(pgdata)?;
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

    pub(super) async fn pg_ctl_start(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
        log: &Path,
        what: &str,
    ) -> Result<(), BackendError> {
        let user = identity::owner_of(pgdata)?;
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

    pub(super) async fn pg_ctl_stop(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
        mode: &str,
    ) -> Result<(), BackendError> {
        let user = identity::owner_of(pgdata)?;
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

    /// Writes `dbplatform.conf` (included from postgresql.conf), `pg_hba.conf` and `pg_ident.conf` for a spec.
    pub(super) fn write_config(
        &self,
        layout: &Layout,
        meta: &Metadata,
    ) -> Result<(), BackendError> {
        let user = identity::owner_of(&layout.pgdata())?;
        let conf = layout.pgdata().join("dbplatform.conf");
        let text = server_conf(&meta.spec, meta.port, &meta.socket_dir, &layout.archive());
        std::fs::write(&conf, text).map_err(BackendError::io("writing", &conf))?;
        pg::chown(&conf, user.as_ref())?;
        let hba = layout.pgdata().join("pg_hba.conf");
        std::fs::write(
            &hba,
            hba_conf(meta.spec.tls_required, meta.admin_role.is_some()),
        )
        .map_err(BackendError::io("writing", &hba))?;
        pg::chown(&hba, user.as_ref())?;
        if meta.admin_role.is_some() {
            let ident = layout.pgdata().join("pg_ident.conf");
            std::fs::write(&ident, identity::ident_conf(user.as_ref()))
                .map_err(BackendError::io("writing", &ident))?;
            pg::chown(&ident, user.as_ref())?;
        }
        Ok(())
    }

    /// Checks that the server user can write `dir` (all parents searchable), with a fix when it cannot.
    pub(super) async fn check_reachable(
        &self,
        dir: &Path,
        user: Option<&OsUser>,
    ) -> Result<(), BackendError> {
        let Some(u) = user.cloned() else {
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
}

/// Unix socket paths are limited to ~107 bytes: use a short directory under /tmp when `preferred` is too long.
pub(super) fn socket_dir_for(preferred: &Path, root: &Path) -> PathBuf {
    if preferred.as_os_str().len() + ".s.PGSQL.65535".len() + 1 < 100 {
        return preferred.to_path_buf();
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut h);
    PathBuf::from(format!("/tmp/dbplatform-{:016x}", h.finish()))
}

pub(super) fn free_port() -> Result<u16, BackendError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(BackendError::io("finding a free port on", "127.0.0.1"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(BackendError::io("finding a free port on", "127.0.0.1"))
}
