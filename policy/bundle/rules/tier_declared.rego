# METADATA
# title: "Every database must declare a known tier"
# description: "The tier decides every other guardrail; a database without one (or with a misspelt one) would silently skip them."
# custom:
#   id: DBP-TIER-002
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set tier (dbplatform_database) or the tier tag (aws_* resources) to one of the catalogue's tiers."
#   applies_to: [instance, cluster, replica, cluster_member]
#   attributes: [tier]
package dbplatform.rules.tier_declared

import rego.v1

violation contains {"msg": msg, "path": "tier"} if {
	not is_string(input.tier)
	msg := sprintf("%s declares no tier; set tier or the tier tag to one of %s", [input.address, concat(", ", sort(object.keys(data.dbplatform.tiers)))])
}

# The engine evaluated the resource as the catalogue's default tier (the strictest unless named): still a finding.
violation contains {"msg": msg, "path": "tier"} if {
	input.tier_assumed == true
	msg := sprintf("%s declares no tier; set tier or the tier tag to one of %s", [input.address, concat(", ", sort(object.keys(data.dbplatform.tiers)))])
}

violation contains {"msg": msg, "path": "tier"} if {
	is_string(input.tier)
	not data.dbplatform.tiers[input.tier]
	msg := sprintf("%s declares unknown tier %q; valid tiers are %s", [input.address, input.tier, concat(", ", sort(object.keys(data.dbplatform.tiers)))])
}
