//! Restoring the original topology (the database is the writable primary, the replica streams from it), from
//! whatever state a drill (or a drill killed at any step) left. The state is observed, not assumed: which server
//! was last a primary (running: `pg_is_in_recovery()`; stopped: the control file), and the fences. Data is never
//! thrown away: when the replica took over, the old primary is first rebuilt as its standby (pg_rewind, or a
//! fresh base backup with the old data directory kept aside), caught up, and only then promoted back after the
//! replica was fenced and stopped cleanly (all of its WAL sent).
//!
//! Fault points: `local.drill.switchback.{standby,stopped,promoted,replica}`.

use std::time::Duration;

use chrono::Utc;

use super::super::backend::LocalBackend;
use super::super::layout::{Layout, Metadata};
use super::super::pg;
use super::meta::{repl_conninfo, ReplicaMeta};
use super::standby::*;
use crate::backend::replica::DrillStep;
use crate::backend::{BackendError, DatabaseStatus};

/// Records a step of a drill (and logs it).
pub(in crate::backend::local) fn note(steps: &mut Vec<DrillStep>, what: impl Into<String>) {
    let what = what.into();
    tracing::info!("failover drill: {what}");
    steps.push(DrillStep {
        at: Utc::now(),
        what,
    });
}

const CATCH_UP: Duration = Duration::from_secs(120);

/// CHECKPOINT on the server behind `conn` (the provider's admin role is its superuser).
async fn checkpoint(conn: &crate::backend::ConnectionInfo, name: &str) -> Result<(), BackendError> {
    conn.connect()
        .await?
        .batch_execute("CHECKPOINT")
        .await
        .map_err(|e| super::super::support::sql_err(name, e))
}

impl LocalBackend {
    /// Finishes a drill of `database` whose provider died: restores the original topology and removes the
    /// journal. Best effort (a failure is logged and retried by the next call); a live drill is left alone.
    pub(in crate::backend::local) async fn finish_interrupted_drill(&self, database: &str) {
        if self.read_journal(database).is_none() {
            return;
        }
        // Refresh reads the database and its replica at once: one of them finishes the drill, the other waits.
        static FINISHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one = FINISHING.lock().await;
        let Some(j) = self.read_journal(database) else {
            return;
        };
        let (pid, ticks) = j.owner_process;
        if pid == std::process::id() || crate::liveness::alive(pid, ticks) {
            return;
        }
        tracing::warn!(
            "failover drill {} of {database:?} was interrupted after step {:?}; restoring the original topology",
            j.drill,
            j.step
        );
        let mut steps = Vec::new();
        match self
            .restore_topology(database, &j.replica, &mut steps)
            .await
        {
            Ok(()) => {
                if let Err(e) = self.remove_journal(database) {
                    tracing::warn!("removing the drill journal of {database:?}: {e}");
                }
            }
            Err(e) => tracing::warn!(
                "restoring the topology of {database:?} after an interrupted drill failed: {e}"
            ),
        }
    }

