//! `dbpolicy audit ...`: argument parsing and exit codes only; the work is in the sibling modules.
//!
//! Exit codes: 0 success (for `verify`: the log is intact), 1 the log is damaged, 2 bad usage or an I/O error.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::{Subcommand, ValueEnum};

use super::config::AuditConfig;
use super::error::AuditError;
use super::keys;
use super::log::AuditLog;
use super::pg;
use super::query::{parse_date, read_records, Filter};
use super::report;
use super::verify::{parse_expect_head, verify_lines, verify_log, VerifyOptions, VerifyReport};

/// Output of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
}

/// Output of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Html,
    Md,
    Csv,
    Json,
}

/// The `dbpolicy audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain (all rotated files) and report the first bad record; exit 0 only if intact.
    Verify {
        /// Public key (`FILE.pub` from keygen): every record must carry a valid signature by it.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// The head seen earlier (`SEQ` or `SEQ:sha256:HEX`, as printed by verify): detects records cut from the end.
        #[arg(long, value_name = "SEQ[:HASH]")]
        expect_head: Option<String>,
        /// Verify the PostgreSQL copy (connection string) instead of the file.
        #[arg(long, value_name = "CONN")]
        pg: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: VerifyFormat,
        /// The log (default: $DBPOLICY_AUDIT_LOG, else $XDG_DATA_HOME/dbplatform/audit/decisions.jsonl).
        log: Option<PathBuf>,
    },
    /// Write a new Ed25519 key pair: FILE (private, PKCS#8 PEM, mode 0600) and FILE.pub (public).
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Evidence report: chain status, decisions per day, failures, exceptions, overrides, restore tests, KPIs.
    Report {
        log: Option<PathBuf>,
        /// First day (YYYY-MM-DD or RFC 3339), inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD or RFC 3339), inclusive.
        #[arg(long)]
        to: Option<String>,
        /// Default: from the --output extension, else md.
        #[arg(long, value_enum)]
        format: Option<ReportFormat>,
        /// Write to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Check signatures with this public key for the chain status.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// Print only one section: `access` (break-glass grants, renewals and revocations, with the chain status).
        #[arg(long, value_enum, default_value = "all")]
        section: report::Section,
    },
    /// Print the records that match every filter, as JSONL (the exact stored lines).
    Query {
        log: Option<PathBuf>,
        /// Resource address glob, e.g. 'module.data.*'.
        #[arg(long)]
        resource: Option<String>,
        /// Rule id, e.g. DBP-ENC-001.
        #[arg(long)]
        rule: Option<String>,
        /// pass | fail (decisions), succeeded | failed (restore tests, applies), repaired.
        #[arg(long)]
        outcome: Option<String>,
        /// decision | restore_test | apply | repair.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
    /// Move a torn last line (crashed writer) to FILE.torn and record a `repair` record; never touches complete records.
    Repair {
        log: Option<PathBuf>,
        /// Private key to sign the repair record (default: $DBPOLICY_AUDIT_KEY).
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
    },
    /// Create the append-only PostgreSQL table (triggers refuse UPDATE, DELETE, TRUNCATE) and an INSERT/SELECT role.
    PgInit {
        /// Connection string of an owner/admin (default: $DBPOLICY_AUDIT_PG).
        #[arg(long, value_name = "CONN", env = "DBPOLICY_AUDIT_PG")]
        pg: String,
        /// Name of the role that may only INSERT and SELECT.
        #[arg(long, default_value = pg::DEFAULT_ROLE)]
        role: String,
    },
}

/// Runs one `dbpolicy audit` subcommand and returns the process exit code.
pub fn run(cmd: AuditCommand) -> i32 {
    let name = match &cmd {
        AuditCommand::Verify { .. } => "verify",
        AuditCommand::Keygen { .. } => "keygen",
        AuditCommand::Report { .. } => "report",
        AuditCommand::Query { .. } => "query",
        AuditCommand::Repair { .. } => "repair",
        AuditCommand::PgInit { .. } => "pg-init",
    };
    match run_inner(cmd) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dbpolicy audit {name}: error: {e}");
            2
        }
    }
}

fn log_path(log: Option<PathBuf>) -> Result<PathBuf, AuditError> {
    Ok(AuditConfig::resolve(log.as_deref())?.path)
}

fn options(
    public_key: Option<&Path>,
    expect_head: Option<&str>,
) -> Result<VerifyOptions, AuditError> {
    Ok(VerifyOptions {
        public_key: public_key.map(keys::load_verifying_key).transpose()?,
        expect_head: expect_head.map(parse_expect_head).transpose()?,
    })
}

fn write_out(output: Option<&Path>, text: &str) -> Result<(), AuditError> {
    match output {
        Some(p) => std::fs::write(p, text).map_err(|e| AuditError::io(p, "write report", e)),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| AuditError::io("<stdout>", "write", e)),
    }
}

fn print_verify(report: &VerifyReport, format: VerifyFormat) {
    match format {
        VerifyFormat::Text => println!("{report}"),
        VerifyFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(report)
                .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        ),
    }
}

