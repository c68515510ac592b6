# METADATA
# title: "Replicas must keep within their tier's replication lag objective"
# description: "A replica further behind than the tier's replica_lag_objective_seconds loses more data when promoted than the tier promises; the lag is the one read at the last refresh (dbplatform_replica's replication_lag_seconds)."
# custom:
#   id: DBP-DR-003
#   severity: medium
#   enforcement: advisory
#   remediation: "Find why the replica falls behind (instance class smaller than the source's, long-running queries on the replica, network between regions) and fix it; a larger replica instance_class is the usual fix."
#   applies_to: [replica]
#   attributes: [tier]
package dbplatform.rules.replica_lag

import rego.v1

violation contains {"msg": msg, "path": "replication_lag_seconds"} if {
	tier := data.dbplatform.tiers[input.tier]
	objective := tier.replica_lag_objective_seconds
	lag := input.before.replication_lag_seconds
	is_number(lag)
	lag > objective
	msg := sprintf("%s was %v seconds behind its source at the last refresh; %s allows %d", [input.address, lag, input.tier, objective])
}

# An unknown tier cannot change the outcome when no lag was observed, or when the observed lag is within every
# tier's objective.
not_applicable if not is_number(input.before.replication_lag_seconds)

not_applicable if {
	lag := input.before.replication_lag_seconds
	every t in data.dbplatform.tiers {
		lag <= object.get(t, "replica_lag_objective_seconds", lag)
	}
}
