//! Every kind of damage to a signed audit log is detected, located (file, line, seq) and named, and
//! `dbpolicy audit verify` exits 0 only for an intact log.

mod audit_support;

use std::path::{Path, PathBuf};

use audit_support::{decision_body, lines, value, write_lines};
use ed25519_dalek::SigningKey;
use policy::audit::cli::{run, AuditCommand, VerifyFormat};
use policy::audit::hashing::record_hash;
use policy::audit::keys;
use policy::audit::{verify_log, AuditLog, DamageKind, VerifyOptions, VerifyReport};

struct Fixture {
    _dir: tempfile::TempDir,
    log: PathBuf,
    public: PathBuf,
    key: SigningKey,
}

/// A signed log of six decision records.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let key = keys::generate();
    let key_file = dir.path().join("audit-key");
    let (public, _) = keys::write_keypair(&key, &key_file).unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut w = AuditLog::open(&log).unwrap().with_signing_key(key.clone());
    for n in 1..=6 {
        w.append(decision_body(n, if n % 2 == 0 { "fail" } else { "pass" }))
            .unwrap();
    }
    Fixture {
        _dir: dir,
        log,
        public,
        key,
    }
}

fn verify(f: &Fixture, with_key: bool) -> VerifyReport {
    let opts = VerifyOptions {
        public_key: with_key.then(|| f.key.verifying_key()),
        expect_head: None,
    };
    verify_log(&f.log, &opts).unwrap()
}

fn cli_verify(log: &Path, public: Option<&Path>, expect_head: Option<String>) -> i32 {
    run(AuditCommand::Verify {
        public_key: public.map(Path::to_path_buf),
        expect_head,
        pg: None,
        format: VerifyFormat::Text,
        log: Some(log.to_path_buf()),
    })
}

fn assert_first(r: &VerifyReport, kind: DamageKind, line: usize, seq: Option<u64>) {
    let first = r
        .first()
        .unwrap_or_else(|| panic!("expected {kind:?} at line {line}, but the log verified: {r}"));
    assert_eq!(
        (first.kind, first.line, first.seq),
        (kind, line, seq),
        "{r}"
    );
}

#[test]
fn intact_signed_log_verifies_and_exits_zero() {
    let f = fixture();
    let r = verify(&f, true);
    assert!(r.ok(), "{r}");
    assert_eq!(r.records, 6);
    assert_eq!(r.signed, 6);
    assert_eq!(r.head.as_ref().unwrap().0, 6);
    assert!(r.to_string().starts_with("OK: 6 records intact"), "{r}");
    assert_eq!(cli_verify(&f.log, Some(&f.public), None), 0);
}

#[test]
fn an_edited_byte_is_reported_as_edited_at_its_line() {
    let f = fixture();
    let mut l = lines(&f.log);
    l[2] = l[2].replacen("aws_db_instance.db3", "aws_db_instance.db9", 1);
    write_lines(&f.log, &l);
    let r = verify(&f, false);
    assert_first(&r, DamageKind::Edited, 3, Some(3));
    assert_eq!(r.damages.len(), 1, "{r}");
    assert!(
        r.first()
            .unwrap()
            .detail
            .contains("does not match its hash"),
        "{r}"
    );
    assert!(
        r.to_string()
            .contains("decisions.jsonl line 3 (seq 3): edited"),
        "{r}"
    );
    assert_eq!(cli_verify(&f.log, Some(&f.public), None), 1);
}

#[test]
fn an_edit_that_breaks_the_json_is_still_edited() {
    let f = fixture();
    let mut bytes = std::fs::read(&f.log).unwrap();
    let second_line = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    bytes[second_line] = b'['; // the `{` that opens line 2
    std::fs::write(&f.log, bytes).unwrap();
    let r = verify(&f, false);
    assert_first(&r, DamageKind::Edited, 2, None);
    assert!(r.first().unwrap().detail.contains("not valid JSON"), "{r}");
    assert_eq!(
        r.damages.len(),
        1,
        "the records after it are not blamed: {r}"
    );
}

#[test]
fn a_deleted_line_is_reported_as_deleted() {
    let f = fixture();
    let mut l = lines(&f.log);
    l.remove(2);
    write_lines(&f.log, &l);
    let r = verify(&f, true);
    assert_first(&r, DamageKind::Deleted, 3, Some(4));
    assert!(
        r.first().unwrap().detail.contains("seq jumps from 2"),
        "{r}"
    );
    assert!(
        r.first().unwrap().detail.contains("1 record(s) deleted"),
        "{r}"
    );
    assert_eq!(r.damages.len(), 1, "{r}");
}

#[test]
fn swapped_lines_are_reported_as_reordered() {
    let f = fixture();
    let mut l = lines(&f.log);
    l.swap(2, 3);
    write_lines(&f.log, &l);
    let r = verify(&f, true);
    assert_first(&r, DamageKind::Reordered, 3, Some(4));
    assert!(
        r.first()
            .unwrap()
            .detail
            .contains("seq 4 comes before seq 3"),
        "{r}"
    );
    assert_eq!(r.damages.len(), 1, "{r}");
}

