package dbplatform.rules.migration_bigint_primary_key_test

import rego.v1

import data.dbplatform.rules.migration_bigint_primary_key as rule
import data.dbplatform.testlib

table(type) := testlib.stmt({
	"kind": "create_table",
	"relation": "invoices",
	"actions": [object.union(testlib.action, {"type": "add_column", "column": "id", "column_type": type, "primary_key": true})],
})

test_serial_primary_key_fails if {
	vs := rule.violation with input as testlib.migration([table("serial")])
	some v in vs
	contains(v.msg, "primary key invoices.id is serial")
}

test_int4_primary_key_fails if {
	count(rule.violation) == 1 with input as testlib.migration([table("int4")])
}

test_bigint_primary_key_passes if {
	count(rule.violation) == 0 with input as testlib.migration([table("int8")])
}
