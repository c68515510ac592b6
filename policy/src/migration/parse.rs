//! A migration file through PostgreSQL's own grammar (libpg_query, via the `pg_query` crate) into a
//! [`Migration`]: each statement's kind, relation, columns, options, the transaction it runs in and the session
//! settings in force, with its line.

use std::collections::BTreeSet;

use pg_query::protobuf::{
    AlterTableType, ConstrType, ObjectType, TransactionStmtKind, VariableSetKind,
};
use pg_query::{Node, NodeEnum};

use super::header::Header;
use super::locks;
use super::model::{
    AlterAction, Migration, SessionSettings, Statement, StatementOptions, TransactionInfo,
    MIGRATION_SCHEMA,
};
use super::nodes::{
    const_text, def_name, functions_called, node_name, node_range_var, qualified_name, range_var,
    string_value, type_name, NON_VOLATILE,
};
use super::MigrationError;

/// How the migration is run, from the command line (each beats the file's header).
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    pub database: Option<String>,
    pub tier: Option<String>,
    /// The tool runs the whole file in one transaction (`--single-transaction`).
    pub single_transaction: bool,
}

/// Parses `sql` (the text of `file`) into a migration document; a syntax error names the file and line.
pub fn parse_migration(
    file: &str,
    sql: &str,
    opts: &ParseOptions,
) -> Result<Migration, MigrationError> {
    let header = Header::read(sql);
    let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT)
        .map_err(|e| syntax_error(file, sql, e))?;
    let lines = LineIndex::new(sql);
    let single_transaction = opts.single_transaction || header.single_transaction;
    let mut state = State {
        single_transaction,
        ..State::default()
    };
    let mut statements = Vec::with_capacity(parsed.protobuf.stmts.len());
    for (index, raw) in parsed.protobuf.stmts.iter().enumerate() {
        let start = first_token(sql, usize::try_from(raw.stmt_location).unwrap_or(0));
        let line = lines.line_of(start);
        let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
            continue;
        };
        statements.push(state.statement(index, line, node));
    }
    Ok(Migration {
        schema: MIGRATION_SCHEMA.into(),
        file: file.to_string(),
        database: opts.database.clone().or(header.database),
        tier: opts.tier.clone().or(header.tier),
        single_transaction,
        statements,
        dry_run: false,
    })
}

/// A syntax error with the line of the statement that does not parse (libpg_query's message has no position,
/// so the file is split by PostgreSQL's scanner and the statements parsed one by one to find it).
fn syntax_error(file: &str, sql: &str, e: pg_query::Error) -> MigrationError {
    let lines = LineIndex::new(sql);
    let mut line = 1;
    if let Ok(parts) = pg_query::split_with_scanner(sql) {
        let mut offset = 0;
        for part in parts {
            let at = sql[offset..]
                .find(part)
                .map(|i| i + offset)
                .unwrap_or(offset);
            offset = at + part.len();
            if pg_query::parse(part, pg_query::ParserOptions::DEFAULT).is_err() {
                line = lines.line_of(first_token(sql, at));
                break;
            }
        }
    }
    MigrationError::Syntax {
        file: file.to_string(),
        line,
        message: e.to_string(),
    }
}

/// Byte offset -> 1-based line.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex(starts)
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset).max(1)
    }
}

/// The offset of the first token at or after `at`: libpg_query places a statement right after the previous
/// `;`, before the blank lines and comments that precede it.
pub(crate) fn first_token(sql: &str, at: usize) -> usize {
    let b = sql.as_bytes();
    let mut i = at.min(b.len());
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"--") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            return i;
        }
    }
}

/// What earlier statements left in force.
#[derive(Default)]
struct State {
    single_transaction: bool,
    /// Line of the open explicit `BEGIN`.
    begin_line: Option<usize>,
    session: SessionSettings,
    /// `SET LOCAL` values, dropped at the end of the transaction.
    local: SessionSettings,
    /// Relations created by this migration.
    new_relations: BTreeSet<String>,
}

