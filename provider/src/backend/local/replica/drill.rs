//! A failover drill on the local backend, for real. Steps (fault points `local.drill.<step>`):
//! `journal` (the drill is on record before any server is touched), `probe` (the write probe has written on the
//! primary), `fenced` (a `standby.signal` in the primary's data directory: whatever restarts it, it comes back
//! read-only, so there are never two writable primaries), `failed` (the primary stopped, or every one of its
//! processes killed with SIGKILL), `promoted` (`pg_promote` on the replica), `first_write` (the first probe commit on
//! the new primary: RTO), `measured` (rows acknowledged on the old primary and absent now: rows lost and RPO), then
//! the switch-back (see `switchback`), or with `keep_promoted` the old primary rebuilt as the new one's standby.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::super::backend::LocalBackend;
use super::journal::Journal;
use super::probe::{self, Probe, PROBE_TABLE};
use super::standby::{fence, kill_cluster, promote};
use super::switchback::note;
use crate::backend::replica::{DrillOutcome, DrillSpec, FailureKind};
use crate::backend::{BackendError, DatabaseStatus};

/// How long the probe writes on the primary before the failure.
const WARM_UP: Duration = Duration::from_millis(1500);

impl LocalBackend {
    pub(in crate::backend::local) async fn drill_local(
        &self,
        spec: &DrillSpec,
        replica: &str,
    ) -> Result<DrillOutcome, BackendError> {
        let (_, rm) = self
            .load_replica(replica)?
            .ok_or_else(|| BackendError::NotFound {
                backend: "local",
                name: replica.to_string(),
            })?;
        if rm.source != spec.database {
            return Err(BackendError::Invalid {
                field: "replica_id".into(),
                message: format!("replica {replica:?} replicates database {:?}, not {:?}; use a replica of the drilled database", rm.source, spec.database),
            });
        }
        self.finish_interrupted_drill(&spec.database).await;
        if let Some(j) = self.read_journal(&spec.database) {
            return Err(BackendError::Invalid {
                field: "database_id".into(),
                message: format!(
                    "drill {} of {:?} (provider process {}) is still running or could not be finished (last step {:?}); wait for it, or see the provider log",
                    j.drill, spec.database, j.owner_process.0, j.step
                ),
            });
        }
        let mut out = DrillOutcome {
            started_at: Some(Utc::now()),
            ..Default::default()
        };
        let (pl, pm) = self.replica_source(&spec.database).await?;
        let (rl, rm) = self
            .load_replica(replica)?
            .ok_or_else(|| BackendError::NotFound {
                backend: "local",
                name: replica.to_string(),
            })?;
        let info = self.replica_info(&rl, &rm).await?;
        if info.status == "promoted" {
            note(&mut out.steps, "the replica is the primary since a drill that kept it promoted: switching back first");
            self.restore_topology(&spec.database, replica, &mut out.steps)
                .await?;
        } else if info.status != "streaming" {
            return Err(BackendError::Invalid {
                field: "replica_id".into(),
                message: format!(
                    "replica {replica:?} is {} ({}); a drill needs a streaming replica: apply the dbplatform_replica first",
                    info.status,
                    info.problem.unwrap_or_default()
                ),
            });
        }
        let bins = self.bins_for(&pm)?;
        if self.is_running(&bins, &pl.pgdata()).await? != DatabaseStatus::Available {
            return Err(BackendError::Invalid {
                field: "database_id".into(),
                message: format!(
                    "database {:?} is not running; start it (terraform apply) before a drill",
                    spec.database
                ),
            });
        }
        let drill = format!(
            "{}-{}",
            spec.database,
            Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
        );
        let mut journal = Journal {
            drill: drill.clone(),
            database: spec.database.clone(),
            replica: replica.to_string(),
            started_at: Utc::now(),
            owner_process: crate::liveness::current(),
            step: "journal".into(),
        };
        self.write_journal(&journal)?;
        crate::fault_points::reached("local.drill.journal");
        let p_admin = self.admin_conn(&pl, &pm, "postgres")?;
        let r_admin = Self::replica_admin(&rm);
        let result = self
            .drill_steps(spec, &drill, &mut journal, &mut out, [p_admin, r_admin])
            .await;
        if let Err(e) = &result {
            note(&mut out.steps, format!("drill failed: {e}"));
            out.error = Some(e.to_string());
        }
        // Whatever happened, the original topology comes back unless the promoted replica is to be kept.
        let restore = if spec.keep_promoted && result.is_ok() {
            self.rebuild_as_standby(&pl, &pm, &rl, &rm, &mut out.steps)
                .await
        } else {
            self.restore_topology(&spec.database, replica, &mut out.steps)
                .await
        };
        match restore {
            Ok(()) => {
                out.topology_restored = !spec.keep_promoted || result.is_err();
                self.remove_journal(&spec.database)?;
            }
            Err(e) => {
                note(
                    &mut out.steps,
                    format!("restoring the topology failed: {e}"),
                );
                out.error = Some(match out.error.take() {
                    Some(prev) => format!("{prev}; restoring the topology failed: {e}"),
                    None => format!("restoring the topology failed: {e}"),
                });
            }
        }
        out.new_primary_endpoint = if spec.keep_promoted && result.is_ok() {
            format!("127.0.0.1:{}", rm.port)
        } else {
            format!("127.0.0.1:{}", pm.port)
        };
        if out.error.is_none() && spec.write_probe {
            self.verify_probe_rows(&pl, &pm, &rm, spec.keep_promoted, &drill, &mut out)
                .await;
        }
        crate::fault_points::reached("local.drill.done");
        Ok(out)
    }

