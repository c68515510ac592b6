//! Audit log speed: appends (each one locked and fsync'ed, as in production) and verification of the whole chain.
//!
//! `cargo run --release -p dbplatform-policy --example audit_bench -- [RECORDS] [--signed] [--dir DIR]`
//! (default 100000 records, in a temp dir on the same file system as the target directory unless --dir).

use std::time::Instant;

use policy::audit::keys;
use policy::audit::{
    decision_record, input_sha256, verify_log, AuditLog, DecisionMeta, VerifyOptions,
};
use serde_json::json;

fn main() {
    let mut records: u64 = 100_000;
    let mut signed = false;
    let mut dir: Option<std::path::PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--signed" => signed = true,
            "--dir" => dir = args.next().map(Into::into),
            n => match n.parse() {
                Ok(n) => records = n,
                Err(_) => {
                    eprintln!("usage: audit_bench [RECORDS] [--signed] [--dir DIR]");
                    std::process::exit(2);
                }
            },
        }
    }
    let tmp = match &dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir_in("target").or_else(|_| tempfile::tempdir()),
    }
    .unwrap_or_else(|e| {
        eprintln!("cannot create a temp dir: {e}");
        std::process::exit(2);
    });
    let path = tmp.path().join("decisions.jsonl");
    let key = keys::generate();
    let mut log = match AuditLog::open(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if signed {
        log = log.with_signing_key(key.clone());
    }
    let meta = DecisionMeta {
        source: "cli".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        terraform_workspace: Some("bench".into()),
        terraform_version: Some("1.0.3".into()),
        input_sha256: input_sha256(&json!({"bench": true})).unwrap_or_default(),
        bundle_name: None,
    };
    let start = Instant::now();
    for i in 0..records {
        let d = json!({
            "decision_id": format!("bench-{i}"), "outcome": if i % 10 == 0 { "fail" } else { "pass" },
            "bundle_hash": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "rules": [{"id": "DBP-ENC-001", "version": "1.0.0"}, {"id": "DBP-BAK-001", "version": "1.0.0"}],
            "results": [
                {"rule_id": "DBP-ENC-001", "status": "pass", "address": format!("aws_db_instance.db{}", i % 50)},
                {"rule_id": "DBP-BAK-001", "status": if i % 10 == 0 { "fail" } else { "pass" },
                 "address": format!("aws_db_instance.db{}", i % 50), "path": "backup_retention_period",
                 "message": "backup retention below the tier minimum"}
            ],
        });
        let body = match decision_record(&d, &meta) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        if let Err(e) = log.append(body) {
            eprintln!("append {i}: {e}");
            std::process::exit(1);
        }
    }
    let append_s = start.elapsed().as_secs_f64();
    let files = policy::audit::log::segments(&path).unwrap_or_default();
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let opts = VerifyOptions {
        public_key: signed.then(|| key.verifying_key()),
        expect_head: None,
    };
    let start = Instant::now();
    let report = match verify_log(&path, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let verify_s = start.elapsed().as_secs_f64();
    if !report.ok() || report.records != records {
        eprintln!("verification failed: {report}");
        std::process::exit(1);
    }
    let start = Instant::now();
    let chain_only = verify_log(&path, &VerifyOptions::default());
    let chain_s = start.elapsed().as_secs_f64();
    if !chain_only.as_ref().is_ok_and(|r| r.ok()) {
        eprintln!("verification without key failed");
        std::process::exit(1);
    }
    println!(
        "audit_bench: {records} records ({:.1} MiB in {} file(s), {}signed)",
        bytes as f64 / 1_048_576.0,
        files.len(),
        if signed { "" } else { "un" }
    );
    println!(
        "append (lock + fsync each): {:.1} s, {:.0} records/s",
        append_s,
        records as f64 / append_s
    );
    println!(
        "verify{}: {:.2} s, {:.0} records/s",
        if signed {
            " (hash chain + signatures)"
        } else {
            " (hash chain)"
        },
        verify_s,
        records as f64 / verify_s
    );
    if signed {
        println!(
            "verify (hash chain only): {:.2} s, {:.0} records/s",
            chain_s,
            records as f64 / chain_s
        );
    }
}
