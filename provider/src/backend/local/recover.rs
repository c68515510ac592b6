//! What a killed provider may have left, and what to do with it: a database directory is classified by its
//! metadata (absent, foreign, being created, complete, being destroyed); partial leftovers the provider owns are
//! stopped and removed; and an import is allowed only for a complete database its master user can connect to.

use std::path::Path;

use super::backend::LocalBackend;
use super::create::missing_after;
use super::layout::{Layout, Metadata, Phase, BACKEND};
use super::pg::PgBinaries;
use crate::backend::{BackendError, DatabaseInfo, DatabaseStatus};

/// What is at `databases/<name>` now.
pub(super) enum Found {
    /// Nothing.
    Absent,
    /// A directory this provider cannot prove it made (no readable `metadata.json`): never touched.
    Foreign(String),
    /// A create that did not finish; `live` when the process creating it still runs.
    Creating { meta: Box<Metadata>, live: bool },
    /// A complete database.
    Ready(Box<Metadata>),
    /// A destroy that did not finish.
    Deleting(Box<Metadata>),
}

impl LocalBackend {
    /// Classifies `databases/<name>` (see [`Found`]).
    pub(super) fn inspect(&self, layout: &Layout) -> Found {
        if !layout.root.exists() {
            return Found::Absent;
        }
        match self.load(&layout.name()) {
            Ok(None) => Found::Foreign(format!(
                "{} exists but has no metadata.json, so this provider did not make it (or an older version was \
                 interrupted before writing it)",
                layout.root.display()
            )),
            Err(e) => Found::Foreign(e.to_string()),
            Ok(Some((_, meta))) => match meta.phase {
                Phase::Ready => Found::Ready(Box::new(meta)),
                Phase::Deleting => Found::Deleting(Box::new(meta)),
                Phase::Creating => {
                    let live = meta.owner_process.is_some_and(|(pid, ticks)| {
                        pid != std::process::id() && crate::liveness::alive(pid, ticks)
                    });
                    Found::Creating {
                        meta: Box::new(meta),
                        live,
                    }
                }
            },
        }
    }

    /// Stops the server of a database directory this provider owns (if one runs) and removes the directory:
    /// moved aside first (atomic), then deleted, so a kill midway leaves only a `.deleting-*` sibling that
    /// [`LocalBackend::sweep`] removes later.
    pub(super) async fn discard(
        &self,
        layout: &Layout,
        meta: &Metadata,
    ) -> Result<(), BackendError> {
        if layout.pgdata().join("postmaster.pid").exists() {
            let bins = self.bins_for(meta).or_else(|_| self.bins(None))?;
            if self.is_running(&bins, &layout.pgdata()).await? == DatabaseStatus::Available {
                self.pg_ctl_stop(&bins, &layout.pgdata(), "immediate")
                    .await?;
            }
        }
        let aside = layout.sibling("deleting");
        std::fs::rename(&layout.root, &aside)
            .map_err(BackendError::io("moving aside", &layout.root))?;
        crate::fault_points::reached("local.delete.detached");
        std::fs::remove_dir_all(&aside).map_err(BackendError::io("removing", &aside))?;
        if meta.socket_dir != layout.run() {
            let _ = std::fs::remove_dir_all(&meta.socket_dir);
        }
        Ok(())
    }

