//! Scratch copies: a base backup plus the source's archived WAL restored into a new cluster under
//! `<data_dir>/restores/`, started on a free port as the OS user that owns the source (so no OS user is made for
//! it), waited on until recovery has ended, and removed again. Choosing the backup and the recovery target, and
//! what runs on the copy, are the caller's (the provider's restore tests, dbpolicy's dry runs).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backups::BackupInfo;
use crate::identity;
use crate::layout::Layout;
use crate::pg::{self, PgBinaries};
use crate::server::{self, ServerStatus};
use crate::LocalPgError;

/// What to restore where.
#[derive(Debug, Clone)]
pub struct RestoreRequest<'a> {
    /// The database whose backup and WAL archive are restored (its server need not run).
    pub source: &'a Layout,
    /// The binaries of the source's PostgreSQL version.
    pub bins: &'a PgBinaries,
    /// The base backup to start from (one of the source's).
    pub base: &'a BackupInfo,
    /// The copy's directory, under [`crate::data_dir::restores_dir`]; it must not exist yet.
    pub dest: PathBuf,
    /// A `recovery_target_*` line for postgresql.conf; `None` replays all archived WAL.
    pub recovery_target: Option<String>,
    /// How long WAL replay may take before the restore is given up.
    pub recovery_limit: Duration,
}

/// A running scratch copy: where it is and how to reach it (its Unix socket only; it listens on no TCP address).
#[derive(Debug, Clone, PartialEq)]
pub struct ScratchCluster {
    /// The copy's directory (`pgdata/`, `run/`, `log/`).
    pub root: PathBuf,
    /// The directory of its Unix socket (`run/`, or a short one under /tmp when that path is too long).
    pub socket_dir: PathBuf,
    /// The port in its socket's name.
    pub port: u16,
}

impl ScratchCluster {
    /// The copy's cluster.
    pub fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }

    /// The copy's server log, named in errors.
    pub fn log(&self) -> PathBuf {
        self.root.join("log").join("server.log")
    }
}

/// A scratch copy's directory name: the source's name and the moment, unique per restore.
pub fn scratch_id(name: &str, now: DateTime<Utc>) -> String {
    format!("{name}-{}", now.format("%Y%m%dT%H%M%S%.3fZ"))
}

/// The settings appended to the copy's `postgresql.auto.conf`: no TCP, its own socket and port, no archiving
/// into the source's archive, WAL fetched from that archive, promoted when recovery ends.
fn recovery_conf(socket_dir: &Path, port: u16, archive: &Path, target: Option<&str>) -> String {
    let mut text = format!(
        "\n# dbplatform scratch restore\nlisten_addresses = ''\nunix_socket_directories = {}\nport = {port}\narchive_mode = off\nhot_standby = off\nrestore_command = {}\nrecovery_target_action = 'promote'\n",
        pg::conf_quote(&socket_dir.display().to_string()),
        pg::conf_quote(&format!("cp \"{}/%f\" \"%p\"", archive.display())),
    );
    if let Some(t) = target {
        text.push_str(t);
        text.push('\n');
    }
    text
}

/// Restores `req.base` plus archived WAL into `req.dest` and starts it; on any failure the partial copy is
/// stopped and removed before the error is returned.
pub async fn restore(req: &RestoreRequest<'_>) -> Result<ScratchCluster, LocalPgError> {
    let user = identity::owner_of(&req.source.pgdata())?;
    let u = user.as_ref();
    let scratch = Layout {
        root: req.dest.clone(),
    };
    if let Some(restores) = scratch.root.parent() {
        std::fs::create_dir_all(restores)
            .map_err(LocalPgError::io("creating directory", restores))?;
    }
    std::fs::create_dir(&scratch.root)
        .map_err(LocalPgError::io("creating directory", &scratch.root))?;
    let copy = ScratchCluster {
        socket_dir: server::socket_dir_for(&scratch.run(), &scratch.root),
        port: server::free_port()?,
        root: scratch.root.clone(),
    };
    let result = async {
        pg::chmod(&scratch.root, 0o755)?;
        pg::server_dir(&scratch.pgdata(), u, 0o700)?;
        pg::server_dir(&scratch.run(), u, 0o755)?;
        pg::server_dir(&scratch.root.join("log"), u, 0o755)?;
        if copy.socket_dir != scratch.run() {
            pg::server_dir(&copy.socket_dir, u, 0o755)?;
        }
        unpack(req, &scratch, u).await?;
        let _ = std::fs::remove_file(scratch.pgdata().join("postmaster.pid"));
        let auto = scratch.pgdata().join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&auto).unwrap_or_default();
        text.push_str(&recovery_conf(
            &copy.socket_dir,
            copy.port,
            &req.source.archive(),
            req.recovery_target.as_deref(),
        ));
        std::fs::write(&auto, text).map_err(LocalPgError::io("writing", &auto))?;
        pg::chown(&auto, u)?;
        let signal = scratch.pgdata().join("recovery.signal");
        std::fs::write(&signal, "").map_err(LocalPgError::io("writing", &signal))?;
        pg::chown(&signal, u)?;
        let name = req.source.name();
        if let Err(e) = server::start(
            req.bins,
            &scratch.pgdata(),
            &copy.log(),
            "starting the restored copy",
        )
        .await
        {
            return Err(LocalPgError::Restore(format!(
                "restoring {name:?} from base backup {} plus archived WAL failed: {e}",
                req.base.id
            )));
        }
        wait_for_promotion(req, &copy).await
    }
    .await;
    if let Err(e) = result {
        let _ = server::stop(req.bins, &copy.pgdata(), "immediate").await;
        let _ = std::fs::remove_dir_all(&copy.root);
        if !copy.socket_dir.starts_with(&copy.root) {
            let _ = std::fs::remove_dir_all(&copy.socket_dir);
        }
        return Err(e);
    }
    Ok(copy)
}

