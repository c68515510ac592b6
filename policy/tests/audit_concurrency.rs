//! Separate processes appending at the same time keep one intact chain (file lock, head re-read under the lock,
//! rotation under the lock), and a writer killed with SIGKILL leaves a log that `verify` reports precisely.
//!
//! The writer processes are this test binary itself, started with `--exact helper_append_process --ignored`: that
//! helper does nothing unless the parent sets `AUDIT_HELPER_LOG`.

mod audit_support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use audit_support::decision_body;
use policy::audit::query::read_records;
use policy::audit::{verify_log, AuditLog, DamageKind, VerifyOptions};

const HELPER: &str = "helper_append_process";

/// Not a test: the body of a writer process (see module docs).
#[test]
#[ignore = "helper: the writer process that the concurrency tests start"]
fn helper_append_process() {
    let Ok(log) = std::env::var("AUDIT_HELPER_LOG") else {
        return;
    };
    let count: u64 = std::env::var("AUDIT_HELPER_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let tag: u64 = std::env::var("AUDIT_HELPER_TAG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let max_bytes: u64 = std::env::var("AUDIT_HELPER_MAX_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let big: usize = std::env::var("AUDIT_HELPER_BIG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut w = AuditLog::open(&log).unwrap().with_max_bytes(max_bytes);
    for i in 0..count {
        // Resource number encodes writer and position: tag * 1_000_000 + i.
        let body = if big > 0 {
            big_decision(i, big)
        } else {
            decision_body(tag * 1_000_000 + i, "pass")
        };
        w.append(body).unwrap();
    }
}

/// A decision over `resources` resources (several MB as one line), so that a kill can land inside write().
fn big_decision(n: u64, resources: usize) -> policy::audit::RecordBody {
    let results: Vec<serde_json::Value> = (0..resources)
        .map(|r| {
            serde_json::json!({"rule_id": "DBP-BAK-001", "status": "fail",
                "address": format!("module.m{n}.aws_db_instance.db{r}"), "path": "backup_retention_period",
                "message": "backup retention of 1 day is below the minimum of 7 days for tier-1 databases"})
        })
        .collect();
    let d = serde_json::json!({"decision_id": format!("big-{n}"), "outcome": "fail",
        "bundle_hash": "sha256:00", "results": results});
    let meta = policy::audit::DecisionMeta {
        source: "cli".into(),
        version: "0".into(),
        ..Default::default()
    };
    policy::audit::decision_record(&d, &meta).unwrap()
}

fn spawn_writer(log: &Path, tag: u64, count: u64, max_bytes: u64) -> Child {
    writer(log, tag, count, max_bytes).spawn().unwrap()
}

fn writer(log: &Path, tag: u64, count: u64, max_bytes: u64) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        HELPER,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("AUDIT_HELPER_LOG", log)
    .env("AUDIT_HELPER_TAG", tag.to_string())
    .env("AUDIT_HELPER_COUNT", count.to_string())
    .env("AUDIT_HELPER_MAX_BYTES", max_bytes.to_string())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

#[test]
fn two_processes_appending_1000_records_each_yield_one_chain_of_2000() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit/decisions.jsonl");
    // Rotation every 256 KiB, so files also roll over while both writers race.
    let max_bytes = 256 * 1024;
    let a = spawn_writer(&log, 1, 1000, max_bytes);
    let b = spawn_writer(&log, 2, 1000, max_bytes);
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let r = verify_log(&log, &VerifyOptions::default()).unwrap();
    assert!(r.ok(), "{r}");
    assert_eq!(r.records, 2000, "{r}");
    assert_eq!(r.head.as_ref().unwrap().0, 2000);
    assert!(r.files.len() > 1, "expected rotation: {:?}", r.files);

    // Each writer's records appear in its own order, and the two really interleaved.
    let recs = read_records(&log).unwrap();
    let mut next: HashMap<u64, u64> = HashMap::new();
    let mut switches = 0;
    let mut last_tag = 0;
    for rec in &recs {
        let addr = rec.resources()[0]
            .trim_start_matches("aws_db_instance.db")
            .to_string();
        let n: u64 = addr.parse().unwrap();
        let (tag, i) = (n / 1_000_000, n % 1_000_000);
        let want = next.entry(tag).or_insert(0);
        assert_eq!(i, *want, "writer {tag} records out of order");
        *want += 1;
        if tag != last_tag {
            switches += 1;
            last_tag = tag;
        }
    }
    assert_eq!(next.get(&1), Some(&1000));
    assert_eq!(next.get(&2), Some(&1000));
    assert!(
        switches > 2,
        "the writers never interleaved ({switches} switches): the test proves nothing"
    );
}

#[test]
fn a_writer_killed_with_sigkill_leaves_a_log_verify_reports_precisely() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut child = spawn_writer(&log, 3, 1_000_000, 0);
    // Let it write for a while, then kill it without warning.
    let start = Instant::now();
    while std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) < 200_000 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "writer made no progress"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // std sends SIGKILL on Unix: no handler, no flush, no unlock.
    child.kill().unwrap();
    let _ = child.wait();

    let r = verify_log(&log, &VerifyOptions::default()).unwrap();
    let bytes = std::fs::read(&log).unwrap();
    let complete = bytes.iter().filter(|&&b| b == b'\n').count();
    if bytes.last() == Some(&b'\n') {
        // Killed between two appends: every record is whole and the chain is intact.
        eprintln!("killed between appends after {complete} records");
        assert!(r.ok(), "{r}");
        assert_eq!(r.records as usize, complete);
    } else {
        // Killed inside write(): exactly one damage, the torn last line, right after the last complete record.
        eprintln!("killed mid-write after {complete} records: {r}");
        assert_eq!(r.damages.len(), 1, "{r}");
        let d = r.first().unwrap();
        assert_eq!(
            (d.kind, d.line),
            (DamageKind::TornLastLine, complete + 1),
            "{r}"
        );
    }
    assert_eq!(r.head.as_ref().unwrap().0 as usize, complete, "{r}");
    // Either way a new writer continues (after an explicit repair when torn).
    let mut w = AuditLog::open(&log).unwrap();
    if !r.ok() {
        assert!(w.append(decision_body(1, "pass")).is_err());
        w.repair("test", chrono::Utc::now()).unwrap().unwrap();
    }
    w.append(decision_body(2, "pass")).unwrap();
    assert!(verify_log(&log, &VerifyOptions::default()).unwrap().ok());
}

