//! Verification of the whole chain across rotated files: recomputes every hash, checks signatures, follows `seq`
//! and `prev_hash`, and tells apart edited, deleted, reordered, inserted and truncated records and a torn last line.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::error::AuditError;
use super::hashing::{sha256_tagged, signed_bytes};
use super::keys::{self, SigProblem};
use super::log::segments;

/// The kinds of damage `verify` tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DamageKind {
    /// A record's content no longer matches its hash (or the line is not a record at all).
    Edited,
    /// Records are missing from the middle (a `seq` gap that no later line fills).
    Deleted,
    /// Records are present but out of order.
    Reordered,
    /// A record was added that does not belong to the chain (duplicate `seq`, no valid signature, broken link).
    Inserted,
    /// Records are missing at the end (the log ends before the expected head, or a rotated file was cut short).
    Truncated,
    /// The last line has no newline: a writer was killed mid-append or the file was cut mid-line.
    TornLastLine,
    /// The record is signed by a different key than the one given.
    WrongKey,
    /// The signature is missing, malformed or does not match the record.
    BadSignature,
}

impl DamageKind {
    /// The name printed in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DamageKind::Edited => "edited",
            DamageKind::Deleted => "deleted",
            DamageKind::Reordered => "reordered",
            DamageKind::Inserted => "inserted",
            DamageKind::Truncated => "truncated",
            DamageKind::TornLastLine => "torn last line",
            DamageKind::WrongKey => "wrong key",
            DamageKind::BadSignature => "bad signature",
        }
    }
}

/// One problem found, at a precise place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Damage {
    pub kind: DamageKind,
    pub file: PathBuf,
    /// 1-based line number within `file`.
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub detail: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file.display(), self.line)?;
        if let Some(s) = self.seq {
            write!(f, " (seq {s})")?;
        }
        write!(f, ": {}: {}", self.kind.as_str(), self.detail)
    }
}

/// What to check besides the chain itself.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Every record must carry a valid signature by this key.
    pub public_key: Option<VerifyingKey>,
    /// The head an auditor saw earlier (`seq`, optionally its hash): the log must reach it unchanged.
    pub expect_head: Option<(u64, Option<String>)>,
}

/// The result of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub files: Vec<PathBuf>,
    /// Complete lines read (records or not).
    pub records: u64,
    /// The last intact record: (`seq`, `hash`).
    pub head: Option<(u64, String)>,
    /// Records that carry a signature.
    pub signed: u64,
    /// Key id the signatures were checked against, if any.
    pub key_id: Option<String>,
    /// Every problem, in file order; the first is the first bad record.
    pub damages: Vec<Damage>,
}

impl VerifyReport {
    /// True only for an intact log.
    pub fn ok(&self) -> bool {
        self.damages.is_empty()
    }

    /// The first bad record, if any.
    pub fn first(&self) -> Option<&Damage> {
        self.damages.first()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files = self
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sigs = match &self.key_id {
            Some(k) => format!(
                "signatures checked against key {k} ({} signed)",
                self.signed
            ),
            None if self.signed > 0 => format!(
                "{} signed records, signatures NOT checked (no --public-key)",
                self.signed
            ),
            None => "unsigned".to_string(),
        };
        let head = match &self.head {
            Some((s, h)) => format!("head seq {s} {h}"),
            None => "no records".into(),
        };
        if let Some(first) = self.first() {
            writeln!(
                f,
                "DAMAGED: {} problem(s) in {} record line(s) [{files}]",
                self.damages.len(),
                self.records
            )?;
            writeln!(f, "first bad record: {first}")?;
            for d in self.damages.iter().skip(1).take(50) {
                writeln!(f, "  also: {d}")?;
            }
            if self.damages.len() > 51 {
                writeln!(f, "  ... {} more", self.damages.len() - 51)?;
            }
            write!(f, "last intact {head}; {sigs}")
        } else {
            write!(
                f,
                "OK: {} records intact in {} file(s) [{files}]; {head}; {sigs}",
                self.records,
                self.files.len()
            )
        }
    }
}

/// One line as read.
struct Line {
    file: usize,
    line: usize,
    /// Parsed record fields, or why the line is not a record.
    parsed: Result<Parsed, String>,
}

struct Parsed {
    seq: u64,
    prev_hash: Option<String>,
    hash: String,
    computed: String,
    sig: Option<Result<(), SigProblem>>,
    signed: bool,
}