    /// Brings `database` back as the writable primary with `replica` streaming from it.
    pub(in crate::backend::local) async fn restore_topology(
        &self,
        database: &str,
        replica: &str,
        steps: &mut Vec<DrillStep>,
    ) -> Result<(), BackendError> {
        let (pl, pm) = self.load_existing(database)?;
        let (rl, rm) = self
            .load_replica(replica)?
            .ok_or_else(|| BackendError::NotFound {
                backend: "local",
                name: replica.to_string(),
            })?;
        let bins = self.bins_for(&pm)?;
        // A server killed in a drill may be an unreaped zombie that still looks alive (see clear_dead_postmaster).
        clear_dead_postmaster(&pl.pgdata());
        clear_dead_postmaster(&rl.pgdata());
        let p_admin = self.admin_conn(&pl, &pm, "postgres")?;
        let r_admin = Self::replica_admin(&rm);
        let p_running = self.is_running(&bins, &pl.pgdata()).await? == DatabaseStatus::Available;
        let r_running = self.is_running(&bins, &rl.pgdata()).await? == DatabaseStatus::Available;
        let r_primary = if r_running {
            in_recovery(&r_admin).await == Some(false)
        } else {
            control(&bins, &rl.pgdata()).await?.was_primary()
        };
        let p_primary = p_running && in_recovery(&p_admin).await == Some(false);

        if !r_primary {
            // The replica never took over (or follows again): the database holds everything.
            let pu = super::super::identity::owner_of(&pl.pgdata())?;
            if p_running && !p_primary {
                self.pg_ctl_stop(&bins, &pl.pgdata(), "fast").await?;
                note(
                    steps,
                    "stopped the database, which had been started while fenced",
                );
            }
            if !p_primary {
                self.write_config(&pl, &pm)?;
                if tls_keep(&pl.root).join("server.key").exists() {
                    restore_certificate(&pl.root, &pl.pgdata(), pu.as_ref())?;
                }
                clear_standby(&pl.pgdata(), pu.as_ref())?;
                self.ensure_started(
                    &bins,
                    &pl,
                    &format!("starting database {database:?} as the primary"),
                )
                .await?;
                note(
                    steps,
                    "removed the fence and started the database as the primary",
                );
            } else if is_fenced(&pl.pgdata()) {
                unfence(&pl.pgdata())?;
                note(steps, "removed the fence from the running primary");
            }
            self.follow_again(&pl, &pm, &rl, &rm, steps).await?;
            return Ok(());
        }

        if !p_primary {
            self.rebuild_as_standby(&pl, &pm, &rl, &rm, steps).await?;
            self.switch_over(&pl, &pm, &rl, steps).await?;
        }
        self.follow_again(&pl, &pm, &rl, &rm, steps).await?;
        // The old base backups are on the timeline before the drill: a restore test needs one on this one.
        self.take_base_backup(&pl, &pm, &pl.backups(), None).await?;
        note(
            steps,
            "took a fresh base backup of the database on its new timeline",
        );
        Ok(())
    }

