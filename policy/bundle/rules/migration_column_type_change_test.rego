package dbplatform.rules.migration_column_type_change_test

import rego.v1

import data.dbplatform.rules.migration_column_type_change as rule
import data.dbplatform.testlib

type_change := testlib.alter([{"type": "alter_column_type", "column": "amount", "column_type": "numeric(12,2)"}])

test_type_change_fails if {
	vs := rule.violation with input as testlib.migration([type_change])
	some v in vs
	contains(v.msg, "orders.amount to numeric(12,2)")
}

test_type_change_measured_without_rewrite_passes if {
	s := object.union(type_change, {"measured": {"rewrite": false}})
	count(rule.violation) == 0 with input as testlib.migration([s])
}
