# METADATA
# title: "Tiers that require it must use a customer-managed KMS key"
# description: "Critical tiers encrypt with a key the organisation controls (rotation, access policy, revocation) instead of the AWS-managed aws/rds key."
# custom:
#   id: DBP-ENC-002
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set kms_key_id to the ARN of a customer-managed KMS key (not alias/aws/rds)."
#   references:
#     checkov: [CKV_AWS_327]
#   applies_to: [instance, cluster]
#   backends: [aws]
#   attributes: [settings.kms_key_id, tier]
package dbplatform.rules.customer_managed_kms_key

import rego.v1

violation contains {"msg": msg, "path": "kms_key_id"} if {
	input.backend == "aws"
	tier := data.dbplatform.tiers[input.tier]
	tier.customer_managed_kms_key
	is_object(input.settings)
	key := input.settings.kms_key_id
	not customer_key(key)
	msg := sprintf("%s is %s, which requires a customer-managed KMS key, but kms_key_id is %v", [input.address, input.tier, key])
}

# A customer-managed key: any key id or ARN except the AWS-managed aws/rds alias.
customer_key(k) if {
	is_string(k)
	k != ""
	not contains(k, "alias/aws/")
}

# Unknown values cannot change the outcome when the known tier does not ask for a customer-managed key (or is
# not in the catalogue), or when the known key is customer-managed.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].customer_managed_kms_key
}

not_applicable if customer_key(input.settings.kms_key_id)