    /// Makes the old primary (stopped, fenced, maybe crashed) a standby of the promoted replica, caught up.
    pub(in crate::backend::local) async fn rebuild_as_standby(
        &self,
        pl: &Layout,
        pm: &Metadata,
        rl: &Layout,
        rm: &ReplicaMeta,
        steps: &mut Vec<DrillStep>,
    ) -> Result<(), BackendError> {
        let bins = self.bins_for(pm)?;
        let pw = Self::replication_password(rl)?;
        let r_admin = Self::replica_admin(rm);
        if self.is_running(&bins, &rl.pgdata()).await? != DatabaseStatus::Available {
            // The replica was fenced and stopped for a switch-back that did not finish: it is still the newest.
            let ru = super::super::identity::owner_of(&rl.pgdata())?;
            clear_standby(&rl.pgdata(), ru.as_ref())?;
            self.ensure_started(&bins, rl, "starting the promoted replica")
                .await?;
            note(
                steps,
                "started the promoted replica again (an interrupted switch-back had stopped it)",
            );
        }
        self.ensure_stopped(&bins, &pl.pgdata()).await?;
        keep_certificate(&pl.root, &pl.pgdata())?;
        let pu = super::super::identity::owner_of(&pl.pgdata())?;
        let source = repl_conninfo(
            rm.port,
            &rm.role,
            &pw,
            Some("postgres"),
            "dbplatform-rewind",
        );
        // pg_rewind reads the source's timeline from its control file, which a just-promoted server updates only
        // at its next checkpoint: without one, a diverged old primary could look like it needs no rewind.
        checkpoint(&r_admin, &rm.id).await?;
        match self.rewind(&bins, &pl.pgdata(), &source).await {
            Ok(_) => note(
                steps,
                "pg_rewind of the old primary from the promoted replica",
            ),
            Err(e) => {
                // Keep the old data directory aside; a fresh base backup from the replica replaces it.
                let aside = pl.root.join(format!(
                    "pgdata.pre-drill-{}",
                    Utc::now().format("%Y%m%dT%H%M%SZ")
                ));
                std::fs::rename(pl.pgdata(), &aside)
                    .map_err(BackendError::io("moving aside", pl.pgdata()))?;
                pg::server_dir(&pl.pgdata(), pu.as_ref(), 0o700)?;
                pg::run(
                    &mut base_backup(
                        &bins,
                        pu.as_ref(),
                        &pw,
                        rm.port,
                        &rm.role,
                        &pl.pgdata(),
                        None,
                    ),
                    "fresh base backup of the promoted replica for the old primary",
                )
                .await?;
                note(
                    steps,
                    format!("pg_rewind failed ({e}); rebuilt the old primary from a fresh base backup (old data kept in {})", aside.display()),
                );
            }
        }
        self.write_config(pl, pm)?;
        restore_certificate(&pl.root, &pl.pgdata(), pu.as_ref())?;
        let conninfo = repl_conninfo(rm.port, &rm.role, &pw, None, &pm.id);
        configure_standby(&pl.pgdata(), pu.as_ref(), &conninfo, None)?;
        self.pg_ctl_start(
            &bins,
            &pl.pgdata(),
            &pl.log(),
            "starting the old primary as a standby",
        )
        .await?;
        crate::fault_points::reached("local.drill.switchback.standby");
        let p_admin = self.admin_conn(pl, pm, "postgres")?;
        let caught_up = wait_until(CATCH_UP, || async {
            let (Ok(r), Ok(p)) = (r_admin.connect().await, p_admin.connect().await) else {
                return false;
            };
            let want = r.query_one("SELECT pg_current_wal_lsn()::text", &[]).await.ok().map(|x| x.get::<_, String>(0));
            let have = p
                .query_one("SELECT pg_last_wal_replay_lsn()::text", &[])
                .await
                .ok()
                .and_then(|x| x.get::<_, Option<String>>(0));
            matches!((want.as_deref().and_then(lsn), have.as_deref().and_then(lsn)), (Some(w), Some(h)) if h >= w)
        })
        .await;
        if !caught_up {
            return Err(BackendError::Command {
                what: "waiting for the old primary to catch up with the promoted replica".into(),
                status: format!("not caught up after {} s", CATCH_UP.as_secs()),
                output: pg::log_tail(&pl.log(), 15),
            });
        }
        note(
            steps,
            "the old primary streams from the promoted replica and has caught up",
        );
        Ok(())
    }

    /// Fences and stops the promoted replica cleanly, waits until the database replayed its last WAL, promotes
    /// the database. When the database does not catch up, the replica is started again as the primary.
    async fn switch_over(
        &self,
        pl: &Layout,
        pm: &Metadata,
        rl: &Layout,
        steps: &mut Vec<DrillStep>,
    ) -> Result<(), BackendError> {
        let bins = self.bins_for(pm)?;
        let ru = super::super::identity::owner_of(&rl.pgdata())?;
        fence(&rl.pgdata(), ru.as_ref())?;
        self.ensure_stopped(&bins, &rl.pgdata()).await?;
        crate::fault_points::reached("local.drill.switchback.stopped");
        note(
            steps,
            "fenced and stopped the promoted replica (clean shutdown: all its WAL sent)",
        );
        let target = lsn(&control(&bins, &rl.pgdata()).await?.checkpoint_lsn);
        let p_admin = self.admin_conn(pl, pm, "postgres")?;
        let caught_up = wait_until(CATCH_UP, || async {
            let Ok(p) = p_admin.connect().await else {
                return false;
            };
            let have = p
                .query_one("SELECT pg_last_wal_replay_lsn()::text", &[])
                .await
                .ok()
                .and_then(|x| x.get::<_, Option<String>>(0));
            matches!((target, have.as_deref().and_then(lsn)), (Some(t), Some(h)) if h >= t)
        })
        .await;
        if !caught_up {
            clear_standby(&rl.pgdata(), ru.as_ref())?;
            self.ensure_started(&bins, rl, "starting the promoted replica again")
                .await?;
            return Err(BackendError::Command {
                what: "switching back to the database".into(),
                status: "the database did not replay the replica's last WAL".into(),
                output: "the replica was started again and stays the primary; run the drill again to retry the switch-back".into(),
            });
        }
        promote(&p_admin, &pm.id).await?;
        let pu = super::super::identity::owner_of(&pl.pgdata())?;
        clear_standby(&pl.pgdata(), pu.as_ref())?;
        crate::fault_points::reached("local.drill.switchback.promoted");
        note(steps, "promoted the database back to primary");
        Ok(())
    }

