# METADATA
# title: "Multi-AZ must be on for tiers that require it"
# description: "Tiers with tight RTOs need a standby in another availability zone so an AZ failure is a failover, not an outage."
# custom:
#   id: DBP-HA-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set multi_az = true (on clusters: spread availability_zones over at least two zones)."
#   references:
#     checkov: [CKV_AWS_157]
#     securityhub: [RDS.5, RDS.15]
#   applies_to: [instance, cluster]
#   backends: [aws]
#   attributes: [settings.multi_az, tier]
package dbplatform.rules.multi_az

import rego.v1

violation contains {"msg": msg, "path": "multi_az"} if {
	input.backend == "aws"
	tier := data.dbplatform.tiers[input.tier]
	tier.multi_az
	input.settings.multi_az == false
	msg := sprintf("%s is %s, which requires Multi-AZ", [input.address, input.tier])
}

# Unknown values cannot change the outcome when the known tier does not ask for Multi-AZ (or is not in the
# catalogue), or when Multi-AZ is known to be on.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].multi_az
}

not_applicable if input.settings.multi_az == true