fn parse_line(bytes: &[u8], key: Option<&VerifyingKey>) -> Result<Parsed, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    let seq = v
        .get("seq")
        .and_then(|s| s.as_u64())
        .ok_or("no numeric `seq`")?;
    let hash = v
        .get("hash")
        .and_then(|s| s.as_str())
        .ok_or("no `hash`")?
        .to_string();
    let prev_hash = match v.get("prev_hash") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`prev_hash` is neither a string nor null".into()),
    };
    let bytes = signed_bytes(&v).map_err(|e| e.to_string())?;
    let computed = sha256_tagged(&bytes);
    let sig_value = v.get("sig");
    let sig = key.map(|k| keys::check(k, sig_value, &bytes));
    Ok(Parsed {
        seq,
        prev_hash,
        hash,
        computed,
        sig,
        signed: sig_value.is_some(),
    })
}

/// Verifies the log whose active file is `path`, with all its rotated files.
pub fn verify_log(path: &Path, opts: &VerifyOptions) -> Result<VerifyReport, AuditError> {
    let files = segments(path)?;
    if files.is_empty() {
        return Err(AuditError::io(
            path,
            "open",
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such audit log (nor rotated files FILE.000001...)",
            ),
        ));
    }
    let mut contents = Vec::with_capacity(files.len());
    for f in &files {
        contents.push(std::fs::read(f).map_err(|e| AuditError::io(f, "read", e))?);
    }
    Ok(verify_contents(files, &contents, opts))
}

/// Verifies lines that came from somewhere else (the PostgreSQL copy), labelled `label`.
pub fn verify_lines(label: &str, lines: &[String], opts: &VerifyOptions) -> VerifyReport {
    let mut content = Vec::new();
    for l in lines {
        content.extend_from_slice(l.as_bytes());
        content.push(b'\n');
    }
    verify_contents(vec![PathBuf::from(label)], &[content], opts)
}