impl State {
    fn statement(&mut self, index: usize, line: usize, node: &NodeEnum) -> Statement {
        let mut s = Statement {
            index,
            line,
            kind: "other".into(),
            node: node_name(node),
            relation: None,
            object_name: None,
            relation_is_new: false,
            columns: vec![],
            actions: vec![],
            options: StatementOptions::default(),
            transaction: TransactionInfo {
                in_transaction: self.begin_line.is_some() || self.single_transaction,
                explicit: self.begin_line.is_some(),
                begin_line: self.begin_line,
            },
            settings: SessionSettings {
                lock_timeout: self
                    .local
                    .lock_timeout
                    .clone()
                    .or(self.session.lock_timeout.clone()),
                statement_timeout: self
                    .local
                    .statement_timeout
                    .clone()
                    .or(self.session.statement_timeout.clone()),
            },
            expected_lock: None,
            measured: None,
        };
        describe(&mut s, node);
        match node {
            NodeEnum::TransactionStmt(t) => self.transaction(&mut s, t, line),
            NodeEnum::VariableSetStmt(v) => self.set(v),
            _ => {}
        }
        if let Some(r) = &s.relation {
            s.relation_is_new = self.new_relations.contains(r);
            if s.kind == "create_table" {
                self.new_relations.insert(r.clone());
            }
        }
        if s.relation_is_new {
            s.expected_lock = None;
        }
        s
    }

    fn transaction(
        &mut self,
        s: &mut Statement,
        t: &pg_query::protobuf::TransactionStmt,
        line: usize,
    ) {
        match TransactionStmtKind::try_from(t.kind).unwrap_or(TransactionStmtKind::Undefined) {
            TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart => {
                s.kind = "begin".into();
                self.begin_line = Some(line);
            }
            TransactionStmtKind::TransStmtCommit | TransactionStmtKind::TransStmtPrepare => {
                s.kind = "commit".into();
                self.end_transaction();
            }
            TransactionStmtKind::TransStmtRollback => {
                s.kind = "rollback".into();
                self.end_transaction();
            }
            _ => s.kind = "savepoint".into(),
        }
    }

    fn end_transaction(&mut self) {
        self.begin_line = None;
        self.local = SessionSettings::default();
    }

    fn set(&mut self, v: &pg_query::protobuf::VariableSetStmt) {
        let kind = VariableSetKind::try_from(v.kind).unwrap_or(VariableSetKind::Undefined);
        let scope = if v.is_local {
            &mut self.local
        } else {
            &mut self.session
        };
        if kind == VariableSetKind::VarResetAll {
            *scope = SessionSettings::default();
            return;
        }
        let value = match kind {
            VariableSetKind::VarSetValue => {
                v.args.first().and_then(const_text).filter(|t| !is_zero(t))
            }
            _ => None,
        };
        match v.name.as_str() {
            "lock_timeout" => scope.lock_timeout = value,
            "statement_timeout" => scope.statement_timeout = value,
            _ => {}
        }
    }
}

/// `0`, `'0'`, `0ms`, `0s`: the timeout is disabled.
fn is_zero(t: &str) -> bool {
    let digits: String = t
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    !digits.is_empty() && digits.chars().all(|c| c == '0' || c == '.')
}

