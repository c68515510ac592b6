package dbplatform.rules.migration_measured_lock_test

import rego.v1

import data.dbplatform.rules.migration_measured_lock as rule
import data.dbplatform.testlib

measured(ms) := testlib.stmt({"measured": {"lock_mode": "AccessExclusiveLock", "relation": "orders", "lock_held_ms": ms, "rewrite": true}})

test_long_lock_on_tier_1_fails if {
	vs := rule.violation with input as testlib.dry_run([measured(2500)])
	some v in vs
	contains(v.msg, "held AccessExclusiveLock on orders for 2500 ms; tier-1 allows 1000 ms")
}

test_short_lock_passes if {
	count(rule.violation) == 0 with input as testlib.dry_run([measured(20)])
}

test_tier_3_allows_longer if {
	count(rule.violation) == 0 with input as object.union(testlib.dry_run([measured(2500)]), {"tier": "tier-3"})
}

test_no_dry_run_passes if {
	count(rule.violation) == 0 with input as testlib.migration([testlib.stmt({})])
}