/// A forger who knows the format recomputes seq, prev_hash and hash, but has no signing key.
fn forge_after_line_3(f: &Fixture, sign_with: Option<&SigningKey>) {
    let mut l = lines(&f.log);
    let third = value(&l[2]);
    let mut forged = value(&l[3]);
    forged["outcome"] = "pass".into();
    forged["result"]["resources"][0]["rules"]["DBP-BAK-001"] = "pass".into();
    forged["prev_hash"] = third["hash"].clone();
    forged.as_object_mut().unwrap().remove("sig");
    let hash = record_hash(&forged).unwrap();
    if let Some(k) = sign_with {
        let bytes = policy::audit::hashing::signed_bytes(&forged).unwrap();
        forged["sig"] = serde_json::to_value(keys::sign(k, &bytes)).unwrap();
    }
    forged["hash"] = hash.into();
    l.insert(3, forged.to_string());
    write_lines(&f.log, &l);
}

#[test]
fn a_forged_line_with_recomputed_hash_is_reported_as_inserted() {
    let f = fixture();
    forge_after_line_3(&f, None);
    let r = verify(&f, true);
    assert_first(&r, DamageKind::Inserted, 4, Some(4));
    assert!(r.first().unwrap().detail.contains("no signature"), "{r}");
    assert_eq!(
        r.damages.len(),
        1,
        "the genuine records after the forgery are fine: {r}"
    );
    // Without the key, the chain alone still shows two records claiming seq 4.
    let r = verify(&f, false);
    assert_first(&r, DamageKind::Inserted, 5, Some(4));
    assert!(r.first().unwrap().detail.contains("also claimed by"), "{r}");
    assert_eq!(cli_verify(&f.log, Some(&f.public), None), 1);
    assert_eq!(cli_verify(&f.log, None, None), 1);
}

#[test]
fn a_forged_line_signed_with_another_key_is_wrong_key() {
    let f = fixture();
    let attacker = keys::generate();
    forge_after_line_3(&f, Some(&attacker));
    let r = verify(&f, true);
    assert_first(&r, DamageKind::WrongKey, 4, Some(4));
    assert!(
        r.first()
            .unwrap()
            .detail
            .contains(&keys::key_id(&attacker.verifying_key())),
        "{r}"
    );
}

#[test]
fn verifying_with_the_wrong_public_key_fails_on_the_first_record() {
    let f = fixture();
    let other = keys::generate();
    let r = verify_log(
        &f.log,
        &VerifyOptions {
            public_key: Some(other.verifying_key()),
            expect_head: None,
        },
    )
    .unwrap();
    assert_first(&r, DamageKind::WrongKey, 1, Some(1));
    assert_eq!(r.damages.len(), 6);
}

#[test]
fn a_signature_that_does_not_match_is_bad_signature() {
    let f = fixture();
    let mut l = lines(&f.log);
    let mut v = value(&l[1]);
    let other_sig = value(&l[2])["sig"]["value"].clone();
    v["sig"]["value"] = other_sig;
    l[1] = v.to_string();
    write_lines(&f.log, &l);
    let r = verify(&f, true);
    assert_first(&r, DamageKind::BadSignature, 2, Some(2));
    assert!(r.first().unwrap().detail.contains("does not match"), "{r}");
    assert!(verify(&f, false).ok(), "the hash chain itself is untouched");
}

#[test]
fn truncation_mid_line_is_a_torn_last_line() {
    let f = fixture();
    let bytes = std::fs::read(&f.log).unwrap();
    let cut = bytes.len() - 40;
    std::fs::write(&f.log, &bytes[..cut]).unwrap();
    let r = verify(&f, true);
    assert_first(&r, DamageKind::TornLastLine, 6, None);
    assert_eq!(r.damages.len(), 1, "{r}");
    assert!(
        r.first().unwrap().detail.contains("no trailing newline"),
        "{r}"
    );
    assert_eq!(
        r.head.as_ref().unwrap().0,
        5,
        "the last intact record is seq 5"
    );
    assert_eq!(cli_verify(&f.log, Some(&f.public), None), 1);
}

#[test]
fn records_cut_from_the_end_are_truncated_against_the_expected_head() {
    let f = fixture();
    let head = verify(&f, true).head.unwrap();
    let mut l = lines(&f.log);
    l.truncate(4);
    write_lines(&f.log, &l);
    let anchor = format!("{}:{}", head.0, head.1);
    assert_eq!(
        cli_verify(&f.log, Some(&f.public), None),
        0,
        "without an anchor a clean cut looks intact"
    );
    assert_eq!(cli_verify(&f.log, Some(&f.public), Some(anchor.clone())), 1);
    let r = verify_log(
        &f.log,
        &VerifyOptions {
            public_key: None,
            expect_head: Some((head.0, Some(head.1.clone()))),
        },
    )
    .unwrap();
    assert_first(&r, DamageKind::Truncated, 4, Some(4));
    assert!(
        r.first()
            .unwrap()
            .detail
            .contains("2 record(s) cut from the end"),
        "{r}"
    );
}

