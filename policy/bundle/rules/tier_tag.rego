# METADATA
# title: "The tier tag should match the declared tier"
# description: "Cost and inventory reports group databases by the tier tag; it must say the same as the tier the database was built for."
# custom:
#   id: DBP-TAG-003
#   severity: low
#   enforcement: advisory
#   remediation: "Set the tier tag to the database's tier (or drop the tag and let the provider's default_tags carry it)."
#   applies_to: [instance, cluster, replica, cluster_member]
#   attributes: [tier, tags.tier]
package dbplatform.rules.tier_tag

import rego.v1

violation contains {"msg": msg, "path": "tags.tier"} if {
	is_string(input.tier)
	not input.tier_assumed
	tag := object.get(input.tags, "tier", null)
	tag != input.tier
	msg := sprintf("%s is %s but its tier tag is %v", [input.address, input.tier, tag])
}
