//! `dbpolicy migration check` and `dbpolicy migration dry-run`: SQL migrations into `migration` inputs, through
//! the same gate as plans (exceptions, overrides, enforcement modes, CI flags, audit record), into the same
//! reports, with each finding on its `.sql` file and line.

use serde::Serialize;

use crate::cli::args::{
    CheckArgs, DryRunArgs, MigrationCheckArgs, MigrationCommand, MigrationRunArgs,
};
use crate::cli::check::{
    audit_config, audit_configured, engine_options, overrides, parse_now, provenance, skips,
};
use crate::cli::{CliError, EXIT_FAIL};
use crate::engine::PolicyEngine;
use crate::gate::{self, DecisionSink, GateRequest};
use crate::migration::files::{read_all, SqlFile};
use crate::migration::scratch::{ScratchCopy, ScratchCopyInfo, ScratchSource};
use crate::migration::{
    dry_run, parse_migration, to_input, Migration, MigrationError, ParseOptions,
};
use crate::model::decision::Decision;
use crate::report::{Format, Locations};
use localpg::pg::PgEnv;

/// The database URL of `migration dry-run` when `--database-url` is not given (and `--scratch-copy` is not either).
pub const DATABASE_URL_ENV: &str = "DBPOLICY_DATABASE_URL";

/// Runs a `dbpolicy migration` command.
pub fn run(cmd: MigrationCommand) -> Result<u8, CliError> {
    match cmd {
        MigrationCommand::Check(a) => check(&a),
        MigrationCommand::DryRun(a) => dry_run_command(&a),
    }
}

fn parse_options(r: &MigrationRunArgs) -> ParseOptions {
    ParseOptions {
        database: r.database.clone(),
        tier: r.tier.clone(),
        single_transaction: r.single_transaction,
    }
}

/// conftest flags read a plan's raw JSON: they mean nothing for SQL.
fn refuse_plan_only_flags(a: &CheckArgs) -> Result<(), CliError> {
    if !a.namespaces.is_empty() || a.all_namespaces || a.combine {
        return Err(CliError::usage(
            "--namespace, --all-namespaces and --combine run conftest rules on plan JSON; migrations are checked by \
             DBP-MIG rules (applies_to: [migration]): drop those flags",
        ));
    }
    Ok(())
}

/// Parses every file, on all cores (files are independent); the first error in file order is reported.
fn parse_all(files: &[SqlFile], r: &MigrationRunArgs) -> Result<Vec<Migration>, CliError> {
    let opts = parse_options(r);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().div_ceil(16))
        .max(1);
    let chunk = files.len().div_ceil(threads).max(1);
    let parts: Vec<Vec<Result<Migration, CliError>>> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let opts = &opts;
                s.spawn(move || {
                    part.iter()
                        .map(|f| parse_migration(&f.name, &f.text, opts).map_err(CliError::from))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(CliError::usage("a parser thread panicked"))])
            })
            .collect()
    });
    parts.into_iter().flatten().collect()
}

fn check(a: &MigrationCheckArgs) -> Result<u8, CliError> {
    refuse_plan_only_flags(&a.check)?;
    let files = read_all(&a.check.plans)?;
    let (migrations, engine) = parse_and_load(&files, &a.run, &a.check);
    report(&a.check, migrations?, engine?, None)
}

/// Parses the migrations while another core compiles the bundle: neither needs the other, and compiling is a
/// good share of a short run. A parse error is reported before a bundle error, as if they ran in turn.
fn parse_and_load(
    files: &[SqlFile],
    r: &MigrationRunArgs,
    a: &CheckArgs,
) -> (
    Result<Vec<Migration>, CliError>,
    Result<PolicyEngine, CliError>,
) {
    std::thread::scope(|s| {
        let loading = s.spawn(|| load_engine(a));
        let migrations = parse_all(files, r);
        let engine = loading
            .join()
            .unwrap_or_else(|_| Err(CliError::usage("the bundle compiler thread panicked")));
        (migrations, engine)
    })
}

/// The bundle with the exceptions file, as `dbpolicy check` loads it.
fn load_engine(a: &CheckArgs) -> Result<PolicyEngine, CliError> {
    let mut opts = engine_options(&a.bundle)?;
    opts.exceptions_file = a.exceptions.clone();
    Ok(PolicyEngine::load(&opts)?)
}

