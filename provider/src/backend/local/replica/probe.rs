//! The write probe of a drill: a task inserting one row every few milliseconds into `dbplatform_drill_probe`
//! (database `postgres`) on the primary, and on the new primary once the drill points it there. It keeps the
//! sequence numbers whose commits were acknowledged and when, which is what RPO, rows lost and RTO are computed
//! from: a row acknowledged on the old primary and absent after promotion is lost.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::backend::{BackendError, ConnectionInfo};

/// The probe table (in database `postgres`, readable by everyone: it holds sequence numbers and times only).
pub(in crate::backend::local) const PROBE_TABLE: &str = "dbplatform_drill_probe";

/// One acknowledged commit.
#[derive(Debug, Clone, Copy)]
pub(in crate::backend::local) struct Ack {
    pub(in crate::backend::local) seq: i64,
    pub(in crate::backend::local) at: DateTime<Utc>,
    pub(in crate::backend::local) instant: Instant,
    /// 0: the old primary, 1: the new one.
    pub(in crate::backend::local) target: usize,
}

/// A running probe.
pub(in crate::backend::local) struct Probe {
    acks: Arc<Mutex<Vec<Ack>>>,
    target: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// Creates the probe table on the primary, keeping only this drill's rows.
pub(in crate::backend::local) async fn prepare(
    primary: &ConnectionInfo,
    drill: &str,
) -> Result<(), BackendError> {
    let client = primary.connect().await?;
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (drill text NOT NULL, seq bigint NOT NULL, \
             written_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (drill, seq)); \
             GRANT SELECT ON {PROBE_TABLE} TO PUBLIC"
        ))
        .await
        .map_err(|e| super::super::support::sql_err("postgres", e))?;
    client
        .execute(
            &format!("DELETE FROM {PROBE_TABLE} WHERE drill <> $1"),
            &[&drill],
        )
        .await
        .map_err(|e| super::super::support::sql_err("postgres", e))?;
    Ok(())
}

impl Probe {
    /// Starts writing to `targets[0]`.
    pub(in crate::backend::local) fn start(targets: [ConnectionInfo; 2], drill: String) -> Self {
        let acks = Arc::new(Mutex::new(Vec::new()));
        let target = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, t, s) = (Arc::clone(&acks), Arc::clone(&target), Arc::clone(&stop));
        let task = tokio::spawn(async move {
            let mut seq: i64 = 0;
            let mut client: Option<(usize, tokio_postgres::Client)> = None;
            let sql = format!("INSERT INTO {PROBE_TABLE} (drill, seq) VALUES ($1, $2)");
            while !s.load(Ordering::SeqCst) {
                let want = t.load(Ordering::SeqCst);
                if client.as_ref().map(|c| c.0) != Some(want) {
                    client =
                        match tokio::time::timeout(Duration::from_secs(2), targets[want].connect())
                            .await
                        {
                            Ok(Ok(c)) => Some((want, c)),
                            _ => {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            }
                        };
                }
                let Some((_, c)) = &client else { continue };
                seq += 1;
                match tokio::time::timeout(
                    Duration::from_secs(2),
                    c.execute(sql.as_str(), &[&drill, &seq]),
                )
                .await
                {
                    Ok(Ok(_)) => {
                        if let Ok(mut g) = a.lock() {
                            g.push(Ack {
                                seq,
                                at: Utc::now(),
                                instant: Instant::now(),
                                target: want,
                            });
                        }
                    }
                    Ok(Err(e)) => {
                        // Read-only (not promoted yet) keeps the connection; anything else reconnects.
                        if e.as_db_error().map(|d| d.code().code()) != Some("25006") {
                            client = None;
                        }
                    }
                    Err(_) => client = None,
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        Self {
            acks,
            target,
            stop,
            task,
        }
    }

    /// Points the probe at the new primary.
    pub(in crate::backend::local) fn switch(&self) {
        self.target.store(1, Ordering::SeqCst);
    }

    pub(in crate::backend::local) fn acks(&self) -> Vec<Ack> {
        self.acks.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Waits for the first acknowledged commit on the new primary.
    pub(in crate::backend::local) async fn first_on_new(&self, timeout: Duration) -> Option<Ack> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(a) = self.acks().into_iter().find(|a| a.target == 1) {
                return Some(a);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops writing and returns every acknowledged commit.
    pub(in crate::backend::local) async fn finish(self) -> Vec<Ack> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        self.acks.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

/// Rows lost and RPO: the acknowledged commits on the old primary that `present` (sequence numbers found on the
/// new primary) lacks, and the commit-time span from the last one kept to the last one lost (0 when none is lost).
pub(in crate::backend::local) fn losses(
    acks: &[Ack],
    present: &std::collections::BTreeSet<i64>,
) -> (u64, f64) {
    let old: Vec<&Ack> = acks.iter().filter(|a| a.target == 0).collect();
    let lost: Vec<&&Ack> = old.iter().filter(|a| !present.contains(&a.seq)).collect();
    let Some(last_lost) = lost.iter().map(|a| a.at).max() else {
        return (0, 0.0);
    };
    let kept = old
        .iter()
        .filter(|a| present.contains(&a.seq))
        .map(|a| a.at)
        .max();
    let from = kept
        .or_else(|| lost.iter().map(|a| a.at).min())
        .unwrap_or(last_lost);
    let rpo = (last_lost - from).num_microseconds().unwrap_or(0) as f64 / 1e6;
    (lost.len() as u64, rpo.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: i64, ms: i64, target: usize) -> Ack {
        Ack {
            seq,
            at: DateTime::<Utc>::from_timestamp_millis(1_700_000_000_000 + ms).unwrap(),
            instant: Instant::now(),
            target,
        }
    }

    #[test]
    fn rows_lost_are_acknowledged_on_the_old_primary_and_absent_after() {
        let acks = vec![
            ack(1, 0, 0),
            ack(2, 10, 0),
            ack(3, 25, 0),
            ack(4, 40, 0),
            ack(9, 900, 1),
        ];
        let present: std::collections::BTreeSet<i64> = [1, 2, 9].into_iter().collect();
        let (lost, rpo) = losses(&acks, &present);
        assert_eq!(lost, 2);
        assert!((rpo - 0.030).abs() < 1e-9, "{rpo}");
        let all: std::collections::BTreeSet<i64> = [1, 2, 3, 4].into_iter().collect();
        assert_eq!(losses(&acks, &all), (0, 0.0));
    }
}
