//! Watching another backend's relation locks from a second connection, for statements that run outside a
//! transaction (`CREATE INDEX CONCURRENTLY` on a scratch copy): their locks are gone by the time the executing
//! connection could read `pg_locks` itself, so a watcher samples them while the statement runs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::Client;

use super::locks;

/// Relation name -> the strongest mode seen granted to the watched backend.
pub type SeenLocks = BTreeMap<String, String>;

/// A running watcher: [`LockWatch::finish`] stops it and returns what it saw.
pub struct LockWatch {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<SeenLocks, postgres::Error>>,
}

impl LockWatch {
    /// Starts sampling, on `watcher` (already connected to the same database), the relation locks granted to
    /// backend `pid`, as often as the database answers, until [`LockWatch::finish`].
    pub fn start(mut watcher: Client, pid: i32) -> LockWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let query = watcher.prepare(
                "SELECT c.relname::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                 WHERE l.pid = $1 AND l.locktype = 'relation' AND l.granted AND l.relation >= 16384",
            )?;
            let mut seen = SeenLocks::new();
            let start = Instant::now();
            // One more sample after the stop flag is read, so a lock taken just before it is not missed.
            loop {
                let last = flag.load(Ordering::Acquire);
                for r in watcher.query(&query, &[&pid])? {
                    record(&mut seen, r.get(0), r.get(1));
                }
                if last {
                    return Ok(seen);
                }
                std::thread::sleep(pause(start.elapsed()));
            }
        });
        LockWatch { stop, handle }
    }

    /// Stops the watcher and returns the strongest lock it saw per relation.
    pub fn finish(self) -> Result<SeenLocks, String> {
        self.stop.store(true, Ordering::Release);
        match self.handle.join() {
            Ok(r) => r.map_err(|e| format!("watching the statement's locks: {e}")),
            Err(_) => Err("the lock watcher thread panicked".to_string()),
        }
    }
}

/// The pause between two samples: none to begin with (short statements are over in milliseconds), growing to
/// 20 ms for statements that run for seconds, so the watcher does not compete with what it measures.
fn pause(elapsed: Duration) -> Duration {
    (elapsed / 50).min(Duration::from_millis(20))
}

/// Keeps the stronger of what was seen on `relation` and `mode`.
fn record(seen: &mut SeenLocks, relation: String, mode: String) {
    let stronger = seen
        .get(&relation)
        .is_none_or(|m| locks::rank(&mode) > locks::rank(m));
    if stronger {
        seen.insert(relation, mode);
    }
}

/// The strongest lock in `seen`, preferring `target` (the statement's own relation) among equally strong ones:
/// `CREATE INDEX CONCURRENTLY` also locks the index it builds, but the table is what other sessions wait on.
pub fn strongest(seen: &SeenLocks, target: Option<&str>) -> Option<(String, String)> {
    let is_target = |r: &str| target.is_some_and(|t| t.rsplit('.').next() == Some(r));
    seen.iter()
        .max_by_key(|(r, m)| (locks::rank(m), is_target(r)))
        .map(|(r, m)| (r.clone(), m.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_starts_fast_and_slows_down_for_long_statements() {
        assert_eq!(pause(Duration::ZERO), Duration::ZERO);
        assert_eq!(pause(Duration::from_millis(100)), Duration::from_millis(2));
        assert_eq!(pause(Duration::from_secs(60)), Duration::from_millis(20));
    }

    #[test]
    fn the_strongest_lock_wins_and_the_target_breaks_ties() {
        let mut seen = SeenLocks::new();
        record(
            &mut seen,
            "orders".into(),
            locks::SHARE_UPDATE_EXCLUSIVE.into(),
        );
        record(&mut seen, "orders".into(), locks::ACCESS_SHARE.into());
        record(
            &mut seen,
            "orders_amount_idx".into(),
            locks::SHARE_UPDATE_EXCLUSIVE.into(),
        );
        assert_eq!(seen["orders"], locks::SHARE_UPDATE_EXCLUSIVE);
        assert_eq!(
            strongest(&seen, Some("public.orders")),
            Some(("orders".into(), locks::SHARE_UPDATE_EXCLUSIVE.into()))
        );
        record(
            &mut seen,
            "customers".into(),
            locks::ACCESS_EXCLUSIVE.into(),
        );
        assert_eq!(
            strongest(&seen, Some("orders")).map(|(r, _)| r),
            Some("customers".into())
        );
        assert_eq!(strongest(&SeenLocks::new(), None), None);
    }
}
