//! Controlling one cluster with `pg_ctl` as the OS user that owns its data directory: status, start (with the
//! log's tail when it fails), stop, and the two things a new server needs first: a free port and a socket
//! directory short enough for a Unix socket path.

use std::path::{Path, PathBuf};

use crate::identity;
use crate::pg::{self, PgBinaries};
use crate::LocalPgError;

/// What `pg_ctl status` says about a data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerStatus {
    /// A server runs on it.
    Running,
    /// It is a cluster and no server runs on it.
    Stopped,
    /// It is not a cluster (no `PG_VERSION`) or pg_ctl could not tell.
    Failed,
}

/// Asks `pg_ctl status` whether a server runs on `pgdata`.
pub async fn status(bins: &PgBinaries, pgdata: &Path) -> Result<ServerStatus, LocalPgError> {
    if !pgdata.join("PG_VERSION").exists() {
        return Ok(ServerStatus::Failed);
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
        .map_err(LocalPgError::io("running pg_ctl status for", pgdata))?;
    Ok(match status.code() {
        Some(0) => ServerStatus::Running,
        Some(3) => ServerStatus::Stopped,
        _ => ServerStatus::Failed,
    })
}

/// Starts the server on `pgdata` logging to `log` and waits until it runs (pg_ctl -w, up to 600 s); `what`
/// names the step in errors, which carry the log's last lines.
pub async fn start(
    bins: &PgBinaries,
    pgdata: &Path,
    log: &Path,
    what: &str,
) -> Result<(), LocalPgError> {
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
    if let Err(LocalPgError::Command {
        what,
        status,
        output,
    }) = r
    {
        return Err(LocalPgError::Command {
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

/// Stops the server on `pgdata` in `mode` (`fast`, `immediate`, `smart`) and waits until it has exited.
pub async fn stop(bins: &PgBinaries, pgdata: &Path, mode: &str) -> Result<(), LocalPgError> {
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

/// Whether the server on `pgdata` accepts connections: the status line of `postmaster.pid` (PostgreSQL 10 and
/// later) reads `ready`; a server still recovering with `hot_standby = off` reads `starting`.
pub fn accepts_connections(pgdata: &Path) -> bool {
    std::fs::read_to_string(pgdata.join("postmaster.pid"))
        .map(|t| t.lines().nth(7).map(str::trim) == Some("ready"))
        .unwrap_or(false)
}

/// Unix socket paths are limited to ~107 bytes: use a short directory under /tmp when `preferred` is too long.
pub fn socket_dir_for(preferred: &Path, root: &Path) -> PathBuf {
    if preferred.as_os_str().len() + ".s.PGSQL.65535".len() + 1 < 100 {
        return preferred.to_path_buf();
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut h);
    PathBuf::from(format!("/tmp/dbplatform-{:016x}", h.finish()))
}

/// A TCP port nothing listens on now (the kernel's pick on 127.0.0.1).
pub fn free_port() -> Result<u16, LocalPgError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(LocalPgError::io("finding a free port on", "127.0.0.1"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(LocalPgError::io("finding a free port on", "127.0.0.1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_socket_paths_move_to_a_short_stable_directory_under_tmp() {
        let short = Path::new("/var/lib/dbplatform/databases/a/run");
        assert_eq!(socket_dir_for(short, Path::new("/x")), short);
        let long = PathBuf::from(format!("/{}/run", "d".repeat(120)));
        let a = socket_dir_for(&long, Path::new("/root-a"));
        assert!(
            a.starts_with("/tmp") && a.as_os_str().len() < 40,
            "{}",
            a.display()
        );
        assert_eq!(a, socket_dir_for(&long, Path::new("/root-a")));
        assert_ne!(a, socket_dir_for(&long, Path::new("/root-b")));
    }

    #[test]
    fn only_a_ready_postmaster_accepts_connections() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!accepts_connections(dir.path()), "no postmaster.pid");
        let pid = |status: &str| {
            format!(
                "123\n{}\n1700000000\n5432\n/tmp\n\n  5432001    32768\n{status}\n",
                dir.path().display()
            )
        };
        std::fs::write(dir.path().join("postmaster.pid"), pid("starting")).unwrap();
        assert!(!accepts_connections(dir.path()));
        std::fs::write(dir.path().join("postmaster.pid"), pid("ready   ")).unwrap();
        assert!(accepts_connections(dir.path()));
    }

    #[test]
    fn a_free_port_is_not_zero() {
        assert_ne!(free_port().unwrap(), 0);
    }
}
