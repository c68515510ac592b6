# METADATA
# title: Customer-managed KMS key
# description: Tier-0 and tier-1 data must be encrypted with a key the team controls.
# custom:
#   id: G-KMS-001
#   severity: medium
#   enforcement: hard-mandatory
#   remediation: Set kms_key_id to a customer-managed key ARN.
#   applies_to: [instance, cluster]
#   attributes: [settings.kms_key_id]
package dbplatform.rules.golden_kms

import rego.v1

violation contains {"msg": sprintf("%s requires a customer-managed KMS key", [input.tier]), "path": "kms_key_id"} if {
	data.dbplatform.tiers[input.tier].customer_managed_kms_key
	not input.settings.kms_key_id
}
