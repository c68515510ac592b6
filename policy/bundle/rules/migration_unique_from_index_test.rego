package dbplatform.rules.migration_unique_from_index_test

import rego.v1

import data.dbplatform.rules.migration_unique_from_index as rule
import data.dbplatform.testlib

test_direct_unique_fails if {
	vs := rule.violation with input as testlib.migration([testlib.alter([{"type": "add_constraint", "constraint": "unique"}])])
	some v in vs
	contains(v.msg, "UNIQUE constraint on orders")
}

test_unique_using_index_passes if {
	a := {"type": "add_constraint", "constraint": "unique", "using_index": "orders_ref_key"}
	count(rule.violation) == 0 with input as testlib.migration([testlib.alter([a])])
}

test_new_table_passes if {
	s := object.union(testlib.alter([{"type": "add_constraint", "constraint": "primary_key"}]), {"relation_is_new": true})
	count(rule.violation) == 0 with input as testlib.migration([s])
}
