//! The arguments of `dbpolicy migration check` and `dbpolicy migration dry-run`: the SQL files, which database
//! (and so which tier) they are for, how they are run, and every flag of `dbpolicy check` (formats,
//! exceptions, overrides, audit log, CI flags), which mean the same here.

use clap::Subcommand;

use crate::cli::CheckArgs;

/// `dbpolicy migration ...`.
#[derive(Debug, Subcommand)]
pub enum MigrationCommand {
    /// Check SQL migrations (files, folders of .sql files, `-` for stdin) against the DBP-MIG rules;
    /// exit 0 pass, 1 fail, 2 bad input.
    #[command(mut_arg("plans", |a| a.value_name("PATH").help("Migration .sql files or folders of them (recursive, applied in name order); `-` reads standard input")))]
    Check(MigrationCheckArgs),
    /// Run migrations against a database (a scratch or restored copy, never production) inside a transaction
    /// that is rolled back, measure locks, rewrites and durations, and check them with the DBP-MIG rules.
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
    /// database or a restored copy of the real one, never production.
    #[arg(
        long,
        value_name = "URL",
        env = "DBPOLICY_DATABASE_URL",
        required = true
    )]
    pub database_url: String,
    /// Restore the named database's latest backup to a scratch cluster and run there (not available yet).
    #[arg(long, value_name = "NAME")]
    pub scratch_copy: Option<String>,
}