fn dry_run_command(a: &DryRunArgs) -> Result<u8, CliError> {
    refuse_plan_only_flags(&a.check)?;
    let files = read_all(&a.check.plans)?;
    let (migrations, engine) = parse_and_load(&files, &a.run, &a.check);
    let (mut migrations, engine) = (migrations?, engine?);
    for m in &migrations {
        dry_run::check_runnable(m, a.scratch_copy.is_some())?;
    }
    let Some(name) = &a.scratch_copy else {
        // Read here, not by clap: clap would count the variable as a conflict with --scratch-copy.
        let url = a
            .database_url
            .clone()
            .or_else(|| std::env::var(DATABASE_URL_ENV).ok().filter(|u| !u.is_empty()))
            .ok_or_else(|| {
                CliError::usage(format!(
                    "dry-run needs a database: --database-url URL (or {DATABASE_URL_ENV}) for a restored copy, or \
                     --scratch-copy NAME for a copy of local database NAME made from its latest backup"
                ))
            })?;
        let mut client = dry_run::connect(&url)?;
        for (m, f) in migrations.iter_mut().zip(&files) {
            dry_run::run(&mut client, m, &f.text, dry_run::Target::RolledBack)?;
        }
        return report(&a.check, migrations, engine, Some(None));
    };
    let copy = ScratchCopy::restore(&scratch_source(a, name)?)?;
    let info = copy.info().clone();
    eprintln!(
        "dbpolicy: running on a scratch copy of {} restored from base backup {} (finished {}) at {}; it is removed afterwards",
        info.database,
        info.base_backup,
        info.backup_finished_at.to_rfc3339(),
        info.restored_at.to_rfc3339()
    );
    let ran = run_on_copy(&copy, &mut migrations, &files);
    // Removed whether the run succeeded or not; a failed run's error wins over a failed removal's.
    let removed = copy.remove();
    if let (Err(_), Err(e)) = (&ran, &removed) {
        eprintln!("dbpolicy: {e}");
    }
    ran?;
    removed?;
    report(&a.check, migrations, engine, Some(Some(info)))
}

/// Which database `--scratch-copy NAME` copies, where it lives (`--data-dir`, else the provider's default) and
/// where PostgreSQL is, from the variables the provider reads too.
fn scratch_source(a: &DryRunArgs, name: &str) -> Result<ScratchSource, CliError> {
    Ok(ScratchSource {
        name: name.to_string(),
        data_dir: match &a.data_dir {
            Some(d) => d.clone(),
            None => default_data_dir()?,
        },
        pg: PgEnv::from_process(),
    })
}

/// Runs every migration on the scratch copy, in order, each in its own transaction.
fn run_on_copy(
    copy: &ScratchCopy,
    migrations: &mut [Migration],
    files: &[SqlFile],
) -> Result<(), CliError> {
    let mut client = copy.config().connect(postgres::NoTls).map_err(|e| {
        CliError::from(MigrationError::Database(format!(
            "cannot connect to the scratch copy: {e}"
        )))
    })?;
    for (m, f) in migrations.iter_mut().zip(files) {
        dry_run::run(
            &mut client,
            m,
            &f.text,
            dry_run::Target::ScratchCopy(copy.config()),
        )?;
    }
    Ok(())
}

/// The provider's default `local.data_dir`, from the same variables it reads.
fn default_data_dir() -> Result<std::path::PathBuf, CliError> {
    let xdg = std::env::var("XDG_DATA_HOME").ok();
    let home = std::env::var("HOME").ok();
    localpg::data_dir::default_data_dir(xdg.as_deref(), home.as_deref()).ok_or_else(|| {
        CliError::usage(
            "--data-dir: neither XDG_DATA_HOME nor HOME is set, so the local backend's default data directory is \
             unknown; pass --data-dir with the provider's local { data_dir }",
        )
    })
}

