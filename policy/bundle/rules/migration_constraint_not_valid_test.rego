package dbplatform.rules.migration_constraint_not_valid_test

import rego.v1

import data.dbplatform.rules.migration_constraint_not_valid as rule
import data.dbplatform.testlib

test_foreign_key_without_not_valid_fails if {
	a := {"type": "add_constraint", "constraint": "foreign_key", "constraint_name": "orders_customer_fk", "references": "customers"}
	vs := rule.violation with input as testlib.migration([testlib.alter([a])])
	some v in vs
	contains(v.msg, "foreign key orders_customer_fk is added to orders without NOT VALID")
	contains(v.msg, "customers is locked too")
}

test_check_not_valid_passes if {
	a := {"type": "add_constraint", "constraint": "check", "not_valid": true}
	count(rule.violation) == 0 with input as testlib.migration([testlib.alter([a])])
}

test_set_not_null_fails if {
	vs := rule.violation with input as testlib.migration([testlib.alter([{"type": "set_not_null", "column": "status"}])])
	some v in vs
	contains(v.msg, "SET NOT NULL on orders.status")
}

test_set_not_null_after_a_validated_check_passes if {
	v := object.union(testlib.alter([{"type": "validate_constraint", "constraint_name": "status_nn"}]), {"index": 0})
	s := object.union(testlib.alter([{"type": "set_not_null", "column": "status"}]), {"index": 1})
	count(rule.violation) == 0 with input as testlib.migration([v, s])
}