/// Fills kind, relation, columns, options, actions and the expected lock from the parse node.
fn describe(s: &mut Statement, node: &NodeEnum) {
    match node {
        NodeEnum::IndexStmt(i) => {
            s.kind = "create_index".into();
            s.relation = i.relation.as_ref().map(range_var);
            s.object_name = (!i.idxname.is_empty()).then(|| i.idxname.clone());
            s.options.concurrently = i.concurrent;
            s.options.if_not_exists = i.if_not_exists;
            s.options.unique = i.unique;
            s.columns = i
                .index_params
                .iter()
                .filter_map(|p| match &p.node {
                    Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => Some(e.name.clone()),
                    _ => None,
                })
                .collect();
            s.expected_lock = Some(
                if i.concurrent {
                    locks::SHARE_UPDATE_EXCLUSIVE
                } else {
                    locks::SHARE
                }
                .into(),
            );
        }
        NodeEnum::DropStmt(d) => {
            let ty = ObjectType::try_from(d.remove_type).unwrap_or(ObjectType::Undefined);
            s.kind = match ty {
                ObjectType::ObjectIndex => "drop_index",
                ObjectType::ObjectTable => "drop_table",
                _ => "drop",
            }
            .into();
            s.relation = d
                .objects
                .first()
                .map(qualified_name)
                .filter(|n| !n.is_empty());
            s.options.concurrently = d.concurrent;
            s.options.if_exists = d.missing_ok;
            s.options.cascade = d.behavior == 2;
            if matches!(ty, ObjectType::ObjectIndex | ObjectType::ObjectTable) && !d.concurrent {
                s.expected_lock = Some(locks::ACCESS_EXCLUSIVE.into());
            }
        }
        NodeEnum::DropdbStmt(d) => {
            s.kind = "drop_database".into();
            s.relation = Some(d.dbname.clone());
            s.options.if_exists = d.missing_ok;
        }
        NodeEnum::AlterTableStmt(a) => {
            s.kind = "alter_table".into();
            s.relation = a.relation.as_ref().map(range_var);
            s.options.if_exists = a.missing_ok;
            for cmd in &a.cmds {
                if let Some(NodeEnum::AlterTableCmd(c)) = &cmd.node {
                    let action = alter_action(c, &mut s.options);
                    if let Some(col) = &action.column {
                        if !s.columns.contains(col) {
                            s.columns.push(col.clone());
                        }
                    }
                    s.options.not_valid |= action.not_valid;
                    let lock = locks::for_action(&action);
                    s.expected_lock = locks::stronger(s.expected_lock.take(), lock);
                    s.actions.push(action);
                }
            }
        }
        NodeEnum::RenameStmt(r) => {
            s.kind = "rename".into();
            s.relation = r.relation.as_ref().map(range_var);
            s.object_name = Some(r.newname.clone());
            s.options.if_exists = r.missing_ok;
            let ty = ObjectType::try_from(r.rename_type).unwrap_or(ObjectType::Undefined);
            let action = match ty {
                ObjectType::ObjectColumn => {
                    s.columns.push(r.subname.clone());
                    AlterAction {
                        action: "rename_column".into(),
                        column: Some(r.subname.clone()),
                        ..Default::default()
                    }
                }
                ObjectType::ObjectTable => AlterAction {
                    action: "rename_table".into(),
                    ..Default::default()
                },
                ObjectType::ObjectTabconstraint => AlterAction {
                    action: "rename_constraint".into(),
                    ..Default::default()
                },
                _ => AlterAction {
                    action: "rename_other".into(),
                    ..Default::default()
                },
            };
            s.actions.push(action);
            s.expected_lock = Some(locks::ACCESS_EXCLUSIVE.into());
        }
        NodeEnum::VacuumStmt(v) => {
            s.kind = if v.is_vacuumcmd { "vacuum" } else { "analyze" }.into();
            s.options.full = v.options.iter().any(|o| def_name(o) == Some("full"));
            s.relation = v.rels.iter().find_map(|r| match &r.node {
                Some(NodeEnum::VacuumRelation(vr)) => vr.relation.as_ref().map(range_var),
                _ => None,
            });
            if s.options.full {
                s.expected_lock = Some(locks::ACCESS_EXCLUSIVE.into());
            }
        }
        NodeEnum::ClusterStmt(c) => {
            s.kind = "cluster".into();
            s.relation = c.relation.as_ref().map(range_var);
            s.expected_lock = Some(locks::ACCESS_EXCLUSIVE.into());
        }
        NodeEnum::ReindexStmt(r) => {
            s.kind = "reindex".into();
            s.relation = r.relation.as_ref().map(range_var);
            s.options.concurrently = r.params.iter().any(|o| def_name(o) == Some("concurrently"));
            if !s.options.concurrently {
                s.expected_lock = Some(locks::SHARE.into());
            }
        }
        NodeEnum::CreateStmt(c) => {
            s.kind = "create_table".into();
            s.relation = c.relation.as_ref().map(range_var);
            s.options.if_not_exists = c.if_not_exists;
            create_table_actions(s, &c.table_elts);
        }
        NodeEnum::CreateTableAsStmt(c) => {
            s.kind = "create_table".into();
            s.relation = c.into.as_ref().and_then(|i| i.rel.as_ref()).map(range_var);
            s.options.if_not_exists = c.if_not_exists;
        }
        NodeEnum::TruncateStmt(t) => {
            s.kind = "truncate".into();
            s.relation = t.relations.first().and_then(node_range_var);
            s.expected_lock = Some(locks::ACCESS_EXCLUSIVE.into());
        }
        NodeEnum::LockStmt(l) => {
            s.kind = "lock".into();
            s.relation = l.relations.first().and_then(node_range_var);
            s.expected_lock = locks::lock_stmt_mode(l.mode).map(str::to_string);
        }
        NodeEnum::CreateTrigStmt(t) => {
            s.kind = "create_trigger".into();
            s.relation = t.relation.as_ref().map(range_var);
            s.expected_lock = Some(locks::SHARE_ROW_EXCLUSIVE.into());
        }
        NodeEnum::VariableSetStmt(v) => {
            let kind = VariableSetKind::try_from(v.kind).unwrap_or(VariableSetKind::Undefined);
            s.kind = if matches!(
                kind,
                VariableSetKind::VarReset | VariableSetKind::VarResetAll
            ) {
                "reset"
            } else {
                "set"
            }
            .into();
            s.object_name = Some(v.name.clone());
        }
        NodeEnum::InsertStmt(_) | NodeEnum::UpdateStmt(_) | NodeEnum::DeleteStmt(_) => {
            s.kind = "dml".into()
        }
        NodeEnum::SelectStmt(_) => s.kind = "select".into(),
        _ => {}
    }
}

