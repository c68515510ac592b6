//! The command line as clap reads it: commands, their arguments and the value lists they accept.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::engine::OnUnknown;

/// dbpolicy: check Terraform plans against the dbplatform database guardrails (Rego, embedded bundle).
#[derive(Debug, Parser)]
#[command(name = "dbpolicy", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate plan JSON files (`terraform show -json PLANFILE`); exit 0 pass, 1 fail, 2 bad input.
    Check(CheckArgs),
    /// SQL migrations: `check` them against the DBP-MIG rules, or `dry-run` them on a copy of the database to
    /// measure locks, rewrites and durations.
    #[command(subcommand)]
    Migration(MigrationCommand),
    /// Baseline files for `check --baseline`: the findings accepted for now, so CI fails only on new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// List the rules of the bundle.
    Rules(RulesArgs),
    /// Show a rule's METADATA and source.
    Explain(ExplainArgs),
    /// Run the Rego unit tests of DIR (default: the embedded bundle); exit 1 when a test fails.
    Test(TestArgs),
    /// The tamper-evident decision log: verify, report, query, keygen, repair, pg-init.
    #[command(subcommand)]
    Audit(crate::audit::cli::AuditCommand),
    /// List the Rego built-ins policies can call, in the shape of `opa capabilities` (JSON).
    Capabilities(CapabilitiesArgs),
    /// Print a JSON Schema: input, decision, exceptions or audit-record.
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Print the shell completion script: `dbpolicy completions bash > /etc/bash_completion.d/dbpolicy`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, or with --dir write one page per subcommand there (`make man`).
    Man {
        /// Directory for dbpolicy.1, dbpolicy-check.1, ...
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Options shared by commands that load a bundle.
#[derive(Debug, Clone, clap::Args)]
pub struct BundleArgs {
    /// Extra policy directory (recursive *.rego; *_test.rego is not evaluated). Repeatable.
    #[arg(short = 'p', long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Do not load the embedded default bundle.
    #[arg(long)]
    pub no_default_bundle: bool,
    /// Tier catalogue (`*.toml`, replaces the embedded one), or JSON/YAML data merged into `data` as OPA loads
    /// it (a file at `data`, a directory's files under their folder path). Repeatable.
    #[arg(long = "data", value_name = "FILE|DIR")]
    pub data: Vec<PathBuf>,
    /// Rego version of the --policy modules; default: detected per module (the embedded bundle is v1).
    #[arg(long, value_enum, default_value = "auto")]
    pub rego_version: crate::engine::RegoVersion,
}

/// `dbpolicy check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Plan JSON files; `-` reads standard input.
    #[arg(value_name = "PLAN", required = true)]
    pub plans: Vec<String>,
    #[command(flatten)]
    pub bundle: BundleArgs,
    /// Exceptions file (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Report format (text, json, sarif, junit, github), optionally with its own file: `sarif=dbpolicy.sarif`.
    /// Repeatable, for several reports from one run; at most one without =FILE.
    #[arg(
        short = 'o',
        long,
        value_name = "FORMAT[=FILE]",
        default_value = "text"
    )]
    pub format: Vec<crate::cli::output_spec::OutputSpec>,
    /// Write the report of the --format without =FILE to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// --format github: at most N annotations, the worst first (GitHub shows 10 errors per step); every
    /// finding goes to the job summary ($GITHUB_STEP_SUMMARY) when it is set.
    #[arg(long, value_name = "N", default_value_t = crate::report::github::DEFAULT_MAX_ANNOTATIONS)]
    pub max_annotations: usize,
    /// Override a soft-mandatory rule (needs --reason and --by, and an audit log: --audit-log or
    /// $DBPOLICY_AUDIT_LOG, since an override counts only once recorded). Repeatable, paired in order.
    #[arg(long = "override", value_name = "RULE_ID", requires_all = ["reason", "by"])]
    pub overrides: Vec<String>,
    /// Why the override is acceptable.
    #[arg(long, value_name = "TEXT")]
    pub reason: Vec<String>,
    /// Who takes responsibility for the override.
    #[arg(long, value_name = "NAME")]
    pub by: Vec<String>,
    /// Unknown-until-apply results: warn or fail (default: fail for hard-mandatory rules, warn otherwise).
    #[arg(long, value_enum)]
    pub on_unknown: Option<OnUnknown>,
    /// enforce (default); advisory: report failures as warnings and pass (break-glass); off: evaluate and record
    /// but enforce nothing and apply no override.
    #[arg(long, value_enum, value_name = "MODE", default_value = "enforce")]
    pub enforcement: crate::gate::EnforcementMode,
    /// Evaluation time (RFC 3339), for reproducible runs and tests; default: the current time.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// conftest compatibility: evaluate deny/violation/warn rules of this package on the raw plan. Repeatable.
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespaces: Vec<String>,
    /// conftest compatibility: every package of the --policy dirs with deny/violation/warn rules.
    #[arg(long)]
    pub all_namespaces: bool,
    /// Record the decision in this audit log (also: $DBPOLICY_AUDIT_LOG). A decision that cannot be recorded
    /// fails the check (exit 2): overrides and exceptions count only once they are on record.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Terraform workspace recorded in the audit log.
    #[arg(long, value_name = "NAME", env = "TF_WORKSPACE")]
    pub workspace: Option<String>,
    /// Exit 0 when findings fail the check (errors still exit 2). The decision keeps its `fail` outcome and
    /// records that soft-fail was asked for (and so does the audit record).
    #[arg(long)]
    pub soft_fail: bool,
    /// Skip the findings of this rule for this run: they get the status `skipped`, recorded with the flag.
    /// Refused for hard-mandatory rules (those need an exception). Repeatable.
    #[arg(long = "skip-rule", value_name = "RULE_ID")]
    pub skip_rules: Vec<String>,
    /// Fail only on findings not in this baseline file (`dbpolicy baseline create`): the others get the status
    /// `baselined`; baseline entries no longer found are reported as stale.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// conftest compatibility: give conftest rules all plans at once, as one input array of
    /// `{path, contents}` objects (conftest's --combine).
    #[arg(long)]
    pub combine: bool,
}

