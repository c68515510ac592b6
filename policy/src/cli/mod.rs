//! The dbpolicy command line: argument parsing and exit codes only; the work is in `engine`, `adapter`, `report`.
//!
//! Exit codes: 0 pass, 1 policy failure (or a failing Rego test), 2 usage or input error. Every error is one line
//! on stderr naming the file and the problem.

pub mod args;
mod baseline;
mod capabilities;
mod check;
mod docs;
pub mod exit;
mod info;
mod migration;
mod output;
mod output_spec;
mod outputs;
mod test;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use args::{
    BaselineCommand, BaselineCreateArgs, BundleArgs, CapabilitiesArgs, CheckArgs, Cli, Command,
    DryRunArgs, ExplainArgs, MigrationCheckArgs, MigrationCommand, MigrationRunArgs, RulesArgs,
    RulesFormat, SchemaKind, TestArgs,
};
pub use exit::{CliError, EXIT_FAIL, EXIT_USAGE};
pub(crate) use output::emit;
pub use output_spec::OutputSpec;

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
        Command::Migration(cmd) => migration::run(cmd),
        Command::Baseline(BaselineCommand::Create(a)) => baseline::create(&a),
        Command::Rules(a) => info::rules(&a),
        Command::Explain(a) => info::explain(&a),
        Command::Test(a) => test::run(&a),
        Command::Capabilities(a) => capabilities::run(&a),
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
        Command::Audit(cmd) => Ok(u8::try_from(crate::audit::cli::run(cmd)).unwrap_or(EXIT_USAGE)),
        Command::Schema { which } => info::schema(which),
    }
}