    /// Makes the replica a standby of the (primary) database again: pg_rewind (or a fresh base backup), its own
    /// configuration, the slot on the database, started and streaming.
    async fn follow_again(
        &self,
        pl: &Layout,
        pm: &Metadata,
        rl: &Layout,
        rm: &ReplicaMeta,
        steps: &mut Vec<DrillStep>,
    ) -> Result<(), BackendError> {
        let bins = self.bins_for(pm)?;
        let pw = Self::replication_password(rl)?;
        let r_admin = Self::replica_admin(rm);
        let r_running = self.is_running(&bins, &rl.pgdata()).await? == DatabaseStatus::Available;
        let streaming = r_running && is_streaming(&r_admin).await;
        if streaming {
            return Ok(());
        }
        let ru = super::super::identity::owner_of(&rl.pgdata())?;
        let p_admin = self.admin_conn(pl, pm, "postgres")?;
        let client = p_admin.connect().await?;
        client
            .execute(
                "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
                &[&rm.slot],
            )
            .await
            .map_err(|e| super::super::support::sql_err(&pm.id, e))?;
        drop(client);
        let was_primary = if r_running {
            in_recovery(&r_admin).await == Some(false)
        } else {
            control(&bins, &rl.pgdata()).await?.was_primary()
        };
        self.ensure_stopped(&bins, &rl.pgdata()).await?;
        if was_primary {
            let source = repl_conninfo(
                pm.port,
                &rm.role,
                &pw,
                Some("postgres"),
                "dbplatform-rewind",
            );
            checkpoint(&p_admin, &pm.id).await?;
            if let Err(e) = self.rewind(&bins, &rl.pgdata(), &source).await {
                // The database holds everything the replica had (it caught up before its promotion).
                std::fs::remove_dir_all(rl.pgdata())
                    .map_err(BackendError::io("removing", rl.pgdata()))?;
                pg::server_dir(&rl.pgdata(), ru.as_ref(), 0o700)?;
                pg::run(
                    &mut base_backup(
                        &bins,
                        ru.as_ref(),
                        &pw,
                        pm.port,
                        &rm.role,
                        &rl.pgdata(),
                        Some(&rm.slot),
                    ),
                    "fresh base backup of the database for the replica",
                )
                .await?;
                note(steps, format!("pg_rewind of the replica failed ({e}); rebuilt it from a fresh base backup"));
            } else {
                note(steps, "pg_rewind of the replica from the database");
            }
        }
        self.write_replica_config(rl, rm, pm)?;
        let conninfo = repl_conninfo(pm.port, &rm.role, &pw, None, &rm.id);
        configure_standby(&rl.pgdata(), ru.as_ref(), &conninfo, Some(&rm.slot))?;
        self.pg_ctl_start(
            &bins,
            &rl.pgdata(),
            &rl.log(),
            "starting the replica as a standby",
        )
        .await?;
        let ok = wait_streaming(&r_admin, CATCH_UP).await;
        if !ok {
            return Err(BackendError::Command {
                what: "waiting for the replica to stream from the database again".into(),
                status: "not streaming".into(),
                output: pg::log_tail(&rl.log(), 15),
            });
        }
        crate::fault_points::reached("local.drill.switchback.replica");
        note(steps, "the replica streams from the database again");
        Ok(())
    }
}
