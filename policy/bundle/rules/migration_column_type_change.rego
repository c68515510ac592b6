# METADATA
# title: "Column types are not changed in place"
# description: "ALTER COLUMN ... TYPE rewrites the table and all its indexes under an ACCESS EXCLUSIVE lock for most type changes (numeric precision, int to bigint, text to varchar(n)); only a few (varchar(n) to text, a wider varchar) are free, and a dry run shows which."
# custom:
#   id: DBP-MIG-006
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Expand and contract: add a new column of the new type (nullable), write both columns from the application (or a trigger), backfill the new one in batches, switch reads, then drop the old column in a later release. Check a change you believe is free with `dbpolicy migration dry-run --database-url` against a restored copy: it reports rewrite: true/false."
#   references:
#     squawk: [changing-column-type, prefer-text-field]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_column_type_change

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "alter_table"
	not s.relation_is_new
	some a in s.actions
	a.type == "alter_column_type"
	not measured_no_rewrite(s)
	msg := sprintf("changing the type of %s.%s to %s can rewrite the table under an ACCESS EXCLUSIVE lock", [s.relation, a.column, a.column_type])
}

# A dry run showed this change does not rewrite the table.
measured_no_rewrite(s) if s.measured.rewrite == false