/// Unpacks the base backup's tarballs into the copy, as the OS user that will run it.
async fn unpack(
    req: &RestoreRequest<'_>,
    scratch: &Layout,
    u: Option<&pg::OsUser>,
) -> Result<(), LocalPgError> {
    let base_dir = PathBuf::from(&req.base.location);
    pg::run(
        pg::command(Path::new("tar"), u)
            .arg("-xzf")
            .arg(base_dir.join("base.tar.gz"))
            .arg("-C")
            .arg(scratch.pgdata()),
        &format!("unpacking base backup {} (base.tar.gz)", req.base.id),
    )
    .await?;
    if base_dir.join("pg_wal.tar.gz").exists() {
        pg::run(
            pg::command(Path::new("tar"), u)
                .arg("-xzf")
                .arg(base_dir.join("pg_wal.tar.gz"))
                .arg("-C")
                .arg(scratch.pgdata().join("pg_wal")),
            &format!("unpacking base backup {} (pg_wal.tar.gz)", req.base.id),
        )
        .await?;
    }
    Ok(())
}

/// pg_ctl returns once the server runs; recovery may still be replaying WAL (or fail and exit). The copy is
/// usable once promoted: `recovery.signal` gone and the postmaster accepting connections.
async fn wait_for_promotion(
    req: &RestoreRequest<'_>,
    copy: &ScratchCluster,
) -> Result<(), LocalPgError> {
    let name = req.source.name();
    let deadline = std::time::Instant::now() + req.recovery_limit;
    loop {
        if server::status(req.bins, &copy.pgdata()).await? != ServerStatus::Running {
            return Err(LocalPgError::Restore(format!(
                "restoring {name:?} from base backup {} plus archived WAL failed: the recovering server stopped; its log ({}):\n{}",
                req.base.id,
                copy.log().display(),
                pg::log_tail(&copy.log(), 12)
            )));
        }
        if !copy.pgdata().join("recovery.signal").exists()
            && server::accepts_connections(&copy.pgdata())
        {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(LocalPgError::Restore(format!(
                "the restored copy of {name:?} was still recovering after {} s; see {}",
                req.recovery_limit.as_secs(),
                copy.log().display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops a scratch copy (immediately: it is thrown away) and removes its directory and socket directory. Only
/// a directory under `restores` is touched, so a wrong location can never remove a database.
pub async fn discard(
    bins: &PgBinaries,
    restores: &Path,
    copy: &ScratchCluster,
) -> Result<(), LocalPgError> {
    if !copy.root.starts_with(restores) || copy.root == restores {
        return Err(LocalPgError::Invalid {
            field: "location".into(),
            message: format!(
                "{} is not a scratch restore under {}",
                copy.root.display(),
                restores.display()
            ),
        });
    }
    if server::status(bins, &copy.pgdata()).await? == ServerStatus::Running {
        server::stop(bins, &copy.pgdata(), "immediate").await?;
    }
    std::fs::remove_dir_all(&copy.root).map_err(LocalPgError::io("removing", &copy.root))?;
    if !copy.socket_dir.starts_with(&copy.root) {
        let _ = std::fs::remove_dir_all(&copy.socket_dir);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_listens_on_its_own_socket_and_never_archives() {
        let text = recovery_conf(
            Path::new("/d/restores/x/run"),
            54321,
            Path::new("/d/databases/orders/wal-archive"),
            Some("recovery_target_name = 'rp'"),
        );
        for line in [
            "listen_addresses = ''",
            "unix_socket_directories = '/d/restores/x/run'",
            "port = 54321",
            "archive_mode = off",
            "restore_command = 'cp \"/d/databases/orders/wal-archive/%f\" \"%p\"'",
            "recovery_target_action = 'promote'",
            "recovery_target_name = 'rp'",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn scratch_ids_name_the_source_and_the_moment() {
        let t: DateTime<Utc> = "2026-12-05T07:00:01.250Z".parse().unwrap();
        assert_eq!(scratch_id("orders", t), "orders-20261205T070001.250Z");
    }

    #[tokio::test]
    async fn discard_refuses_a_directory_outside_the_restores_folder() {
        let bins = PgBinaries {
            bindir: PathBuf::from("/nonexistent"),
            major: "15".into(),
            version: "15.0".into(),
        };
        let copy = ScratchCluster {
            root: PathBuf::from("/var/lib/dbplatform/databases/orders"),
            socket_dir: PathBuf::from("/tmp/x"),
            port: 1,
        };
        let e = discard(&bins, Path::new("/var/lib/dbplatform/restores"), &copy)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a scratch restore"), "{e}");
    }
}