fn run_inner(cmd: AuditCommand) -> Result<i32, AuditError> {
    match cmd {
        AuditCommand::Verify {
            public_key,
            expect_head,
            pg,
            format,
            log,
        } => {
            let opts = options(public_key.as_deref(), expect_head.as_deref())?;
            let report = match pg {
                Some(conn) => {
                    let lines = pg::PgSink::connect(&conn)?.lines()?;
                    verify_lines(pg::TABLE, &lines, &opts)
                }
                None => verify_log(&log_path(log)?, &opts)?,
            };
            print_verify(&report, format);
            Ok(if report.ok() { 0 } else { 1 })
        }
        AuditCommand::Keygen { out } => {
            let key = keys::generate();
            let (pub_path, id) = keys::write_keypair(&key, &out)?;
            println!(
                "wrote private key {} (keep it secret; set DBPOLICY_AUDIT_KEY to it) and public key {} (key id {id}; \
                 give it to auditors for `dbpolicy audit verify --public-key`)",
                out.display(),
                pub_path.display()
            );
            Ok(0)
        }
        AuditCommand::Report {
            log,
            from,
            to,
            format,
            output,
            public_key,
            section,
        } => {
            let path = log_path(log)?;
            let filter = Filter {
                from: from
                    .as_deref()
                    .map(|s| parse_date(s, false, "--from"))
                    .transpose()?,
                to: to
                    .as_deref()
                    .map(|s| parse_date(s, true, "--to"))
                    .transpose()?,
                ..Default::default()
            };
            let verify = verify_log(&path, &options(public_key.as_deref(), None)?)?;
            let records = read_records(&path)?;
            let data = report::build(
                &path.display().to_string(),
                &records,
                &verify,
                &filter,
                Utc::now(),
            );
            let format = format.unwrap_or_else(|| {
                match output
                    .as_ref()
                    .and_then(|p| p.extension())
                    .and_then(|e| e.to_str())
                {
                    Some("html" | "htm") => ReportFormat::Html,
                    Some("csv") => ReportFormat::Csv,
                    Some("json") => ReportFormat::Json,
                    _ => ReportFormat::Md,
                }
            });
            let text = match (section, format) {
                (report::Section::Access, f) => report::section_only(
                    &data,
                    match f {
                        ReportFormat::Html => "html",
                        ReportFormat::Md => "md",
                        ReportFormat::Csv => "csv",
                        ReportFormat::Json => "json",
                    },
                ),
                (_, ReportFormat::Html) => report::to_html(&data),
                (_, ReportFormat::Md) => report::to_markdown(&data),
                (_, ReportFormat::Csv) => report::to_csv(&data),
                (_, ReportFormat::Json) => report::to_json(&data),
            };
            write_out(output.as_deref(), &text)?;
            if let Some(p) = &output {
                eprintln!(
                    "wrote {} (chain {})",
                    p.display(),
                    if verify.ok() { "intact" } else { "DAMAGED" }
                );
            }
            Ok(0)
        }
        AuditCommand::Query {
            log,
            resource,
            rule,
            outcome,
            kind,
            from,
            to,
        } => {
            let path = log_path(log)?;
            let mut filter = match resource {
                Some(g) => Filter::default().with_resource(&g)?,
                None => Filter::default(),
            };
            filter.rule = rule;
            filter.outcome = outcome;
            filter.kind = kind;
            filter.from = from
                .as_deref()
                .map(|s| parse_date(s, false, "--from"))
                .transpose()?;
            filter.to = to
                .as_deref()
                .map(|s| parse_date(s, true, "--to"))
                .transpose()?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for r in read_records(&path)?.iter().filter(|r| filter.matches(r)) {
                writeln!(out, "{}", r.line).map_err(|e| AuditError::io("<stdout>", "write", e))?;
            }
            out.flush()
                .map_err(|e| AuditError::io("<stdout>", "write", e))?;
            Ok(0)
        }
        AuditCommand::Repair { log, signing_key } => {
            let mut cfg = AuditConfig::resolve(log.as_deref())?;
            if signing_key.is_some() {
                cfg.signing_key = signing_key;
            }
            cfg.pg = None;
            let by = std::env::var("USER").unwrap_or_default();
            match AuditLog::from_config(&cfg)?.repair(&by, Utc::now())? {
                Some(r) => {
                    let crate::audit::RecordBody::Repair(rep) = &r.record.body else {
                        return Ok(0);
                    };
                    println!(
                        "moved the torn tail ({} bytes) of {} to {} and recorded repair seq {}",
                        rep.torn_bytes,
                        cfg.path.display(),
                        rep.torn_file,
                        r.seq
                    );
                }
                None => println!(
                    "{}: the last line is complete; nothing to repair (run `dbpolicy audit verify` for the whole chain)",
                    cfg.path.display()
                ),
            }
            Ok(0)
        }
        AuditCommand::PgInit { pg: conn, role } => {
            pg::init(&conn, &role)?;
            println!(
                "created {} (append-only: UPDATE, DELETE and TRUNCATE are refused) and role {role} (INSERT, SELECT)",
                pg::TABLE
            );
            Ok(0)
        }
    }
}
