# METADATA
# title: "Primary keys are bigint or identity, not serial or integer"
# description: "A 32-bit key runs out at 2,147,483,647 rows; widening it later is a type change that rewrites the table and every table whose foreign keys point at it."
# custom:
#   id: DBP-MIG-011
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Declare the key as id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY (or bigserial/bigint), and make foreign keys that point at it bigint too."
#   references:
#     squawk: [prefer-bigint-over-int, prefer-bigint-over-smallint, prefer-identity, serial-primary-key]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_bigint_primary_key

import rego.v1

narrow := {"int2", "int4", "int", "integer", "smallint", "serial", "serial4", "smallserial", "serial2"}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind in {"create_table", "alter_table"}
	some a in s.actions
	a.type == "add_column"
	a.primary_key
	lower(a.column_type) in narrow
	msg := sprintf("primary key %s.%s is %s (32 bits or less); use bigint GENERATED ALWAYS AS IDENTITY", [s.relation, a.column, a.column_type])
}