/// One statement of a dry run, as the JSON report lists it.
#[derive(Serialize)]
struct DryRunStatement<'a> {
    file: &'a str,
    line: usize,
    kind: &'a str,
    relation: Option<&'a str>,
    duration_ms: f64,
    lock_mode: Option<&'a str>,
    lock_relation: Option<&'a str>,
    lock_held_ms: Option<f64>,
    rewrite: bool,
    rows_affected: u64,
    relation_rows: Option<i64>,
}

/// `dbpolicy migration dry-run --format json`: the measurements and the decision on them.
#[derive(Serialize)]
struct DryRunReport<'a> {
    schema: &'static str,
    /// The scratch copy the run was on (`--scratch-copy`); absent for `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    scratch_copy: Option<&'a ScratchCopyInfo>,
    statements: Vec<DryRunStatement<'a>>,
    decision: &'a Decision,
}

/// Evaluates the migrations through the gate and writes the reports; `dry_run` (with the scratch copy it ran
/// on, if any): the JSON report is the measurements with the decision.
fn report(
    a: &CheckArgs,
    migrations: Vec<Migration>,
    engine: PolicyEngine,
    dry_run: Option<Option<ScratchCopyInfo>>,
) -> Result<u8, CliError> {
    let record = audit_configured(a);
    let now = parse_now(&a.now)?;
    let baseline = a
        .baseline
        .as_deref()
        .map(crate::model::baseline::Baseline::from_file)
        .transpose()?;
    // The dry-run report lists the measurements; the inputs own the documents, so keep a copy only then.
    let files: Vec<String> = migrations.iter().map(|m| m.file.clone()).collect();
    let kept = if dry_run.is_some() {
        migrations.clone()
    } else {
        vec![]
    };
    let inputs = migrations.into_iter().map(to_input).collect();
    let mut request = GateRequest::new(inputs, now, provenance(a, None));
    request.overrides = overrides(a)?;
    request.mode = a.enforcement;
    request.on_unknown = a.on_unknown;
    request.soft_fail = a.soft_fail;
    request.skip_rules = skips(a);
    request.baseline = baseline;
    let audit = if record { audit_config(a)? } else { None };
    let decision = gate::decide(
        &engine,
        request,
        audit.as_ref().map(|c| c as &dyn DecisionSink),
    )?;
    let mut locations = Locations::empty();
    for f in &files {
        locations.add_file(f);
    }
    for r in &decision.results {
        if let Some(n) = r.path.strip_prefix("line:").and_then(|n| n.parse().ok()) {
            locations.add_line(&r.address, &r.path, &r.address, n);
        }
    }
    let code = if decision.blocks() { EXIT_FAIL } else { 0 };
    let (json, others): (Vec<_>, Vec<_>) = a
        .format
        .iter()
        .cloned()
        .partition(|s| s.format == Format::Json && dry_run.is_some());
    if !others.is_empty() {
        let outputs =
            super::outputs::Outputs::new(&others, a.output.as_deref(), a.max_annotations, &[])?;
        outputs.write(
            &decision,
            engine.rules(),
            &mut locations,
            a.on_unknown,
            code,
        )?;
    }
    for spec in json {
        let statements = kept
            .iter()
            .flat_map(|m| {
                m.statements.iter().filter_map(move |s| {
                    let x = s.measured.as_ref()?;
                    Some(DryRunStatement {
                        file: &m.file,
                        line: s.line,
                        kind: &s.kind,
                        relation: s.relation.as_deref(),
                        duration_ms: x.duration_ms,
                        lock_mode: x.lock_mode.as_deref(),
                        lock_relation: x.relation.as_deref(),
                        lock_held_ms: x.lock_held_ms,
                        rewrite: x.rewrite,
                        rows_affected: x.rows_affected,
                        relation_rows: x.relation_rows,
                    })
                })
            })
            .collect();
        let doc = DryRunReport {
            schema: "dbplatform.dry-run/v1",
            scratch_copy: dry_run.as_ref().and_then(Option::as_ref),
            statements,
            decision: &decision,
        };
        let text =
            serde_json::to_string_pretty(&doc).map_err(|e| CliError::usage(e.to_string()))? + "\n";
        let dest = spec.file.as_deref().or(a.output.as_deref());
        crate::cli::emit(dest, &text)?;
    }
    Ok(code)
}