/// One `ALTER TABLE` sub-command.
fn alter_action(c: &pg_query::protobuf::AlterTableCmd, opts: &mut StatementOptions) -> AlterAction {
    let subtype = AlterTableType::try_from(c.subtype).unwrap_or(AlterTableType::Undefined);
    let column = (!c.name.is_empty()).then(|| c.name.clone());
    let def = c.def.as_ref().and_then(|d| d.node.as_ref());
    let mut a = AlterAction {
        column,
        ..Default::default()
    };
    match subtype {
        AlterTableType::AtAddColumn => {
            a.action = "add_column".into();
            opts.if_not_exists |= c.missing_ok;
            if let Some(NodeEnum::ColumnDef(cd)) = def {
                column_def(&mut a, cd);
            }
        }
        AlterTableType::AtDropColumn => {
            a.action = "drop_column".into();
            opts.if_exists |= c.missing_ok;
            opts.cascade |= c.behavior == 2;
        }
        AlterTableType::AtAlterColumnType => {
            a.action = "alter_column_type".into();
            if let Some(NodeEnum::ColumnDef(cd)) = def {
                a.column_type = cd.type_name.as_ref().map(type_name);
            }
        }
        AlterTableType::AtSetNotNull => a.action = "set_not_null".into(),
        AlterTableType::AtDropNotNull => a.action = "drop_not_null".into(),
        AlterTableType::AtColumnDefault => {
            a.action = if def.is_some() {
                "set_default"
            } else {
                "drop_default"
            }
            .into();
        }
        AlterTableType::AtAddConstraint => {
            a.action = "add_constraint".into();
            a.column = None;
            if let Some(NodeEnum::Constraint(k)) = def {
                constraint(&mut a, k);
            }
        }
        AlterTableType::AtValidateConstraint => {
            a.action = "validate_constraint".into();
            a.constraint_name = a.column.take();
        }
        AlterTableType::AtDropConstraint => {
            a.action = "drop_constraint".into();
            a.constraint_name = a.column.take();
            opts.if_exists |= c.missing_ok;
        }
        other => {
            a.action = other
                .as_str_name()
                .trim_start_matches("AT_")
                .to_ascii_lowercase();
        }
    }
    a
}

