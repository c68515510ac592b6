//! Small readers of libpg_query's parse nodes: names, constants, types, and the functions an expression calls.

use pg_query::protobuf::a_const;
use pg_query::{Node, NodeEnum};

/// Functions a column default may call without PostgreSQL rewriting the table (stable or immutable: evaluated
/// once when the column is added). Any other function is taken as volatile, which is the safe side: PostgreSQL
/// rewrites the table to fill a volatile default.
pub(super) const NON_VOLATILE: &[&str] = &[
    "now",
    "transaction_timestamp",
    "statement_timestamp",
    "current_date",
    "current_timestamp",
    "localtimestamp",
    "lower",
    "upper",
    "coalesce",
    "concat",
    "length",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "json_build_array",
    "to_jsonb",
    "to_json",
    "make_interval",
    "make_date",
    "date_trunc",
    "array_fill",
    "nullif",
    "greatest",
    "least",
    "abs",
    "round",
    "md5",
    "int4",
    "int8",
    "text",
];

/// The names of every function a default expression calls (through the parse tree as JSON: the tree has
/// hundreds of node types, and only `FuncCall` matters here).
pub(super) fn functions_called(n: &Node) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(f) = m.get("FuncCall") {
                    if let Some(name) = f
                        .get("funcname")
                        .and_then(|n| n.as_array())
                        .and_then(|a| a.last())
                        .and_then(|l| l.pointer("/node/String/sval"))
                        .and_then(|s| s.as_str())
                    {
                        out.push(name.to_string());
                    }
                }
                m.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = vec![];
    if let Ok(v) = serde_json::to_value(n) {
        walk(&v, &mut out);
    }
    out
}

/// `schema.table` (or `table`).
pub(super) fn range_var(r: &pg_query::protobuf::RangeVar) -> String {
    if r.schemaname.is_empty() {
        r.relname.clone()
    } else {
        format!("{}.{}", r.schemaname, r.relname)
    }
}

pub(super) fn node_range_var(n: &Node) -> Option<String> {
    match &n.node {
        Some(NodeEnum::RangeVar(r)) => Some(range_var(r)),
        _ => None,
    }
}

/// A dotted name from a `List` of `String` nodes (what `DROP` names its objects with).
pub(super) fn qualified_name(n: &Node) -> String {
    match &n.node {
        Some(NodeEnum::List(l)) => l
            .items
            .iter()
            .filter_map(string_value)
            .collect::<Vec<_>>()
            .join("."),
        Some(NodeEnum::String(s)) => s.sval.clone(),
        _ => String::new(),
    }
}

pub(super) fn string_value(n: &Node) -> Option<String> {
    match &n.node {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

pub(super) fn def_name(n: &Node) -> Option<&str> {
    match &n.node {
        Some(NodeEnum::DefElem(d)) => Some(d.defname.as_str()),
        _ => None,
    }
}

/// A constant's text (`'5s'` -> `5s`, `5000` -> `5000`).
pub(super) fn const_text(n: &Node) -> Option<String> {
    match &n.node {
        Some(NodeEnum::AConst(c)) => match &c.val {
            Some(a_const::Val::Sval(s)) => Some(s.sval.clone()),
            Some(a_const::Val::Ival(i)) => Some(i.ival.to_string()),
            Some(a_const::Val::Fval(f)) => Some(f.fval.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A type as written: `int4`, `serial`, `numeric(12,2)`, `text[]`.
pub(super) fn type_name(t: &pg_query::protobuf::TypeName) -> String {
    let mut name = t.names.last().and_then(string_value).unwrap_or_default();
    let mods: Vec<String> = t.typmods.iter().filter_map(const_text).collect();
    if !mods.is_empty() {
        name = format!("{name}({})", mods.join(","));
    }
    for _ in &t.array_bounds {
        name.push_str("[]");
    }
    name
}

/// The grammar's name of the statement node (`AlterTableStmt`).
pub(super) fn node_name(node: &NodeEnum) -> String {
    let name = match node {
        NodeEnum::IndexStmt(_) => "IndexStmt",
        NodeEnum::AlterTableStmt(_) => "AlterTableStmt",
        NodeEnum::DropStmt(_) => "DropStmt",
        NodeEnum::RenameStmt(_) => "RenameStmt",
        NodeEnum::CreateStmt(_) => "CreateStmt",
        NodeEnum::VariableSetStmt(_) => "VariableSetStmt",
        NodeEnum::TransactionStmt(_) => "TransactionStmt",
        NodeEnum::InsertStmt(_) => "InsertStmt",
        NodeEnum::UpdateStmt(_) => "UpdateStmt",
        NodeEnum::DeleteStmt(_) => "DeleteStmt",
        NodeEnum::SelectStmt(_) => "SelectStmt",
        other => {
            // Debug prints `Variant(...)`: the variant's name is everything before the parenthesis.
            let d = format!("{other:?}");
            return d.split('(').next().unwrap_or("").to_string();
        }
    };
    name.to_string()
}
