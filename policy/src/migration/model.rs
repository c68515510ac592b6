//! The migration document (`input.migration`): what one `.sql` migration does, statement by statement, as the
//! `DBP-MIG-*` rules see it. Built by [`super::parse`] from PostgreSQL's own grammar, and completed by a dry run
//! ([`super::dry_run`]) with what the statements did to a real database.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The value of [`Migration::schema`].
pub const MIGRATION_SCHEMA: &str = "dbplatform.migration/v1";

/// One migration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// Always [`MIGRATION_SCHEMA`].
    pub schema: String,
    /// The file as named on the command line (`<stdin>` for `-`).
    pub file: String,
    /// The database it is for: `--database`, else the `-- dbplatform: database=NAME` header.
    pub database: Option<String>,
    /// The database's tier: `--tier`, else the header's `tier=`.
    pub tier: Option<String>,
    /// True when a tool runs the whole file in one transaction (`--single-transaction`, or the header's
    /// `single-transaction=true`): then every statement is in a transaction even without `BEGIN`.
    pub single_transaction: bool,
    pub statements: Vec<Statement>,
    /// True once a dry run filled the statements' `measured`.
    pub dry_run: bool,
}

/// One SQL statement of the migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// 0-based position in the file.
    pub index: usize,
    /// 1-based line of the statement's first token.
    pub line: usize,
    /// What it does: `create_index`, `drop_index`, `alter_table`, `create_table`, `rename`, `drop_table`,
    /// `drop_column` (inside `alter_table`), `drop_database`, `drop`, `vacuum`, `cluster`, `reindex`, `set`,
    /// `reset`, `begin`, `commit`, `rollback`, `truncate`, `lock`, `create_trigger`, `other`.
    pub kind: String,
    /// The parse node's name in PostgreSQL's grammar (`IndexStmt`, `AlterTableStmt`, ...).
    pub node: String,
    /// The relation it works on (`schema.table`, or the table an index is on); null when none.
    pub relation: Option<String>,
    /// For `rename` of a table: the new name; for `create_index`: the index name.
    pub object_name: Option<String>,
    /// True when `relation` was created earlier in this same migration: it is new and empty, so locking or
    /// rewriting it hurts nobody.
    pub relation_is_new: bool,
    /// Columns the statement names (added, dropped, altered, indexed, renamed).
    pub columns: Vec<String>,
    /// What `ALTER TABLE` does, one entry per sub-command; `CREATE TABLE` lists its columns and constraints here
    /// too (`add_column`, `add_constraint`), so the same rules read both.
    pub actions: Vec<AlterAction>,
    pub options: StatementOptions,
    pub transaction: TransactionInfo,
    /// Session settings in force when the statement runs.
    pub settings: SessionSettings,
    /// The table-level lock PostgreSQL takes for this statement (`AccessExclusiveLock`, `ShareLock`,
    /// `ShareUpdateExclusiveLock`, `ShareRowExclusiveLock`, ...), from the documented lock levels; null when
    /// it takes none that blocks other sessions' reads or writes of an existing table.
    pub expected_lock: Option<String>,
    /// What a dry run measured; null without one.
    pub measured: Option<Measurement>,
}

/// Options written on the statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementOptions {
    pub concurrently: bool,
    /// Some `ADD CONSTRAINT` of the statement has `NOT VALID`.
    pub not_valid: bool,
    pub if_exists: bool,
    pub if_not_exists: bool,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// `VACUUM FULL`.
    pub full: bool,
    /// `DROP ... CASCADE`.
    pub cascade: bool,
}

/// The transaction a statement runs in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionInfo {
    /// Inside a transaction block: an explicit `BEGIN`, or the whole file under `single_transaction`.
    pub in_transaction: bool,
    /// Inside an explicit `BEGIN` ... `COMMIT` of the file.
    pub explicit: bool,
    /// Line of the `BEGIN` when explicit.
    pub begin_line: Option<usize>,
}

/// `SET` values in force (null when not set, or set to 0, which disables the timeout).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
}

/// One sub-command of `ALTER TABLE` (or a column/constraint of `CREATE TABLE`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlterAction {
    /// `add_column`, `drop_column`, `alter_column_type`, `set_not_null`, `drop_not_null`, `set_default`,
    /// `add_constraint`, `validate_constraint`, `drop_constraint`, `other`.
    #[serde(rename = "type")]
    pub action: String,
    pub column: Option<String>,
    /// The column's type as written (`int4`, `serial`, `numeric(12,2)`), for `add_column` and
    /// `alter_column_type`.
    pub column_type: Option<String>,
    /// `NOT NULL` on an added column.
    pub not_null: bool,
    /// The added column has a `DEFAULT`.
    pub has_default: bool,
    /// The default calls a volatile function (`random()`, `clock_timestamp()`, `gen_random_uuid()`, ...), which
    /// makes PostgreSQL rewrite the table to fill it.
    pub default_volatile: bool,
    /// Functions the default calls.
    pub default_functions: Vec<String>,
    /// The column is (part of) the primary key.
    pub primary_key: bool,
    /// `GENERATED ... AS IDENTITY`.
    pub identity: bool,
    /// For `add_constraint`: `foreign_key`, `check`, `unique`, `primary_key`, `exclusion`, `not_null`.
    pub constraint: Option<String>,
    pub constraint_name: Option<String>,
    /// `NOT VALID` on the added constraint.
    pub not_valid: bool,
    /// `UNIQUE`/`PRIMARY KEY USING INDEX name`: built from an existing index.
    pub using_index: Option<String>,
    /// For a foreign key: the referenced table.
    pub references: Option<String>,
}

/// What a dry run measured for one statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    pub line: usize,
    /// Wall time of the statement itself.
    pub duration_ms: f64,
    /// The strongest lock the statement took on a relation, as PostgreSQL names it (`AccessExclusiveLock`).
    pub lock_mode: Option<String>,
    /// The relation that lock is on.
    pub relation: Option<String>,
    /// How long that lock was held: from the statement's start until its transaction released it (the
    /// statement's end outside a transaction block).
    pub lock_held_ms: Option<f64>,
    /// The relation's file node changed: PostgreSQL rewrote the table (or index).
    pub rewrite: bool,
    /// Rows the statement reported (`INSERT`/`UPDATE`/`DELETE` counts; 0 for DDL).
    pub rows_affected: u64,
    /// Rows in `relation` before the statement (estimate from `pg_class.reltuples`, counted when unknown).
    pub relation_rows: Option<i64>,
}
