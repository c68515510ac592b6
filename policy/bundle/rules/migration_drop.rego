# METADATA
# title: "Columns, tables and databases are not dropped in the same release that stops using them"
# description: "A drop cannot be rolled back by redeploying: running code that still reads the column or table fails at once, and the data is gone unless restored from backup."
# custom:
#   id: DBP-MIG-008
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Contract last: first release code that no longer reads or writes it (for a column, also tell the ORM to ignore it), check it is unused (pg_stat_user_tables, pg_stat_statements), keep a backup or a renamed copy for a while, then drop it in a later migration with SET lock_timeout and IF EXISTS. If the drop is intended, record it with an exception for this file and line."
#   references:
#     squawk: [ban-drop-column, ban-drop-table, ban-drop-database]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_drop

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "alter_table"
	not s.relation_is_new
	some a in s.actions
	a.type == "drop_column"
	msg := sprintf("column %s.%s is dropped: code that still uses it fails, and its data is gone", [s.relation, a.column])
}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "drop_table"
	not s.relation_is_new
	msg := sprintf("table %s is dropped: code that still uses it fails, and its data is gone", [s.relation])
}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "drop_database"
	msg := sprintf("database %s is dropped", [s.relation])
}
