//! The JSONL file sink: exclusive lock, re-read of the chain head under the lock, one fsync'ed write per record,
//! size-based rotation that keeps the chain, and an explicit repair of a torn tail.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::SigningKey;

use super::config::AuditConfig;
use super::error::AuditError;
use super::hashing::{record_hash, sha256_tagged, signed_bytes};
use super::keys;
use super::pg::PgSink;
use super::record::{round_seconds, Record, RecordBody, RepairRecord, RECORD_SCHEMA};

/// What `append` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendedRecord {
    pub seq: u64,
    pub hash: String,
    /// The file the record went to (the active file).
    pub path: PathBuf,
    /// The full record as written.
    pub record: Record,
}

/// An append-only, hash-chained audit log on disk (and optionally in PostgreSQL).
///
/// Every append takes an exclusive lock on `FILE.lock`, so parallel Terraform runs and CI jobs on one machine
/// never interleave lines or fork the chain.
pub struct AuditLog {
    path: PathBuf,
    max_bytes: u64,
    signer: Option<SigningKey>,
    pg_conn: Option<String>,
    pg: Option<PgSink>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("max_bytes", &self.max_bytes)
            .field("signed", &self.signer.is_some())
            .field("pg", &self.pg_conn.is_some())
            .finish()
    }
}

/// The last record of a file, as far as appending needs it.
enum Tail {
    Empty,
    Torn { offset: u64, bytes: u64 },
    Last { seq: u64, hash: String },
}

