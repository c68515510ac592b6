# METADATA
# title: Backups kept as long as the tier requires
# custom:
#   id: G-BAK-001
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: Raise backup_retention_period to the tier minimum.
#   applies_to: [instance, cluster]
#   attributes: [settings.backup_retention_days]
package dbplatform.rules.golden_backup

import rego.v1

violation contains {"msg": sprintf("backup retention %d days is below the %s minimum of %d", [got, input.tier, want]), "path": "backup_retention_days"} if {
	got := input.settings.backup_retention_days
	want := data.dbplatform.tiers[input.tier].min_backup_retention_days
	got < want
}
