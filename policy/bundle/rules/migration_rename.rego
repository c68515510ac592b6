# METADATA
# title: "Columns and tables are not renamed under running code"
# description: "RENAME is instant, but every running application instance still uses the old name: queries fail from the moment the migration commits until all of them are redeployed."
# custom:
#   id: DBP-MIG-007
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Expand and contract: add the new column (or create a view with the new table name), write both and backfill, move readers to the new name, and only drop the old column or table in a later release once no code uses it."
#   references:
#     squawk: [renaming-column, renaming-table]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_rename

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "rename"
	not s.relation_is_new
	some a in s.actions
	a.type == "rename_column"
	msg := sprintf("column %s.%s is renamed to %s: code that uses the old name fails until it is redeployed", [s.relation, a.column, s.object_name])
}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "rename"
	not s.relation_is_new
	some a in s.actions
	a.type == "rename_table"
	msg := sprintf("table %s is renamed to %s: code that uses the old name fails until it is redeployed", [s.relation, s.object_name])
}
