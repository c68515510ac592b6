//! The parser on the shapes the rules depend on: lines past comments, transactions, session settings, new
//! relations, ALTER TABLE actions, and a document that matches its own JSON Schema.

use super::*;

fn parse(sql: &str) -> Migration {
    parse_migration("m.sql", sql, &ParseOptions::default()).unwrap()
}

#[test]
fn lines_skip_comments_and_blank_lines() {
    let m = parse("-- header\n\n/* block\n comment */ CREATE INDEX i ON t (a);\n\n-- x\nDROP INDEX CONCURRENTLY IF EXISTS i;");
    let lines: Vec<usize> = m.statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [4, 7]);
    assert_eq!(m.statements[0].kind, "create_index");
    assert_eq!(m.statements[0].columns, ["a"]);
    assert_eq!(m.statements[0].expected_lock.as_deref(), Some("ShareLock"));
    let d = &m.statements[1];
    assert_eq!(
        (d.kind.as_str(), d.options.concurrently, d.options.if_exists),
        ("drop_index", true, true)
    );
    assert_eq!(d.expected_lock, None);
}

#[test]
fn transactions_and_settings_are_tracked() {
    let m = parse(
        "SET lock_timeout = '2s';\nBEGIN;\nSET LOCAL statement_timeout = 5000;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\nSET lock_timeout = 0;\nALTER TABLE t DROP COLUMN c;\n",
    );
    let alter = &m.statements[3];
    assert!(alter.transaction.in_transaction && alter.transaction.explicit);
    assert_eq!(alter.transaction.begin_line, Some(2));
    assert_eq!(alter.settings.lock_timeout.as_deref(), Some("2s"));
    assert_eq!(alter.settings.statement_timeout.as_deref(), Some("5000"));
    let drop = &m.statements[6];
    assert!(!drop.transaction.in_transaction);
    assert_eq!(
        drop.settings,
        model::SessionSettings::default(),
        "LOCAL ended at COMMIT; 0 disables"
    );
    let single = parse_migration(
        "m.sql",
        "CREATE INDEX CONCURRENTLY i ON t (a);",
        &ParseOptions {
            single_transaction: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(single.statements[0].transaction.in_transaction);
    assert!(!single.statements[0].transaction.explicit);
}

#[test]
fn alter_table_actions_carry_what_rules_need() {
    let m = parse(
        "CREATE TABLE n (id serial PRIMARY KEY);\nALTER TABLE n ADD COLUMN x int NOT NULL;\n\
         ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid(), ADD COLUMN b timestamptz NOT NULL DEFAULT now(),\n\
           ALTER COLUMN c TYPE numeric(12,2), ADD CONSTRAINT fk FOREIGN KEY (d) REFERENCES p (id) NOT VALID,\n\
           ADD CONSTRAINT u UNIQUE USING INDEX u_idx;\nALTER TABLE public.t RENAME COLUMN e TO f;",
    );
    let create = &m.statements[0];
    assert_eq!(create.actions[0].column_type.as_deref(), Some("serial"));
    assert!(create.actions[0].primary_key);
    assert!(m.statements[1].relation_is_new, "n was created above");
    assert_eq!(m.statements[1].expected_lock, None);
    let a = &m.statements[2].actions;
    assert!(a[0].default_volatile && a[0].default_functions == ["gen_random_uuid"]);
    assert!(a[1].not_null && a[1].has_default && !a[1].default_volatile);
    assert_eq!(a[2].action, "alter_column_type");
    assert_eq!(a[2].column_type.as_deref(), Some("numeric(12,2)"));
    assert_eq!(
        (a[3].constraint.as_deref(), a[3].not_valid),
        (Some("foreign_key"), true)
    );
    assert_eq!(a[3].references.as_deref(), Some("p"));
    assert_eq!(a[4].using_index.as_deref(), Some("u_idx"));
    assert!(m.statements[2].options.not_valid);
    assert_eq!(
        m.statements[2].expected_lock.as_deref(),
        Some("AccessExclusiveLock")
    );
    let rename = &m.statements[3];
    assert_eq!(rename.relation.as_deref(), Some("public.t"));
    assert_eq!(rename.actions[0].action, "rename_column");
    assert_eq!(rename.object_name.as_deref(), Some("f"));
}

#[test]
fn command_line_beats_the_header_and_errors_name_the_line() {
    let sql = "-- dbplatform: database=orders tier=tier-1\nVACUUM FULL orders;\nCLUSTER orders;\n";
    let m = parse_migration(
        "m.sql",
        sql,
        &ParseOptions {
            tier: Some("tier-3".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (m.database.as_deref(), m.tier.as_deref()),
        (Some("orders"), Some("tier-3"))
    );
    assert!(m.statements[0].options.full);
    assert_eq!(m.statements[1].kind, "cluster");
    let e = parse_migration(
        "m.sql",
        "SELECT 1;\n\nALTER TABLE t ADD COLUM x int;\n",
        &ParseOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("m.sql:3: not valid PostgreSQL"), "{e}");
}

#[test]
fn the_document_matches_its_schema() {
    let m = parse("SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN a int;\nDROP TABLE x;\nDROP DATABASE y;");
    let schema = serde_json::to_value(migration_schema()).unwrap();
    let doc = serde_json::to_value(&m).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let kinds: Vec<&str> = m.statements.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["set", "alter_table", "drop_table", "drop_database"]);
}
