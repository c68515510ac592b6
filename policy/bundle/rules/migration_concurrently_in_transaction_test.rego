package dbplatform.rules.migration_concurrently_in_transaction_test

import rego.v1

import data.dbplatform.rules.migration_concurrently_in_transaction as rule
import data.dbplatform.testlib

concurrent := testlib.stmt({"kind": "create_index", "node": "IndexStmt", "line": 5, "options": object.union(testlib.statement.options, {"concurrently": true})})

test_concurrently_inside_begin_fails if {
	s := object.union(concurrent, {"transaction": {"in_transaction": true, "explicit": true, "begin_line": 2}})
	vs := rule.violation with input as testlib.migration([s])
	some v in vs
	v.path == "line:5"
	contains(v.msg, "BEGIN on line 2")
}

test_concurrently_in_a_single_transaction_file_fails if {
	s := object.union(concurrent, {"transaction": {"in_transaction": true, "explicit": false, "begin_line": null}})
	vs := rule.violation with input as testlib.migration([s])
	some v in vs
	contains(v.msg, "whole file runs in one transaction")
}

test_concurrently_outside_a_transaction_passes if {
	count(rule.violation) == 0 with input as testlib.migration([concurrent])
}