    async fn drill_steps(
        &self,
        spec: &DrillSpec,
        drill: &str,
        journal: &mut Journal,
        out: &mut DrillOutcome,
        [p_admin, r_admin]: [crate::backend::ConnectionInfo; 2],
    ) -> Result<(), BackendError> {
        let (pl, pm) = self.load_existing(&spec.database)?;
        let bins = self.bins_for(&pm)?;
        let step = |b: &Self, j: &mut Journal, name: &str| -> Result<(), BackendError> {
            j.step = name.to_string();
            b.write_journal(j)?;
            crate::fault_points::reached(&format!("local.drill.{name}"));
            Ok(())
        };
        let probe = if spec.write_probe {
            probe::prepare(&p_admin, drill).await?;
            let p = Probe::start([p_admin.clone(), r_admin.clone()], drill.to_string());
            tokio::time::sleep(WARM_UP).await;
            note(
                &mut out.steps,
                format!(
                    "write probe: {} rows committed on the primary",
                    p.acks().len()
                ),
            );
            Some(p)
        } else {
            None
        };
        step(self, journal, "probe")?;

        let pu = super::super::identity::owner_of(&pl.pgdata())?;
        // The fence goes first: a standby.signal is read only when a server starts, so it changes nothing for the
        // running primary and closes every window in which it could come back writable.
        fence(&pl.pgdata(), pu.as_ref())?;
        note(
            &mut out.steps,
            "fenced the primary (standby.signal: it can only restart read-only)",
        );
        step(self, journal, "fenced")?;
        let t_fail = Instant::now();
        match spec.failure {
            FailureKind::Stop => {
                note(&mut out.steps, "stopping the primary (pg_ctl stop -m fast)");
                self.pg_ctl_stop(&bins, &pl.pgdata(), "fast").await?;
            }
            FailureKind::Crash => {
                note(
                    &mut out.steps,
                    "killing every process of the primary (SIGKILL)",
                );
                kill_cluster(&pl.pgdata())?;
            }
        }
        if let Some(p) = &probe {
            p.switch();
        }
        note(
            &mut out.steps,
            format!("primary down ({})", spec.failure.as_str()),
        );
        step(self, journal, "failed")?;

        promote(&r_admin, &journal.replica.clone()).await?;
        note(&mut out.steps, "promoted the replica (pg_promote)");
        step(self, journal, "promoted")?;

        let first = match &probe {
            Some(p) => p
                .first_on_new(Duration::from_secs(60))
                .await
                .map(|a| a.instant),
            None => {
                let c = r_admin.connect().await?;
                c.batch_execute("SELECT txid_current()")
                    .await
                    .map_err(|e| super::super::support::sql_err(&journal.replica, e))?;
                Some(Instant::now())
            }
        };
        let Some(first) = first else {
            return Err(BackendError::Command {
                what: "waiting for the first committed write on the promoted replica".into(),
                status: "no commit within 60 s".into(),
                output: String::new(),
            });
        };
        out.rto_seconds = Some(round3(first.duration_since(t_fail).as_secs_f64()));
        note(
            &mut out.steps,
            format!(
                "first committed write on the new primary ({:.3} s after the failure)",
                out.rto_seconds.unwrap_or(0.0)
            ),
        );
        step(self, journal, "first_write")?;

        if let Some(p) = probe {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let acks = p.finish().await;
            let c = r_admin.connect().await?;
            let rows = c
                .query(
                    &format!("SELECT seq FROM {PROBE_TABLE} WHERE drill = $1"),
                    &[&drill],
                )
                .await
                .map_err(|e| super::super::support::sql_err(&journal.replica, e))?;
            let present: BTreeSet<i64> = rows.iter().map(|r| r.get(0)).collect();
            let (lost, rpo) = probe::losses(&acks, &present);
            let before = acks.iter().filter(|a| a.target == 0).count() as u64;
            out.rows_before = Some(before);
            out.rows_lost = Some(lost);
            out.rpo_seconds = Some(round3(rpo));
            note(
                &mut out.steps,
                format!("measured: {before} probe rows acknowledged on the old primary, {lost} missing after promotion (RPO {rpo:.3} s)"),
            );
        }
        step(self, journal, "measured")?;
        Ok(())
    }

    /// Reads the probe rows on the primary after the drill: every row acknowledged and not lost must be there.
    async fn verify_probe_rows(
        &self,
        pl: &super::super::layout::Layout,
        pm: &super::super::layout::Metadata,
        rm: &super::meta::ReplicaMeta,
        keep_promoted: bool,
        drill: &str,
        out: &mut DrillOutcome,
    ) {
        let conn = if keep_promoted {
            Self::replica_admin(rm)
        } else {
            match self.admin_conn(pl, pm, "postgres") {
                Ok(c) => c,
                Err(e) => {
                    out.error = Some(e.to_string());
                    return;
                }
            }
        };
        let count: Result<i64, String> = async {
            let c = conn.connect().await.map_err(|e| e.to_string())?;
            let r = c
                .query_one(
                    &format!("SELECT count(*) FROM {PROBE_TABLE} WHERE drill = $1"),
                    &[&drill],
                )
                .await
                .map_err(|e| e.to_string())?;
            Ok(r.get(0))
        }
        .await;
        let expected = out
            .rows_before
            .unwrap_or(0)
            .saturating_sub(out.rows_lost.unwrap_or(0));
        match count {
            Ok(n) if n as u64 >= expected => note(
                &mut out.steps,
                format!("verified: {n} probe rows of this drill readable on the primary (at least the {expected} kept)"),
            ),
            Ok(n) => out.error = Some(format!("only {n} probe rows readable on the primary after the drill, {expected} expected")),
            Err(e) => out.error = Some(format!("reading the probe rows after the drill: {e}")),
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
