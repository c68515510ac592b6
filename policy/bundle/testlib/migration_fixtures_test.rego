package dbplatform.testlib

import rego.v1

# Fixtures for the DBP-MIG-* rule tests: a migration input and statements in the shape `dbpolicy migration
# check` builds (policy/src/migration/model.rs), with every field present.

statement := {
	"index": 0,
	"line": 3,
	"kind": "other",
	"node": "SelectStmt",
	"relation": "orders",
	"object_name": null,
	"relation_is_new": false,
	"columns": [],
	"actions": [],
	"options": {"concurrently": false, "not_valid": false, "if_exists": false, "if_not_exists": false, "unique": false, "full": false, "cascade": false},
	"transaction": {"in_transaction": false, "explicit": false, "begin_line": null},
	"settings": {"lock_timeout": "2s", "statement_timeout": null},
	"expected_lock": null,
	"measured": null,
}

action := {
	"type": "other",
	"column": null,
	"column_type": null,
	"not_null": false,
	"has_default": false,
	"default_volatile": false,
	"default_functions": [],
	"primary_key": false,
	"identity": false,
	"constraint": null,
	"constraint_name": null,
	"not_valid": false,
	"using_index": null,
	"references": null,
}

# A statement with some fields changed (`options` and `settings` merged, not replaced).
stmt(fields) := object.union(statement, fields)

# An ALTER TABLE statement with these actions (each merged into `action`).
alter(actions) := stmt({
	"kind": "alter_table",
	"node": "AlterTableStmt",
	"expected_lock": "AccessExclusiveLock",
	"actions": [object.union(action, a) | some a in actions],
})

# The input for a migration of these statements, for a tier-1 database.
migration(statements) := {
	"schema": "dbplatform.input/v1",
	"address": "migrations/0001.sql",
	"type": "sql_migration",
	"kind": "migration",
	"action": "update",
	"tier": "tier-1",
	"migration": {
		"schema": "dbplatform.migration/v1",
		"file": "migrations/0001.sql",
		"database": "orders",
		"tier": "tier-1",
		"single_transaction": false,
		"statements": statements,
		"dry_run": false,
	},
}

# The same migration as a dry run sees it (`dry_run: true`: statements may carry `measured`).
dry_run(statements) := object.union(migration(statements), {"migration": {"dry_run": true}})