fn verify_contents(
    files: Vec<PathBuf>,
    contents: &[Vec<u8>],
    opts: &VerifyOptions,
) -> VerifyReport {
    let key = opts.public_key.as_ref();
    let mut lines: Vec<Line> = Vec::new();
    let mut torn: Vec<(usize, usize, usize)> = Vec::new(); // (file, line, bytes)
    let mut first_line_of_file: HashSet<usize> = HashSet::new();
    for (fi, content) in contents.iter().enumerate() {
        let mut start = 0usize;
        let mut n = 0usize;
        let mut first = true;
        while start < content.len() {
            n += 1;
            match content[start..].iter().position(|&b| b == b'\n') {
                Some(rel) => {
                    if first {
                        first_line_of_file.insert(lines.len());
                        first = false;
                    }
                    lines.push(Line {
                        file: fi,
                        line: n,
                        parsed: parse_line(&content[start..start + rel], key),
                    });
                    start += rel + 1;
                }
                None => {
                    torn.push((fi, n, content.len() - start));
                    break;
                }
            }
        }
    }

    let mut seq_pos: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        if let Ok(p) = &l.parsed {
            seq_pos.entry(p.seq).or_default().push(i);
        }
    }

    let mut damages = Vec::new();
    let mut signed = 0u64;
    let dmg = |kind, l: &Line, seq: Option<u64>, detail: String| Damage {
        kind,
        file: files[l.file].clone(),
        line: l.line,
        seq,
        detail,
    };
    // (seq, hash, index) of the last record the chain continues from.
    let mut prev: Option<(u64, String, usize)> = None;
    let mut reordered_later: HashSet<u64> = HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        let p = match &l.parsed {
            Ok(p) => p,
            Err(why) => {
                damages.push(dmg(
                    DamageKind::Edited,
                    l,
                    None,
                    format!("the line is not an audit record: {why}"),
                ));
                // Assume the line held the next record, so the records after it are not reported again.
                let next = prev.as_ref().map_or(1, |(s, _, _)| s + 1);
                prev = Some((next, String::new(), i));
                continue;
            }
        };
        if p.signed {
            signed += 1;
        }
        let place = |j: usize| format!("{} line {}", files[lines[j].file].display(), lines[j].line);
        if p.computed != p.hash {
            damages.push(dmg(
                DamageKind::Edited,
                l,
                Some(p.seq),
                format!(
                    "the content does not match its hash (stored {}, computed {}): the record was changed after it was written",
                    p.hash, p.computed
                ),
            ));
            prev = Some((p.seq, p.hash.clone(), i));
            continue;
        }
        let dup_elsewhere = seq_pos.get(&p.seq).is_some_and(|v| v.len() > 1);
        if let Some(Err(problem)) = &p.sig {
            let (kind, detail) = match problem {
                SigProblem::WrongKey { found, expected } => (
                    DamageKind::WrongKey,
                    format!("signed by key {found}, but the given public key is {expected}"),
                ),
                SigProblem::Missing if dup_elsewhere => (
                    DamageKind::Inserted,
                    "forged record: its hash is consistent but it has no signature, and another record claims the same seq".into(),
                ),
                SigProblem::Missing => (
                    DamageKind::BadSignature,
                    "no signature, but every record must be signed by the given key (inserted or written without the key)".into(),
                ),
                SigProblem::Invalid(why) if dup_elsewhere => (
                    DamageKind::Inserted,
                    format!("forged record: {why}, and another record claims the same seq"),
                ),
                SigProblem::Invalid(why) => (DamageKind::BadSignature, why.clone()),
            };
            damages.push(dmg(kind, l, Some(p.seq), detail));
            continue;
        }
        if reordered_later.remove(&p.seq) {
            continue;
        }
        let expected_seq = prev.as_ref().map_or(1, |(s, _, _)| s + 1);
        let expected_prev = prev.as_ref().map(|(_, h, _)| h.clone());
        if p.seq == expected_seq {
            let unknown_prev = expected_prev.as_deref() == Some("");
            if p.prev_hash != expected_prev && !unknown_prev {
                let detail = match &prev {
                    Some((_, h, j)) => format!(
                        "prev_hash {} does not match the hash {h} of the record before it ({}): a record was inserted or replaced",
                        p.prev_hash.as_deref().unwrap_or("null"),
                        place(*j)
                    ),
                    None => format!(
                        "the first record has prev_hash {} instead of null: records before it are missing",
                        p.prev_hash.as_deref().unwrap_or("null")
                    ),
                };
                let kind = if prev.is_some() {
                    DamageKind::Inserted
                } else {
                    DamageKind::Deleted
                };
                damages.push(dmg(kind, l, Some(p.seq), detail));
            }
            prev = Some((p.seq, p.hash.clone(), i));
        } else if p.seq > expected_seq {
            let later: Vec<u64> = (expected_seq..p.seq)
                .filter(|s| seq_pos.get(s).is_some_and(|v| v.iter().any(|&j| j > i)))
                .collect();
            if let Some(&first_later) = later.first() {
                let j = seq_pos[&first_later]
                    .iter()
                    .copied()
                    .find(|&j| j > i)
                    .unwrap_or(i);
                damages.push(dmg(
                    DamageKind::Reordered,
                    l,
                    Some(p.seq),
                    format!(
                        "seq {} comes before seq {first_later} ({}): records were reordered",
                        p.seq,
                        place(j)
                    ),
                ));
                reordered_later.extend(later);
            } else {
                let missing = p.seq - expected_seq;
                let (kind, detail) = match &prev {
                    None => (
                        DamageKind::Deleted,
                        format!("the log starts at seq {}: the first {missing} record(s) are missing (first file deleted or its start cut)", p.seq),
                    ),
                    Some((s, _, j)) if first_line_of_file.contains(&i) && lines[*j].file != l.file => (
                        DamageKind::Truncated,
                        format!(
                            "{} ends at seq {s} but this file starts at seq {}: {missing} record(s) cut from the end of that file (or a rotated file deleted)",
                            files[lines[*j].file].display(),
                            p.seq
                        ),
                    ),
                    Some((s, _, j)) => (
                        DamageKind::Deleted,
                        format!("seq jumps from {s} ({}) to {}: {missing} record(s) deleted", place(*j), p.seq),
                    ),
                };
                damages.push(dmg(kind, l, Some(p.seq), detail));
            }
            prev = Some((p.seq, p.hash.clone(), i));
        } else {
            let earlier: Vec<usize> = seq_pos[&p.seq].iter().copied().filter(|&j| j < i).collect();
            if let Some(&j) = earlier.first() {
                let same = matches!(&lines[j].parsed, Ok(q) if q.hash == p.hash);
                let detail = if same {
                    format!(
                        "duplicate of {} (seq {}): a copy was inserted",
                        place(j),
                        p.seq
                    )
                } else {
                    format!(
                        "seq {} is also claimed by {}: one of them was inserted",
                        p.seq,
                        place(j)
                    )
                };
                damages.push(dmg(DamageKind::Inserted, l, Some(p.seq), detail));
                if prev.as_ref().is_some_and(|(s, _, _)| *s == p.seq) && p.prev_hash.is_some() {
                    // Two records claim this seq; continue from the one that links to its predecessor.
                    let links = seq_pos
                        .get(&(p.seq.wrapping_sub(1)))
                        .is_some_and(|v| v.iter().any(|&k| matches!(&lines[k].parsed, Ok(q) if Some(&q.hash) == p.prev_hash.as_ref())));
                    if links {
                        prev = Some((p.seq, p.hash.clone(), i));
                    }
                }
            } else {
                let (s, _, j) = prev.clone().unwrap_or((0, String::new(), i));
                damages.push(dmg(
                    DamageKind::Reordered,
                    l,
                    Some(p.seq),
                    format!(
                        "seq {} comes after seq {s} ({}): records were reordered",
                        p.seq,
                        place(j)
                    ),
                ));
            }
        }
    }

    for (fi, line, bytes) in &torn {
        damages.push(Damage {
            kind: DamageKind::TornLastLine,
            file: files[*fi].clone(),
            line: *line,
            seq: None,
            detail: format!(
                "the last line is incomplete ({bytes} bytes, no trailing newline): a writer was killed mid-append or the \
                 file was cut mid-line; `dbpolicy audit repair` moves it to a .torn file and records the repair"
            ),
        });
    }

    // The last record whose content matches its hash: what an auditor can anchor on.
    let head = lines.iter().rev().find_map(|l| match &l.parsed {
        Ok(p) if p.computed == p.hash => Some((p.seq, p.hash.clone())),
        _ => None,
    });
    if let Some((want_seq, want_hash)) = &opts.expect_head {
        let last_file = files.len().saturating_sub(1);
        let last_line = lines.iter().filter(|l| l.file == last_file).count();
        let at_end = |detail: String, kind| Damage {
            kind,
            file: files.get(last_file).cloned().unwrap_or_default(),
            line: last_line,
            seq: head.as_ref().map(|(s, _)| *s),
            detail,
        };
        let max_seq = head.as_ref().map_or(0, |(s, _)| *s);
        if max_seq < *want_seq {
            damages.push(at_end(
                format!(
                    "the log ends at seq {max_seq} but the expected head is seq {want_seq}: {} record(s) cut from the end",
                    want_seq - max_seq
                ),
                DamageKind::Truncated,
            ));
        } else if let Some(h) = want_hash {
            let found = seq_pos.get(want_seq).and_then(|v| {
                v.iter().find_map(|&j| match &lines[j].parsed {
                    Ok(q) => Some((j, q.hash.clone())),
                    Err(_) => None,
                })
            });
            match found {
                Some((_, fh)) if &fh == h => {}
                Some((j, fh)) => damages.push(dmg(
                    DamageKind::Edited,
                    &lines[j],
                    Some(*want_seq),
                    format!("the expected head has hash {h}, but this record has {fh}: history was rewritten"),
                )),
                None => damages.push(at_end(format!("no record with the expected head seq {want_seq}"), DamageKind::Deleted)),
            }
        }
    }

    // File order first, then line order, so the first entry is the first bad record.
    damages.sort_by_key(|d| {
        (
            files
                .iter()
                .position(|f| *f == d.file)
                .unwrap_or(usize::MAX),
            d.line,
        )
    });
    VerifyReport {
        files,
        records: lines.len() as u64,
        head,
        signed,
        key_id: key.map(keys::key_id),
        damages,
    }
}

/// Parses `SEQ` or `SEQ:sha256:HEX` as given to `--expect-head`.
pub fn parse_expect_head(s: &str) -> Result<(u64, Option<String>), AuditError> {
    let (seq, hash) = match s.split_once(':') {
        Some((a, b)) => (a, Some(b.to_string())),
        None => (s, None),
    };
    let seq = seq.trim().parse::<u64>().map_err(|_| {
        AuditError::Config(format!(
            "--expect-head {s:?}: expected SEQ or SEQ:sha256:HEX (as printed by verify)"
        ))
    })?;
    if let Some(h) = &hash {
        if !h.starts_with("sha256:") || h.len() != 71 {
            return Err(AuditError::Config(format!(
                "--expect-head {s:?}: the hash must look like sha256:<64 hex digits>"
            )));
        }
    }
    Ok((seq, hash))
}
