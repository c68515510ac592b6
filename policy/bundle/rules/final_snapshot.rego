# METADATA
# title: "A final snapshot must be taken when the database is deleted"
# description: "Skipping the final snapshot makes a delete irreversible for tiers whose data must survive mistakes."
# custom:
#   id: DBP-DEL-002
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Set skip_final_snapshot = false, or set final_snapshot_identifier."
#   applies_to: [instance, cluster]
#   actions: [create, update, replace, no-op, delete]
#   attributes: [settings.skip_final_snapshot, settings.final_snapshot_identifier, tier]
package dbplatform.rules.final_snapshot

import rego.v1

state := input.settings_before if input.action == "delete"

state := input.settings if input.action != "delete"

violation contains {"msg": msg, "path": "skip_final_snapshot"} if {
	tier := data.dbplatform.tiers[input.tier]
	tier.deletion_protection
	is_object(state)
	state.skip_final_snapshot == true
	not named(object.get(state, "final_snapshot_identifier", null))
	msg := sprintf("%s is %s and would be deleted without a final snapshot", [input.address, input.tier])
}

named(s) if {
	is_string(s)
	s != ""
}
