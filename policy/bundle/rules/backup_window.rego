# METADATA
# title: "Tiers with point-in-time recovery must have a backup window"
# description: "A fixed daily backup window keeps the automated backups that point-in-time recovery starts from out of peak hours and predictable."
# custom:
#   id: DBP-BAK-002
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Set backup_window (preferred_backup_window on clusters) to a UTC range like \"03:00-04:00\" that does not overlap the maintenance window."
#   references:
#     securityhub: [RDS.11]
#   applies_to: [instance, cluster]
#   backends: [aws]
#   attributes: [settings.backup_window, tier]
package dbplatform.rules.backup_window

import rego.v1

violation contains {"msg": msg, "path": "backup_window"} if {
	input.backend == "aws"
	tier := data.dbplatform.tiers[input.tier]
	tier.point_in_time_recovery
	is_object(input.settings)
	window := input.settings.backup_window
	not valid_window(window)
	msg := sprintf("%s is %s (point-in-time recovery) but its backup window is %v; expected HH:MM-HH:MM", [input.address, input.tier, window])
}

valid_window(w) if {
	is_string(w)
	regex.match(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`, w)
}

# Unknown values cannot change the outcome when the known tier has no point-in-time recovery (or is not in the
# catalogue), or when the known window is valid.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].point_in_time_recovery
}

not_applicable if valid_window(input.settings.backup_window)
