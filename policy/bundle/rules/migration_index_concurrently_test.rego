package dbplatform.rules.migration_index_concurrently_test

import rego.v1

import data.dbplatform.rules.migration_index_concurrently as rule
import data.dbplatform.testlib

test_plain_create_index_fails if {
	vs := rule.violation with input as testlib.migration([testlib.stmt({"kind": "create_index", "line": 7})])
	some v in vs
	v.path == "line:7"
	contains(v.msg, "CREATE INDEX on orders without CONCURRENTLY")
}

test_plain_drop_index_fails if {
	vs := rule.violation with input as testlib.migration([testlib.stmt({"kind": "drop_index", "relation": "orders_idx"})])
	some v in vs
	contains(v.msg, "ACCESS EXCLUSIVE")
}

test_concurrent_index_passes if {
	s := testlib.stmt({"kind": "create_index", "options": object.union(testlib.statement.options, {"concurrently": true})})
	count(rule.violation) == 0 with input as testlib.migration([s])
}

test_index_on_a_table_created_in_the_migration_passes if {
	count(rule.violation) == 0 with input as testlib.migration([testlib.stmt({"kind": "create_index", "relation_is_new": true})])
}
