package dbplatform.rules.migration_not_null_column_test

import rego.v1

import data.dbplatform.rules.migration_not_null_column as rule
import data.dbplatform.testlib

test_not_null_without_default_fails if {
	vs := rule.violation with input as testlib.migration([testlib.alter([{"type": "add_column", "column": "status", "not_null": true}])])
	some v in vs
	contains(v.msg, "column status is added to orders as NOT NULL without a DEFAULT")
}

test_volatile_default_fails if {
	a := {"type": "add_column", "column": "token", "has_default": true, "default_volatile": true, "default_functions": ["gen_random_uuid"]}
	vs := rule.violation with input as testlib.migration([testlib.alter([a])])
	some v in vs
	contains(v.msg, "volatile DEFAULT (gen_random_uuid)")
}

test_not_null_with_constant_default_passes if {
	count(rule.violation) == 0 with input as testlib.migration([testlib.alter([{"type": "add_column", "column": "status", "not_null": true, "has_default": true}])])
}

test_nullable_column_passes if {
	count(rule.violation) == 0 with input as testlib.migration([testlib.alter([{"type": "add_column", "column": "note"}])])
}