#[test]
fn a_cut_rotated_file_is_truncated_and_a_missing_first_file_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("d.jsonl");
    let mut w = AuditLog::open(&log).unwrap().with_max_bytes(3000);
    for n in 1..=12 {
        w.append(decision_body(n, "pass")).unwrap();
    }
    let segs = policy::audit::log::segments(&log).unwrap();
    assert!(segs.len() >= 3, "{segs:?}");
    let intact = verify_log(&log, &VerifyOptions::default()).unwrap();
    assert!(intact.ok(), "{intact}");
    assert_eq!(intact.files.len(), segs.len());
    // Cut the last record of the first rotated file.
    let mut first = lines(&segs[0]);
    let first_len = first.len();
    first.pop();
    write_lines(&segs[0], &first);
    let r = verify_log(&log, &VerifyOptions::default()).unwrap();
    assert_first(&r, DamageKind::Truncated, 1, Some(first_len as u64 + 1));
    assert_eq!(r.first().unwrap().file, segs[1]);
    // Remove the whole first file: the chain starts in the middle.
    std::fs::remove_file(&segs[0]).unwrap();
    let r = verify_log(&log, &VerifyOptions::default()).unwrap();
    assert_first(&r, DamageKind::Deleted, 1, Some(first_len as u64 + 1));
    assert!(
        r.first().unwrap().detail.contains("the log starts at seq"),
        "{r}"
    );
}

#[test]
fn a_partial_line_from_a_killed_writer_blocks_appends_until_repair() {
    let f = fixture();
    // Simulate a writer killed mid-append: half of a record, no newline.
    let l = lines(&f.log);
    let half = &l[5][..l[5].len() / 2];
    let mut bytes = std::fs::read(&f.log).unwrap();
    bytes.extend_from_slice(half.as_bytes());
    std::fs::write(&f.log, &bytes).unwrap();
    let r = verify(&f, true);
    assert_first(&r, DamageKind::TornLastLine, 7, None);
    assert!(r.to_string().contains("line 7: torn last line"), "{r}");

    let mut w = AuditLog::open(&f.log)
        .unwrap()
        .with_signing_key(f.key.clone());
    let err = w.append(decision_body(7, "pass")).unwrap_err().to_string();
    assert!(
        err.contains("torn (incomplete) line") && err.contains("dbpolicy audit repair"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&f.log).unwrap(),
        bytes,
        "the refused append changed nothing"
    );

    let key_file = f.public.with_extension("");
    let code = run(AuditCommand::Repair {
        log: Some(f.log.clone()),
        signing_key: Some(key_file),
    });
    assert_eq!(code, 0);
    let torn = std::fs::read_to_string(format!("{}.torn", f.log.display())).unwrap();
    assert_eq!(torn, half);
    let after = lines(&f.log);
    assert_eq!(after.len(), 7);
    let repair = value(&after[6]);
    assert_eq!(repair["kind"], "repair");
    assert_eq!(repair["seq"], 7);
    assert_eq!(repair["torn_bytes"], half.len() as u64);
    w.append(decision_body(8, "pass")).unwrap();
    let r = verify(&f, true);
    assert!(r.ok(), "{r}");
    assert_eq!(r.records, 8);
}

#[test]
fn a_record_edited_and_rehashed_breaks_the_link_to_the_next_record() {
    let f = fixture();
    let mut l = lines(&f.log);
    let mut v = value(&l[2]);
    assert_eq!(v["outcome"], "pass");
    v["outcome"] = "fail".into();
    v.as_object_mut().unwrap().remove("sig");
    v["hash"] = record_hash(&v).unwrap().into();
    l[2] = v.to_string();
    write_lines(&f.log, &l);
    // The chain alone: the next record no longer links to the replaced one.
    let r = verify(&f, false);
    assert_first(&r, DamageKind::Inserted, 4, Some(4));
    assert!(r.first().unwrap().detail.contains("line 3"), "{r}");
    assert!(
        r.first().unwrap().detail.contains("inserted or replaced"),
        "{r}"
    );
    // With the key, the replaced record itself is caught.
    let r = verify(&f, true);
    assert_first(&r, DamageKind::BadSignature, 3, Some(3));
}

#[test]
fn keygen_writes_a_pair_once_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ci-audit.key");
    assert_eq!(run(AuditCommand::Keygen { out: out.clone() }), 0);
    let private = std::fs::read_to_string(&out).unwrap();
    let public = std::fs::read_to_string(dir.path().join("ci-audit.key.pub")).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the private key must be readable by its owner only"
        );
    }
    assert_eq!(run(AuditCommand::Keygen { out: out.clone() }), 2);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        private,
        "the old key is untouched"
    );
    // A log signed with the new key verifies with its public file.
    let log = dir.path().join("d.jsonl");
    let key = keys::load_signing_key(&out).unwrap();
    AuditLog::open(&log)
        .unwrap()
        .with_signing_key(key)
        .append(decision_body(1, "pass"))
        .unwrap();
    assert_eq!(
        cli_verify(&log, Some(&dir.path().join("ci-audit.key.pub")), None),
        0
    );
    assert_eq!(cli_verify(&dir.path().join("missing.jsonl"), None, None), 2);
}