/// `dbpolicy baseline ...`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Check PLAN... and write every failing, warning or unknown finding (rule id, address, attribute path) to
    /// FILE (YAML, or JSON for *.json), for `dbpolicy check --baseline FILE`.
    Create(BaselineCreateArgs),
}

/// `dbpolicy baseline create`.
#[derive(Debug, Clone, clap::Args)]
pub struct BaselineCreateArgs {
    /// Plan JSON files; `-` reads standard input.
    #[arg(value_name = "PLAN", required = true)]
    pub plans: Vec<String>,
    /// The baseline file to write (`.json`: JSON, otherwise YAML).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub bundle: BundleArgs,
    /// Exceptions file (YAML or JSON): exempted findings are not baselined.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Unknown-until-apply results: warn or fail (default: fail for hard-mandatory rules, warn otherwise).
    #[arg(long, value_enum)]
    pub on_unknown: Option<OnUnknown>,
    /// Evaluation time (RFC 3339); default: the current time.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// conftest compatibility: evaluate deny/violation/warn rules of this package on the raw plan. Repeatable.
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespaces: Vec<String>,
    /// conftest compatibility: every package of the --policy dirs with deny/violation/warn rules.
    #[arg(long)]
    pub all_namespaces: bool,
}

/// `dbpolicy test`.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// Directory of .rego rules and *_test.rego tests; default: the embedded bundle.
    pub dir: Option<PathBuf>,
    /// Only tests whose full name (data.PKG.test_NAME) matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub run: Option<String>,
    /// Print line coverage of the rule files.
    #[arg(long)]
    pub coverage: bool,
    /// `*.toml`: tier catalogue exposed as data.dbplatform.tiers (default: the embedded one); JSON/YAML file or
    /// directory: data loaded as OPA does (JSON/YAML files under DIR are always loaded). Repeatable.
    #[arg(long, value_name = "FILE|DIR")]
    pub data: Vec<PathBuf>,
    /// Rego version of the modules; default: detected per module.
    #[arg(long, value_enum, default_value = "auto")]
    pub rego_version: crate::engine::RegoVersion,
    /// Name every test with its result (PASS/FAIL/ERROR), like `opa test -v`.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `dbpolicy capabilities`.
#[derive(Debug, Clone, clap::Args)]
pub struct CapabilitiesArgs {
    /// Print only the built-in names, one a line.
    #[arg(long)]
    pub names: bool,
}

