# METADATA
# title: "The master password must be rotated at least as often as the tier requires"
# description: "A master password that lives longer than the tier's master_password_rotation_days outlives more of the people and systems that have seen it; dbplatform_database rotates it on that schedule unless its configuration asks for a longer period."
# custom:
#   id: DBP-ACC-005
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Remove master_password_rotation_days to take the tier's period, or set a shorter one; a longer period needs a recorded override."
#   applies_to: [instance]
#   attributes: [tier, settings.master_password_rotation_days]
package dbplatform.rules.master_password_rotation

import rego.v1

violation contains {"msg": msg, "path": "master_password_rotation_days"} if {
	input.type == "dbplatform_database"
	is_string(input.tier)
	required := data.dbplatform.tiers[input.tier].master_password_rotation_days
	days := input.settings.master_password_rotation_days
	is_number(days)
	days > required
	msg := sprintf("%s rotates its master password every %d days; %s requires at least every %d", [input.address, days, input.tier, required])
}

# Only dbplatform_database rotates its master password (aws_db_instance: Secrets Manager's own schedule).
not_applicable if input.type != "dbplatform_database"

# An unknown tier cannot matter when the period is within every tier's.
not_applicable if {
	days := input.settings.master_password_rotation_days
	every t in data.dbplatform.tiers {
		days <= object.get(t, "master_password_rotation_days", days)
	}
}
