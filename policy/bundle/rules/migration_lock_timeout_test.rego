package dbplatform.rules.migration_lock_timeout_test

import rego.v1

import data.dbplatform.rules.migration_lock_timeout as rule
import data.dbplatform.testlib

no_timeout := {"lock_timeout": null, "statement_timeout": null}

test_alter_without_lock_timeout_fails if {
	s := object.union(testlib.alter([{"type": "add_column", "column": "x"}]), {"settings": no_timeout, "line": 2})
	vs := rule.violation with input as testlib.migration([s])
	some v in vs
	v.path == "line:2"
	contains(v.msg, "AlterTableStmt takes AccessExclusiveLock on orders with no lock_timeout")
}

test_alter_with_lock_timeout_passes if {
	count(rule.violation) == 0 with input as testlib.migration([testlib.alter([{"type": "add_column", "column": "x"}])])
}

test_weak_lock_needs_no_timeout if {
	s := testlib.stmt({"expected_lock": "ShareUpdateExclusiveLock", "settings": no_timeout})
	count(rule.violation) == 0 with input as testlib.migration([s])
}
