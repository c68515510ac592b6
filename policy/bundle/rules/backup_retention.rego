# METADATA
# title: "Backups must be kept at least as long as the tier requires"
# description: "The tier catalogue sets a minimum backup retention (min_backup_retention_days) that bounds how far back a database can be restored."
# custom:
#   id: DBP-BAK-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set backup_retention_days (backup_retention_period on aws_db_instance/aws_rds_cluster) to at least the tier's min_backup_retention_days."
#   references:
#     checkov: [CKV_AWS_133]
#     trivy: [AVD-AWS-0077]
#     securityhub: [RDS.11]
#   applies_to: [instance, cluster]
#   attributes: [settings.backup_retention_days, tier]
package dbplatform.rules.backup_retention

import rego.v1

violation contains {"msg": msg, "path": "backup_retention_days"} if {
	tier := data.dbplatform.tiers[input.tier]
	is_object(input.settings)
	days := input.settings.backup_retention_days
	not days >= tier.min_backup_retention_days
	msg := sprintf("%s keeps backups %v days; %s requires at least %d", [input.address, days, input.tier, tier.min_backup_retention_days])
}

# Unknown values cannot change the outcome when the known tier is not in the catalogue (DBP-TIER-002 reports
# it), or when the known retention satisfies every tier.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier]
}

not_applicable if {
	days := input.settings.backup_retention_days
	is_number(days)
	every t in data.dbplatform.tiers {
		days >= t.min_backup_retention_days
	}
}
