# METADATA
# title: "Performance Insights data must be encrypted with a customer-managed key where the tier requires one"
# description: "Performance Insights stores query text and wait events; tiers that require customer-managed keys for storage require them here too."
# custom:
#   id: DBP-MON-002
#   severity: medium
#   enforcement: hard-mandatory
#   remediation: "Set performance_insights_kms_key_id to a customer-managed KMS key (dbplatform_database uses its kms_key_id)."
#   references:
#     checkov: [CKV_AWS_354]
#     trivy: [AVD-AWS-0078]
#   applies_to: [instance, replica, cluster_member]
#   backends: [aws]
#   attributes: [settings.performance_insights, settings.performance_insights_kms_key_id, tier]
package dbplatform.rules.performance_insights_kms

import rego.v1

violation contains {"msg": msg, "path": "performance_insights_kms_key_id"} if {
	input.backend == "aws"
	tier := data.dbplatform.tiers[input.tier]
	tier.customer_managed_kms_key
	input.settings.performance_insights == true
	is_object(input.settings)
	key := input.settings.performance_insights_kms_key_id
	not customer_key(key)
	msg := sprintf("%s encrypts Performance Insights with %v; %s requires a customer-managed KMS key", [input.address, key, input.tier])
}

# A customer-managed key: any key id or ARN except the AWS-managed aws/rds alias.
customer_key(k) if {
	is_string(k)
	k != ""
	not contains(k, "alias/aws/")
}

# Unknown values cannot change the outcome when the known tier does not ask for customer-managed keys (or is not
# in the catalogue), when Performance Insights is known to be off, or when its key is known to be
# customer-managed.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].customer_managed_kms_key
}

not_applicable if input.settings.performance_insights == false

not_applicable if customer_key(input.settings.performance_insights_kms_key_id)
