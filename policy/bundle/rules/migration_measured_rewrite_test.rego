package dbplatform.rules.migration_measured_rewrite_test

import rego.v1

import data.dbplatform.rules.migration_measured_rewrite as rule
import data.dbplatform.testlib

rewrote(rows) := testlib.stmt({"measured": {"lock_mode": "AccessExclusiveLock", "relation": "orders", "rewrite": true, "relation_rows": rows}})

test_rewrite_of_a_big_table_fails if {
	vs := rule.violation with input as testlib.dry_run([rewrote(5000000)])
	some v in vs
	contains(v.msg, "rewrote orders (5000000 rows)")
}

test_rewrite_of_a_small_table_passes if {
	count(rule.violation) == 0 with input as testlib.dry_run([rewrote(10)])
}

test_unknown_size_passes if {
	count(rule.violation) == 0 with input as testlib.dry_run([rewrote(null)])
}
