# METADATA
# title: "Deletion protection must be on for tiers that require it"
# description: "Deletion protection stops a stray destroy or console click from deleting a production database."
# custom:
#   id: DBP-DEL-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set deletion_protection = true."
#   references:
#     checkov: [CKV_AWS_293, CKV_AWS_139]
#     trivy: [AVD-AWS-0177]
#     securityhub: [RDS.8, RDS.7]
#   applies_to: [instance, cluster]
#   attributes: [settings.deletion_protection, tier]
package dbplatform.rules.deletion_protection

import rego.v1

violation contains {"msg": msg, "path": "deletion_protection"} if {
	tier := data.dbplatform.tiers[input.tier]
	tier.deletion_protection
	input.settings.deletion_protection == false
	msg := sprintf("%s is %s, which requires deletion protection", [input.address, input.tier])
}

# Unknown values cannot change the outcome when the known tier does not ask for deletion protection (or is not
# in the catalogue), or when deletion protection is known to be on.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].deletion_protection
}

not_applicable if input.settings.deletion_protection == true
