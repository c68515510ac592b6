package dbplatform.rules.replica_lag_test

import rego.v1

import data.dbplatform.rules.replica_lag
import data.dbplatform.testlib

replica(tier, lag) := object.union(testlib.with_fields({"type": "dbplatform_replica", "kind": "replica", "tier": tier, "action": "update"}), {"before": {"replication_lag_seconds": lag}})

test_lag_within_the_objective_passes if {
	count(replica_lag.violation) == 0 with input as replica("tier-1", 300) with data.dbplatform.tiers as testlib.tiers
}

test_lag_beyond_the_objective_warns if {
	vs := replica_lag.violation with input as replica("tier-0", 61) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "replication_lag_seconds"
	contains(v.msg, "was 61 seconds behind its source at the last refresh; tier-0 allows 60")
}

test_no_lag_read_yet_passes if {
	count(replica_lag.violation) == 0 with input as testlib.with_fields({"type": "dbplatform_replica", "kind": "replica", "before": null}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters.

test_unknown_tier_cannot_matter_with_a_small_lag if {
	replica_lag.not_applicable with input as object.union(replica(null, 10), {"unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_tier_matters_with_a_lag_some_tier_refuses if {
	not replica_lag.not_applicable with input as object.union(replica(null, 120), {"unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
}