/// `dbpolicy rules`.
#[derive(Debug, Clone, clap::Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub bundle: BundleArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RulesFormat,
}

/// `dbpolicy explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// Rule id, e.g. DBP-ENC-001.
    pub rule_id: String,
    #[command(flatten)]
    pub bundle: BundleArgs,
}

/// Output of `dbpolicy rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}

/// Which schema `dbpolicy schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Input,
    Decision,
    Exceptions,
    /// One line of the audit log (`dbplatform.audit-record/v1`), for SIEM ingestion and log consumers.
    AuditRecord,
    /// The tier catalogue (`policy/data/tiers.toml` in its JSON form, `--data` / `tiers_file` files).
    Tiers,
    /// The migration document rules see as `input.migration` (`dbplatform.migration/v1`).
    Migration,
}

// `dbpolicy migration check` and `dbpolicy migration dry-run`: the SQL files, which database (and so which tier)
// they are for, how they are run, and every flag of `dbpolicy check`, which mean the same here.

/// `dbpolicy migration ...`.
#[derive(Debug, Subcommand)]
pub enum MigrationCommand {
    /// Check SQL migrations (files, folders of .sql files, `-` for stdin) against the DBP-MIG rules;
    /// exit 0 pass, 1 fail, 2 bad input.
    #[command(mut_arg("plans", |a| a.value_name("PATH").help("Migration .sql files or folders of them (recursive, applied in name order); `-` reads standard input")))]
    Check(MigrationCheckArgs),
    /// Run migrations against a database (a scratch or restored copy, never production) inside a transaction
    /// that is rolled back, or on a scratch copy of a local database restored from its latest backup
    /// (--scratch-copy, removed afterwards); measure locks, rewrites and durations, and check them with the
    /// DBP-MIG rules.
    #[command(mut_arg("plans", |a| a.value_name("PATH").help("Migration .sql files or folders of them (recursive, applied in name order); `-` reads standard input")))]
    DryRun(DryRunArgs),
}

/// How a migration is run and which database it is for.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrationRunArgs {
    /// The database the migrations are for (beats the file's `-- dbplatform: database=NAME` header).
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// The database's tier (beats the header's `tier=`); decides how findings count (tier-0/1 hard-mandatory,
    /// tier-3 advisory). Without one, the catalogue's default tier is assumed.
    #[arg(long, value_name = "TIER")]
    pub tier: Option<String>,
    /// The migration tool runs each file in one transaction (psql --single-transaction, Flyway, most ORMs).
    #[arg(long)]
    pub single_transaction: bool,
}

/// `dbpolicy migration check`.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrationCheckArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    #[command(flatten)]
    pub run: MigrationRunArgs,
}

/// `dbpolicy migration dry-run`.
#[derive(Debug, Clone, clap::Args)]
pub struct DryRunArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    #[command(flatten)]
    pub run: MigrationRunArgs,
    /// The database to run against (`postgresql://user@host:port/db` or `host=... dbname=...`): a scratch
    /// database or a restored copy of the real one, never production. Everything runs in one transaction that
    /// is rolled back; statements that cannot (CONCURRENTLY, VACUUM) are refused: use --scratch-copy for them.
    /// Default: $DBPOLICY_DATABASE_URL, which --scratch-copy ignores (a CI job may set it for other runs).
    #[arg(long, value_name = "URL", conflicts_with = "scratch_copy")]
    pub database_url: Option<String>,
    /// Restore local database NAME's latest base backup plus its archived WAL to a scratch PostgreSQL cluster
    /// (as the provider's restore tests do), run there, and remove the copy afterwards, also when the run fails.
    /// CONCURRENTLY and other statements that cannot run in a transaction run for real on the copy and are
    /// measured too. The report names the backup the copy was restored from. Local backend only.
    #[arg(long, value_name = "NAME")]
    pub scratch_copy: Option<String>,
    /// The local backend's data directory, where --scratch-copy finds NAME: the provider's `local { data_dir }`.
    /// Default: the provider's default, `$XDG_DATA_HOME/dbplatform`, else `~/.local/share/dbplatform`.
    #[arg(long, value_name = "DIR", requires = "scratch_copy")]
    pub data_dir: Option<std::path::PathBuf>,
}