#[test]
fn a_writer_killed_inside_a_large_write_leaves_a_torn_line_that_verify_names() {
    // Records of a few MB each: write() takes long enough to be caught in the act. The kill can still land just
    // after a write finished; then the attempt is repeated with a fresh log.
    for attempt in 1..=5 {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let mut child = writer(&log, 4, 1000, 0)
            .env("AUDIT_HELPER_BIG", "20000")
            .spawn()
            .unwrap();
        let start = Instant::now();
        let mut seen_complete = false;
        loop {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "never saw a write in progress"
            );
            let len = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
            if len > 0 {
                use std::io::{Read, Seek, SeekFrom};
                let mut last = [0u8; 1];
                let mut f = std::fs::File::open(&log).unwrap();
                f.seek(SeekFrom::Start(len - 1)).unwrap();
                if f.read_exact(&mut last).is_ok() {
                    if last[0] == b'\n' {
                        seen_complete = true;
                    } else if seen_complete {
                        // The second or a later record is half on disk right now: kill the writer.
                        child.kill().unwrap();
                        break;
                    }
                }
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.wait();
        let bytes = std::fs::read(&log).unwrap();
        if bytes.last() == Some(&b'\n') {
            eprintln!("attempt {attempt}: the kill landed after the write finished; again");
            continue;
        }
        let complete = bytes.iter().filter(|&&b| b == b'\n').count();
        let r = verify_log(&log, &VerifyOptions::default()).unwrap();
        eprintln!(
            "killed inside write(): {} bytes, {complete} complete records: {r}",
            bytes.len()
        );
        assert!(complete >= 1);
        assert_eq!(r.damages.len(), 1, "{r}");
        let d = r.first().unwrap();
        assert_eq!(
            (d.kind, d.line),
            (DamageKind::TornLastLine, complete + 1),
            "{r}"
        );
        assert_eq!(r.head.as_ref().map_or(0, |h| h.0) as usize, complete, "{r}");
        let err = AuditLog::open(&log)
            .unwrap()
            .append(decision_body(1, "pass"))
            .unwrap_err();
        assert!(err.to_string().contains("torn"), "{err}");
        return;
    }
    panic!("in 5 attempts the kill never landed inside a write");
}