impl AuditLog {
    /// Opens (and, on first append, creates) the log at `path`, unsigned, with the default rotation size.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, AuditError> {
        Self::from_config(&AuditConfig::at(path))
    }

    /// Opens the log as configured: loads the signing key now, so a bad key fails before any evaluation.
    pub fn from_config(config: &AuditConfig) -> Result<Self, AuditError> {
        if config.path.as_os_str().is_empty() {
            return Err(AuditError::Config("the audit log path is empty".into()));
        }
        let signer = match &config.signing_key {
            Some(p) => Some(keys::load_signing_key(p)?),
            None => None,
        };
        Ok(AuditLog {
            path: config.path.clone(),
            max_bytes: config.max_bytes,
            signer,
            pg_conn: config.pg.clone(),
            pg: None,
        })
    }

    /// Signs every record from now on with `key`.
    pub fn with_signing_key(mut self, key: SigningKey) -> Self {
        self.signer = Some(key);
        self
    }

    /// Rotates the active file once it has reached `max_bytes` (0 = never).
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The active file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record stamped with the current time.
    pub fn append(&mut self, body: RecordBody) -> Result<AppendedRecord, AuditError> {
        self.append_at(body, Utc::now())
    }

    /// Appends one record stamped with `now` (tests pass a fixed clock).
    pub fn append_at(
        &mut self,
        body: RecordBody,
        now: DateTime<Utc>,
    ) -> Result<AppendedRecord, AuditError> {
        let _lock = self.lock()?;
        self.maybe_rotate()?;
        self.append_locked(body, now)
    }

    /// Moves a torn last line to `FILE.torn` (never deleting it) and records a `repair` record.
    /// Returns `None` when the tail is intact. Never touches complete records: edited or missing records are
    /// evidence and stay as they are.
    pub fn repair(
        &mut self,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<AppendedRecord>, AuditError> {
        let _lock = self.lock()?;
        let mut f = match OpenOptions::new().read(true).write(true).open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(AuditError::io(&self.path, "open", e)),
        };
        let len = f
            .metadata()
            .map_err(|e| AuditError::io(&self.path, "stat", e))?
            .len();
        let (offset, bytes) = match read_tail(&mut f, &self.path, len)? {
            Tail::Torn { offset, bytes } => (offset, bytes),
            _ => return Ok(None),
        };
        let mut torn = vec![0u8; bytes as usize];
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| AuditError::io(&self.path, "seek", e))?;
        f.read_exact(&mut torn)
            .map_err(|e| AuditError::io(&self.path, "read torn tail", e))?;
        let torn_path = free_torn_path(&self.path);
        let mut t = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&torn_path)
            .map_err(|e| AuditError::io(&torn_path, "create", e))?;
        t.write_all(&torn)
            .map_err(|e| AuditError::io(&torn_path, "write", e))?;
        t.sync_all()
            .map_err(|e| AuditError::io(&torn_path, "fsync", e))?;
        f.set_len(offset)
            .map_err(|e| AuditError::io(&self.path, "truncate torn tail", e))?;
        f.sync_all()
            .map_err(|e| AuditError::io(&self.path, "fsync", e))?;
        drop(f);
        sync_dir(&self.path)?;
        let body = RecordBody::Repair(RepairRecord {
            torn_file: torn_path.display().to_string(),
            torn_bytes: bytes,
            torn_sha256: sha256_tagged(&torn),
            by: by.to_string(),
        });
        self.append_locked(body, now).map(Some)
    }

    fn lock(&self) -> Result<File, AuditError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| AuditError::io(dir, "create directory", e))?;
        }
        let lock_path = sibling(&self.path, ".lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| AuditError::io(&lock_path, "open lock file", e))?;
        fs4::FileExt::lock(&f).map_err(|e| AuditError::io(&lock_path, "lock", e))?;
        Ok(f)
    }

    fn maybe_rotate(&self) -> Result<(), AuditError> {
        if self.max_bytes == 0 {
            return Ok(());
        }
        let len = match std::fs::metadata(&self.path) {
            Ok(m) => m.len(),
            Err(_) => return Ok(()),
        };
        if len < self.max_bytes {
            return Ok(());
        }
        let mut f = File::open(&self.path).map_err(|e| AuditError::io(&self.path, "open", e))?;
        if !matches!(read_tail(&mut f, &self.path, len)?, Tail::Last { .. }) {
            // A damaged tail is reported by the append that follows; never rotate it away.
            return Ok(());
        }
        let next = segments(&self.path)?
            .iter()
            .filter_map(|p| segment_number(&self.path, p))
            .max()
            .unwrap_or(0)
            + 1;
        let target = sibling(&self.path, &format!(".{next:06}"));
        std::fs::rename(&self.path, &target)
            .map_err(|e| AuditError::io(&target, "rotate (rename)", e))?;
        sync_dir(&self.path)
    }

    fn append_locked(
        &mut self,
        mut body: RecordBody,
        now: DateTime<Utc>,
    ) -> Result<AppendedRecord, AuditError> {
        if let RecordBody::RestoreTest(r) = &mut body {
            r.restore_seconds = round_seconds(r.restore_seconds);
        }
        let mut f = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| AuditError::io(&self.path, "open for append", e))?;
        let len = f
            .metadata()
            .map_err(|e| AuditError::io(&self.path, "stat", e))?
            .len();
        let prev = match read_tail(&mut f, &self.path, len)? {
            Tail::Torn { offset, bytes } => {
                return Err(AuditError::TornTail {
                    path: self.path.clone(),
                    offset,
                    bytes,
                })
            }
            Tail::Last { seq, hash } => Some((seq, hash)),
            Tail::Empty => self.previous_segment_head()?,
        };
        let (seq, prev_hash) = match prev {
            Some((s, h)) => (s + 1, Some(h)),
            None => (1, None),
        };
        let mut record = Record {
            schema: RECORD_SCHEMA.to_string(),
            seq,
            timestamp: now.to_rfc3339_opts(SecondsFormat::Micros, true),
            prev_hash,
            body,
            hash: String::new(),
            sig: None,
        };
        let value = serde_json::to_value(&record).map_err(|e| AuditError::Encode(e.to_string()))?;
        let bytes = signed_bytes(&value)?;
        record.hash = sha256_tagged(&bytes);
        record.sig = self.signer.as_ref().map(|k| keys::sign(k, &bytes));
        let mut line =
            serde_json::to_string(&record).map_err(|e| AuditError::Encode(e.to_string()))?;
        // Never write a record that `verify` could not reproduce.
        let reparsed: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| AuditError::Encode(e.to_string()))?;
        if record_hash(&reparsed)? != record.hash {
            return Err(AuditError::Encode(
                "the record does not survive a JSON round trip (non-finite or over-precise number?)".into(),
            ));
        }
        line.push('\n');
        f.write_all(line.as_bytes())
            .map_err(|e| AuditError::io(&self.path, "append", e))?;
        f.sync_data()
            .map_err(|e| AuditError::io(&self.path, "fsync", e))?;
        if len == 0 {
            sync_dir(&self.path)?;
        }
        line.pop();
        if let Some(conn) = &self.pg_conn {
            if self.pg.is_none() {
                self.pg = Some(PgSink::connect(conn)?);
            }
            if let Some(pg) = self.pg.as_mut() {
                if let Err(e) = pg.insert(&record, &line) {
                    // A broken connection is retried once with a fresh one; the file record stays either way.
                    self.pg = None;
                    let mut fresh = PgSink::connect(conn).map_err(|_| e)?;
                    fresh.insert(&record, &line)?;
                    self.pg = Some(fresh);
                }
            }
        }
        Ok(AppendedRecord {
            seq,
            hash: record.hash.clone(),
            path: self.path.clone(),
            record,
        })
    }

    /// The head of the newest rotated file, for the first record of a fresh active file.
    fn previous_segment_head(&self) -> Result<Option<(u64, String)>, AuditError> {
        let segs = segments(&self.path)?;
        let Some(last) = segs.iter().rev().find(|p| **p != self.path) else {
            return Ok(None);
        };
        let mut f = File::open(last).map_err(|e| AuditError::io(last, "open", e))?;
        let len = f
            .metadata()
            .map_err(|e| AuditError::io(last, "stat", e))?
            .len();
        match read_tail(&mut f, last, len)? {
            Tail::Last { seq, hash } => Ok(Some((seq, hash))),
            Tail::Empty => Ok(None),
            Tail::Torn { offset, bytes } => Err(AuditError::TornTail {
                path: last.clone(),
                offset,
                bytes,
            }),
        }
    }
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn free_torn_path(path: &Path) -> PathBuf {
    let first = sibling(path, ".torn");
    if !first.exists() {
        return first;
    }
    (1u32..)
        .map(|n| sibling(path, &format!(".torn.{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

fn segment_number(active: &Path, candidate: &Path) -> Option<u64> {
    let base = active.file_name()?.to_str()?;
    let name = candidate.file_name()?.to_str()?;
    let rest = name.strip_prefix(base)?.strip_prefix('.')?;
    if rest.len() >= 6 && rest.bytes().all(|b| b.is_ascii_digit()) {
        rest.parse().ok()
    } else {
        None
    }
}

/// Every file of the chain in order: rotated files `FILE.000001`, `FILE.000002`, ... then `FILE` itself.
pub fn segments(active: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let dir = match active.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut rotated: Vec<(u64, PathBuf)> = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for e in entries.flatten() {
                let p = dir.join(e.file_name());
                if let Some(n) = segment_number(active, &p) {
                    rotated.push((n, p));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(AuditError::io(&dir, "list directory", e)),
    }
    rotated.sort();
    let mut out: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
    if active.exists() {
        out.push(active.to_path_buf());
    }
    Ok(out)
}

fn sync_dir(path: &Path) -> Result<(), AuditError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match File::open(dir) {
        Ok(d) => d
            .sync_all()
            .map_err(|e| AuditError::io(dir, "fsync directory", e)),
        Err(e) => Err(AuditError::io(dir, "open directory", e)),
    }
}

/// Offset just after the last `\n` strictly before `end`, or 0.
fn line_start_before(f: &mut File, path: &Path, end: u64) -> Result<u64, AuditError> {
    const CHUNK: u64 = 64 * 1024;
    let mut hi = end;
    let mut buf = vec![0u8; CHUNK as usize];
    while hi > 0 {
        let lo = hi.saturating_sub(CHUNK);
        let n = (hi - lo) as usize;
        f.seek(SeekFrom::Start(lo))
            .map_err(|e| AuditError::io(path, "seek", e))?;
        f.read_exact(&mut buf[..n])
            .map_err(|e| AuditError::io(path, "read", e))?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(lo + i as u64 + 1);
        }
        hi = lo;
    }
    Ok(0)
}

fn read_tail(f: &mut File, path: &Path, len: u64) -> Result<Tail, AuditError> {
    if len == 0 {
        return Ok(Tail::Empty);
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(len - 1))
        .map_err(|e| AuditError::io(path, "seek", e))?;
    f.read_exact(&mut last)
        .map_err(|e| AuditError::io(path, "read", e))?;
    if last[0] != b'\n' {
        let offset = line_start_before(f, path, len)?;
        return Ok(Tail::Torn {
            offset,
            bytes: len - offset,
        });
    }
    let start = line_start_before(f, path, len - 1)?;
    let mut line = vec![0u8; (len - 1 - start) as usize];
    f.seek(SeekFrom::Start(start))
        .map_err(|e| AuditError::io(path, "seek", e))?;
    f.read_exact(&mut line)
        .map_err(|e| AuditError::io(path, "read", e))?;
    let bad = |detail: String| AuditError::BadTail {
        path: path.to_path_buf(),
        offset: start,
        detail,
    };
    let v: serde_json::Value =
        serde_json::from_slice(&line).map_err(|e| bad(format!("not JSON: {e}")))?;
    let seq = v
        .get("seq")
        .and_then(|s| s.as_u64())
        .ok_or_else(|| bad("no numeric seq".into()))?;
    let hash = v
        .get("hash")
        .and_then(|s| s.as_str())
        .ok_or_else(|| bad("no hash".into()))?
        .to_string();
    Ok(Tail::Last { seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::ApplyRecord;

    fn body(i: u32) -> RecordBody {
        RecordBody::Apply(ApplyRecord {
            address: format!("dbplatform_database.db{i}"),
            action: "create".into(),
            succeeded: true,
            finished_at: "2026-01-01T00:00:00Z".into(),
            error: None,
            decision_id: None,
            source: None,
        })
    }

    #[test]
    fn appends_chain_seq_and_prev_hash() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path().join("a/decisions.jsonl")).unwrap();
        let r1 = log.append(body(1)).unwrap();
        let r2 = log.append(body(2)).unwrap();
        assert_eq!((r1.seq, r2.seq), (1, 2));
        assert_eq!(r1.record.prev_hash, None);
        assert_eq!(r2.record.prev_hash.as_deref(), Some(r1.hash.as_str()));
        let text = std::fs::read_to_string(dir.path().join("a/decisions.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn rotation_continues_the_chain_in_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let mut log = AuditLog::open(&path).unwrap().with_max_bytes(600);
        let mut last = None;
        for i in 0..10 {
            last = Some(log.append(body(i)).unwrap());
        }
        let segs = segments(&path).unwrap();
        assert!(segs.len() >= 3, "{segs:?}");
        assert_eq!(segs.last().unwrap(), &path);
        assert_eq!(last.unwrap().seq, 10);
        // The first line of the second file links to the last line of the first.
        let first = std::fs::read_to_string(&segs[0]).unwrap();
        let second = std::fs::read_to_string(&segs[1]).unwrap();
        let a: Record = serde_json::from_str(first.lines().last().unwrap()).unwrap();
        let b: Record = serde_json::from_str(second.lines().next().unwrap()).unwrap();
        assert_eq!(b.seq, a.seq + 1);
        assert_eq!(b.prev_hash.as_deref(), Some(a.hash.as_str()));
    }

    #[test]
    fn torn_tail_blocks_append_until_repair() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let mut log = AuditLog::open(&path).unwrap();
        log.append(body(1)).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"schema\":\"dbplatform.au").unwrap();
        drop(f);
        let err = log.append(body(2)).unwrap_err().to_string();
        assert!(
            err.contains("torn") && err.contains("dbpolicy audit repair"),
            "{err}"
        );
        let rep = log.repair("tester", Utc::now()).unwrap().unwrap();
        assert_eq!(rep.seq, 2);
        let torn = std::fs::read(sibling(&path, ".torn")).unwrap();
        assert_eq!(torn, b"{\"schema\":\"dbplatform.au");
        assert_eq!(log.append(body(3)).unwrap().seq, 3);
        assert!(log.repair("tester", Utc::now()).unwrap().is_none());
    }
}
