//! Running PostgreSQL servers as the backend does: `localpg::server`'s pg_ctl calls as backend methods,
//! writing the server's configuration files, and checking that the server user can reach a directory.

use std::path::Path;

use localpg::server::{self, ServerStatus};
pub(super) use localpg::server::{free_port, socket_dir_for};

use super::backend::LocalBackend;
use super::conf::{hba_conf, server_conf};
use super::identity;
use super::layout::{Layout, Metadata};
use super::pg::{self, OsUser, PgBinaries};
use crate::backend::{BackendError, DatabaseStatus};

impl LocalBackend {
    /// `pg_ctl status` as the backend's status (a directory that is no cluster reads `Failed`).
    pub(super) async fn is_running(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
    ) -> Result<DatabaseStatus, BackendError> {
        Ok(match server::status(bins, pgdata).await? {
            ServerStatus::Running => DatabaseStatus::Available,
            ServerStatus::Stopped => DatabaseStatus::Stopped,
            ServerStatus::Failed => DatabaseStatus::Failed,
        })
    }

    /// Starts a cluster (see `localpg::server::start`).
    pub(super) async fn pg_ctl_start(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
        log: &Path,
        what: &str,
    ) -> Result<(), BackendError> {
        Ok(server::start(bins, pgdata, log, what).await?)
    }

    /// Stops a cluster in `mode` (see `localpg::server::stop`).
    pub(super) async fn pg_ctl_stop(
        &self,
        bins: &PgBinaries,
        pgdata: &Path,
        mode: &str,
    ) -> Result<(), BackendError> {
        Ok(server::stop(bins, pgdata, mode).await?)
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
