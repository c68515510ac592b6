# METADATA
# title: "Unique and primary key constraints are added from a concurrently built index"
# description: "ADD CONSTRAINT ... UNIQUE or PRIMARY KEY builds its index while holding an ACCESS EXCLUSIVE lock: no reads or writes of the table for the whole build."
# custom:
#   id: DBP-MIG-005
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Build the index online first: CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_col_key ON t (col); then attach it, which is instant: ALTER TABLE t ADD CONSTRAINT t_col_key UNIQUE USING INDEX t_col_key; (PRIMARY KEY USING INDEX for a key)."
#   references:
#     squawk: [disallowed-unique-constraint, adding-serial-primary-key-field]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_unique_from_index

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "alter_table"
	not s.relation_is_new
	some a in s.actions
	a.constraint in {"unique", "primary_key"}
	a.type in {"add_constraint", "add_column"}
	a.using_index == null
	what := {"unique": "UNIQUE", "primary_key": "PRIMARY KEY"}[a.constraint]
	msg := sprintf("%s constraint on %s builds its index under an ACCESS EXCLUSIVE lock; build it CONCURRENTLY and add the constraint USING INDEX", [what, s.relation])
}
