# METADATA
# title: "Columns are added without a table rewrite or a failing NOT NULL"
# description: "ADD COLUMN ... NOT NULL without a DEFAULT fails on any table with rows; a volatile DEFAULT (random(), clock_timestamp(), gen_random_uuid(), a user function) makes PostgreSQL rewrite the whole table under an ACCESS EXCLUSIVE lock."
# custom:
#   id: DBP-MIG-003
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Expand, then contract: 1) ALTER TABLE t ADD COLUMN IF NOT EXISTS c type; (nullable, or with a constant or stable DEFAULT: no rewrite since PostgreSQL 11); 2) backfill in batches (UPDATE ... WHERE id BETWEEN ...); 3) ALTER TABLE t ADD CONSTRAINT c_not_null CHECK (c IS NOT NULL) NOT VALID; then VALIDATE CONSTRAINT c_not_null; 4) ALTER TABLE t ALTER COLUMN c SET NOT NULL; (uses the validated check, no scan) and drop the check."
#   references:
#     squawk: [adding-required-field, adding-field-with-default]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_not_null_column

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "alter_table"
	not s.relation_is_new
	some a in s.actions
	a.type == "add_column"
	a.not_null
	not a.has_default
	msg := sprintf("column %s is added to %s as NOT NULL without a DEFAULT: it fails on a table with rows", [a.column, s.relation])
}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "alter_table"
	not s.relation_is_new
	some a in s.actions
	a.type == "add_column"
	a.default_volatile
	msg := sprintf("column %s is added to %s with a volatile DEFAULT (%s): PostgreSQL rewrites the table under an ACCESS EXCLUSIVE lock", [a.column, s.relation, concat(", ", a.default_functions)])
}