    /// Removes what interrupted creates and destroys of `name` left beside `databases/<name>`: `.creating-NAME-PID`
    /// and `.deleting-NAME-PID` directories of processes that are gone (their names prove they are ours).
    pub(super) async fn sweep(&self, name: &str) {
        let dir = self.data_dir.join("databases");
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return;
        };
        for e in rd.flatten() {
            let file = e.file_name().to_string_lossy().to_string();
            for what in ["creating", "deleting"] {
                let Some(pid) = file
                    .strip_prefix(&format!(".{what}-{name}-"))
                    .and_then(|p| p.parse::<u32>().ok())
                else {
                    continue;
                };
                if pid != std::process::id() && crate::liveness::alive(pid, 0) {
                    continue;
                }
                let path = e.path();
                self.stop_leftover_server(&path.join("pgdata")).await;
                if let Err(err) = std::fs::remove_dir_all(&path) {
                    tracing::warn!("could not remove leftover {}: {err}", path.display());
                } else if what == "deleting" && !dir.join(name).exists() {
                    // A destroy killed after moving the directory aside never removed the database's OS user.
                    self.remove_own_os_user(name);
                }
            }
        }
    }

    /// Removes database `name`'s own OS user (when root; never a shared `DBPLATFORM_PG_OS_USER`).
    pub(super) fn remove_own_os_user(&self, name: &str) {
        if self.pg_env.os_user.is_none() {
            super::identity::remove_os_user(&super::pg::OsUser {
                name: super::identity::os_user_name(&self.data_dir, name),
                uid: 0,
                gid: 0,
            });
        }
    }

    /// Stops a server still running from a leftover data directory (best effort).
    async fn stop_leftover_server(&self, pgdata: &Path) {
        if !pgdata.join("postmaster.pid").exists() {
            return;
        }
        let bins: Option<PgBinaries> = self.bins(None).ok();
        if let Some(bins) = bins {
            if self.is_running(&bins, pgdata).await.ok() == Some(DatabaseStatus::Available) {
                let _ = self.pg_ctl_stop(&bins, pgdata, "immediate").await;
            }
        }
    }

    /// Import: only a complete database that accepts a connection as its master user; otherwise an error that
    /// names what is missing and how to finish.
    pub(super) async fn import_checked(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        let layout = self.layout(name);
        self.sweep(name).await;
        let meta = match self.inspect(&layout) {
            Found::Absent => {
                return Err(BackendError::NotFound {
                    backend: BACKEND,
                    name: name.to_string(),
                })
            }
            Found::Foreign(why) => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "{why}; it is not imported and not touched: move it away if it is not needed, or choose another name"
                    ),
                })
            }
            Found::Creating { meta, live: true } => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "database {name:?} is being created right now by provider process {}; wait for that apply to finish",
                        meta.owner_process.map(|p| p.0).unwrap_or_default()
                    ),
                })
            }
            Found::Creating { meta, live: false } => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "database {name:?} was not completely created (interrupted after step {:?}; missing: {}), so it \
                         cannot be imported; run terraform apply to finish creating it (apply removes the partial \
                         leftovers, which hold no data yet, and creates it again)",
                        meta.step,
                        missing_after(&meta.step)
                    ),
                })
            }
            Found::Deleting(_) => {
                return Err(BackendError::Invalid {
                    field: "name".into(),
                    message: format!(
                        "database {name:?} is being destroyed (an interrupted destroy); run terraform destroy (or apply \
                         without it) to finish, then create it again"
                    ),
                })
            }
            Found::Ready(meta) => meta,
        };
        let bins = self.bins_for(&meta)?;
        if self.is_running(&bins, &layout.pgdata()).await? != DatabaseStatus::Available {
            self.pg_ctl_start(
                &bins,
                &layout.pgdata(),
                &layout.log(),
                &format!("starting database {name:?} to import it"),
            )
            .await?;
        }
        let conn = self.conn(&layout, &meta, &meta.spec.db_name)?;
        let client = conn.connect().await.map_err(|e| BackendError::Invalid {
            field: "name".into(),
            message: format!(
                "database {name:?} is on disk but does not accept a connection as its master user {:?} to database \
                 {:?} ({e}), so it is not imported; repair it (recreate the database or reset the master password as the \
                 server's OS user), or move {} away if its data is not needed, then apply again",
                meta.spec.master_username,
                meta.spec.db_name,
                layout.root.display()
            ),
        })?;
        client
            .query_one("SELECT 1", &[])
            .await
            .map_err(|e| super::support::sql_err(name, e))?;
        self.info(&layout, &meta).await
    }
}
