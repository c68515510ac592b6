package dbplatform.rules.migration_drop_test

import rego.v1

import data.dbplatform.rules.migration_drop as rule
import data.dbplatform.testlib

test_drop_column_fails if {
	vs := rule.violation with input as testlib.migration([testlib.alter([{"type": "drop_column", "column": "legacy"}])])
	some v in vs
	contains(v.msg, "column orders.legacy is dropped")
}

test_drop_table_and_database_fail if {
	vs := rule.violation with input as testlib.migration([
		testlib.stmt({"kind": "drop_table", "line": 4}),
		testlib.stmt({"kind": "drop_database", "relation": "orders", "line": 9}),
	])
	count(vs) == 2
	some v in vs
	v.path == "line:9"
	contains(v.msg, "database orders is dropped")
}

test_drop_of_a_table_created_in_the_migration_passes if {
	count(rule.violation) == 0 with input as testlib.migration([testlib.stmt({"kind": "drop_table", "relation_is_new": true})])
}
