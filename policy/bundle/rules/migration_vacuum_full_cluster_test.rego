package dbplatform.rules.migration_vacuum_full_cluster_test

import rego.v1

import data.dbplatform.rules.migration_vacuum_full_cluster as rule
import data.dbplatform.testlib

test_vacuum_full_fails if {
	s := testlib.stmt({"kind": "vacuum", "options": object.union(testlib.statement.options, {"full": true})})
	vs := rule.violation with input as testlib.migration([s])
	some v in vs
	contains(v.msg, "VACUUM FULL orders")
}

test_cluster_fails if {
	vs := rule.violation with input as testlib.migration([testlib.stmt({"kind": "cluster", "relation": null})])
	some v in vs
	contains(v.msg, "CLUSTER (every table)")
}

test_plain_vacuum_passes if {
	count(rule.violation) == 0 with input as testlib.migration([testlib.stmt({"kind": "vacuum"})])
}