/// The columns and constraints of `CREATE TABLE` as `add_column`/`add_constraint` actions.
fn create_table_actions(s: &mut Statement, elts: &[Node]) {
    let mut pk_columns: Vec<String> = vec![];
    for e in elts {
        match &e.node {
            Some(NodeEnum::ColumnDef(cd)) => {
                let mut a = AlterAction {
                    action: "add_column".into(),
                    column: Some(cd.colname.clone()),
                    ..Default::default()
                };
                column_def(&mut a, cd);
                s.columns.push(cd.colname.clone());
                s.actions.push(a);
            }
            Some(NodeEnum::Constraint(k)) => {
                let mut a = AlterAction {
                    action: "add_constraint".into(),
                    ..Default::default()
                };
                constraint(&mut a, k);
                if a.constraint.as_deref() == Some("primary_key") {
                    pk_columns.extend(k.keys.iter().filter_map(string_value));
                }
                s.actions.push(a);
            }
            _ => {}
        }
    }
    for a in &mut s.actions {
        if a.action == "add_column" && a.column.as_ref().is_some_and(|c| pk_columns.contains(c)) {
            a.primary_key = true;
        }
    }
}

/// Type, NOT NULL, default, primary key and identity of a column definition.
fn column_def(a: &mut AlterAction, cd: &pg_query::protobuf::ColumnDef) {
    a.column = Some(cd.colname.clone());
    a.column_type = cd.type_name.as_ref().map(type_name);
    a.not_null = cd.is_not_null;
    a.identity = !cd.identity.is_empty();
    if let Some(d) = &cd.raw_default {
        set_default(a, d);
    }
    for k in &cd.constraints {
        let Some(NodeEnum::Constraint(k)) = &k.node else {
            continue;
        };
        match ConstrType::try_from(k.contype).unwrap_or(ConstrType::Undefined) {
            ConstrType::ConstrNotnull => a.not_null = true,
            ConstrType::ConstrPrimary => {
                a.primary_key = true;
                a.not_null = true;
            }
            ConstrType::ConstrIdentity => a.identity = true,
            ConstrType::ConstrDefault => {
                if let Some(d) = &k.raw_expr {
                    set_default(a, d);
                }
            }
            ConstrType::ConstrGenerated => a.has_default = true,
            ConstrType::ConstrForeign => {
                a.constraint = Some("foreign_key".into());
                a.references = k.pktable.as_ref().map(range_var);
                a.not_valid = k.skip_validation;
            }
            ConstrType::ConstrCheck => {
                a.constraint.get_or_insert_with(|| "check".into());
                a.not_valid |= k.skip_validation;
            }
            ConstrType::ConstrUnique => {
                a.constraint.get_or_insert_with(|| "unique".into());
            }
            _ => {}
        }
    }
}

fn set_default(a: &mut AlterAction, d: &Node) {
    a.has_default = true;
    a.default_functions = functions_called(d);
    a.default_volatile = a
        .default_functions
        .iter()
        .any(|f| !NON_VOLATILE.contains(&f.as_str()));
}

/// An added constraint's type, name, NOT VALID, USING INDEX, referenced table and columns.
fn constraint(a: &mut AlterAction, k: &pg_query::protobuf::Constraint) {
    let ty = ConstrType::try_from(k.contype).unwrap_or(ConstrType::Undefined);
    a.constraint = Some(
        match ty {
            ConstrType::ConstrForeign => "foreign_key",
            ConstrType::ConstrCheck => "check",
            ConstrType::ConstrUnique => "unique",
            ConstrType::ConstrPrimary => "primary_key",
            ConstrType::ConstrExclusion => "exclusion",
            ConstrType::ConstrNotnull => "not_null",
            _ => "other",
        }
        .into(),
    );
    a.constraint_name = (!k.conname.is_empty()).then(|| k.conname.clone());
    a.not_valid = k.skip_validation;
    a.using_index = (!k.indexname.is_empty()).then(|| k.indexname.clone());
    a.references = k.pktable.as_ref().map(range_var);
    let cols: Vec<String> = k
        .keys
        .iter()
        .chain(&k.fk_attrs)
        .filter_map(string_value)
        .collect();
    if cols.len() == 1 {
        a.column = cols.into_iter().next();
    }
}
