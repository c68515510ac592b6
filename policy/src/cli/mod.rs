//! The dbpolicy command line: argument parsing and exit codes only; the work is in `engine`, `adapter`, `report`.
//!
//! Exit codes: 0 pass, 1 policy failure (or a failing Rego test), 2 usage or input error. Every error is one line
//! on stderr naming the file and the problem.

mod check;
mod docs;
mod info;
mod output_spec;
mod outputs;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::engine::OnUnknown;
pub use output_spec::OutputSpec;

/// Exit code for a policy failure.
pub const EXIT_FAIL: u8 = 1;
/// Exit code for a usage or input error.
pub const EXIT_USAGE: u8 = 2;

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
    /// List the rules of the bundle.
    Rules(RulesArgs),
    /// Show a rule's METADATA and source.
    Explain(ExplainArgs),
    /// Run the Rego unit tests of DIR (default: the embedded bundle); exit 1 when a test fails.
    Test(TestArgs),
    /// The tamper-evident decision log: verify, report, query, keygen, repair, pg-init.
    #[command(subcommand)]
    Audit(crate::audit::cli::AuditCommand),
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
    /// Tier catalogue (`*.toml`, replaces the embedded one) or JSON/YAML data merged into `data`. Repeatable.
    #[arg(long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,
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
    pub format: Vec<OutputSpec>,
    /// Write the report of the --format without =FILE to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// --format github: at most N annotations, the worst first (GitHub shows 10 errors per step); every
    /// finding goes to the job summary ($GITHUB_STEP_SUMMARY) when it is set.
    #[arg(long, value_name = "N", default_value_t = crate::report::github::DEFAULT_MAX_ANNOTATIONS)]
    pub max_annotations: usize,
    /// Override a soft-mandatory rule (needs --reason and --by). Repeatable, paired in order.
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
    /// Tier catalogue (*.toml or *.json) exposed as data.dbplatform.tiers; default: the embedded one.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// List passing tests too.
    #[arg(short, long)]
    pub verbose: bool,
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
}

/// A command failure: the one-line message and the exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    /// A usage/input error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::usage(e.to_string())
    }
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line: the first line of the message, flattened.
            eprintln!("dbpolicy: {}", e.message.replace('\n', " "));
            ExitCode::from(e.code)
        }
    }
}

/// Runs a parsed command; `Ok(code)` is 0 or 1.
pub fn run(cli: Cli) -> Result<u8, CliError> {
    match cli.command {
        Command::Check(a) => check::run(&a),
        Command::Rules(a) => info::rules(&a),
        Command::Explain(a) => info::explain(&a),
        Command::Test(a) => test::run(&a),
        Command::Audit(cmd) => Ok(u8::try_from(crate::audit::cli::run(cmd)).unwrap_or(EXIT_USAGE)),
        Command::Schema { which } => info::schema(which),
        Command::Completions { shell } => {
            let script = docs::completions(Cli::command(), shell);
            emit(None, &String::from_utf8_lossy(&script))?;
            Ok(0)
        }
        Command::Man { dir: None } => {
            emit(
                None,
                &String::from_utf8_lossy(&docs::man_page(Cli::command())),
            )?;
            Ok(0)
        }
        Command::Man { dir: Some(d) } => {
            let files = docs::man_pages(Cli::command(), &d)?;
            eprintln!("wrote {} man pages into {}", files.len(), d.display());
            Ok(0)
        }
    }
}

/// Writes `text` to `--output FILE` or standard output.
pub(crate) fn emit(output: Option<&std::path::Path>, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    match output {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| CliError::usage(format!("{}: cannot write output: {e}", p.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(())
        }
    }
}
