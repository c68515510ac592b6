# METADATA
# title: "The tier must be allowed on the backend"
# description: "Critical tiers need AWS features (Multi-AZ, KMS, managed backups) that the local backend cannot provide."
# custom:
#   id: DBP-TIER-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Use a tier whose allowed_backends include this backend (tier-2 or tier-3 on local), or configure the provider with backend = \"aws\"."
#   applies_to: [instance, cluster, replica, cluster_member]
#   attributes: [tier]
package dbplatform.rules.tier_backend_allowed

import rego.v1

violation contains {"msg": msg, "path": "tier"} if {
	tier := data.dbplatform.tiers[input.tier]
	not input.backend in tier.allowed_backends
	msg := sprintf("%s is %s, which is not allowed on the %s backend (allowed: %s)", [input.address, input.tier, input.backend, concat(", ", tier.allowed_backends)])
}

# An unknown tier cannot change the outcome when every tier of the catalogue allows the backend.
not_applicable if {
	every t in data.dbplatform.tiers {
		input.backend in t.allowed_backends
	}
}
