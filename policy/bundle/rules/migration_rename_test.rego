package dbplatform.rules.migration_rename_test

import rego.v1

import data.dbplatform.rules.migration_rename as rule
import data.dbplatform.testlib

test_column_rename_fails if {
	s := testlib.stmt({"kind": "rename", "object_name": "total", "actions": [object.union(testlib.action, {"type": "rename_column", "column": "amount"})]})
	vs := rule.violation with input as testlib.migration([s])
	some v in vs
	contains(v.msg, "column orders.amount is renamed to total")
}

test_table_rename_fails if {
	s := testlib.stmt({"kind": "rename", "object_name": "purchases", "actions": [object.union(testlib.action, {"type": "rename_table"})]})
	vs := rule.violation with input as testlib.migration([s])
	some v in vs
	contains(v.msg, "table orders is renamed to purchases")
}

test_constraint_rename_passes if {
	s := testlib.stmt({"kind": "rename", "object_name": "x", "actions": [object.union(testlib.action, {"type": "rename_constraint"})]})
	count(rule.violation) == 0 with input as testlib.migration([s])
}
