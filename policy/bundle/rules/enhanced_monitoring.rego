# METADATA
# title: "Enhanced monitoring must sample at least as often as the tier requires"
# description: "Enhanced monitoring gives OS-level metrics (CPU steal, memory, I/O) at the granularity the tier's RTO needs."
# custom:
#   id: DBP-MON-003
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Set monitoring_interval_seconds (monitoring_interval) to a value from 1 to the tier's monitoring_interval_seconds, with a monitoring_role_arn."
#   references:
#     checkov: [CKV_AWS_118]
#     securityhub: [RDS.6]
#   applies_to: [instance, replica, cluster_member]
#   backends: [aws]
#   attributes: [settings.monitoring_interval_seconds, tier]
package dbplatform.rules.enhanced_monitoring

import rego.v1

violation contains {"msg": msg, "path": "monitoring_interval_seconds"} if {
	input.backend == "aws"
	tier := data.dbplatform.tiers[input.tier]
	tier.monitoring_interval_seconds > 0
	is_object(input.settings)
	interval := input.settings.monitoring_interval_seconds
	not sampled_often_enough(interval, tier.monitoring_interval_seconds)
	msg := sprintf("%s samples enhanced monitoring every %v seconds (0 = off); %s requires every %d seconds or more often", [input.address, interval, input.tier, tier.monitoring_interval_seconds])
}

sampled_often_enough(interval, required) if {
	interval > 0
	interval <= required
}

# Unknown values cannot change the outcome when the known tier does not ask for enhanced monitoring (or is not
# in the catalogue).
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].monitoring_interval_seconds > 0
}
