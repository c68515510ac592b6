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
	not "settings.final_snapshot_identifier" in input.unknown
	not named(object.get(state, "final_snapshot_identifier", null))
	msg := sprintf("%s is %s and would be deleted without a final snapshot", [input.address, input.tier])
}

named(s) if {
	is_string(s)
	s != ""
}

# Unknown values cannot change the outcome when the known tier does not ask for deletion protection (or is not
# in the catalogue), when the final snapshot is known not to be skipped, or when it is known to be named.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].deletion_protection
}

not_applicable if state.skip_final_snapshot == false

not_applicable if named(state.final_snapshot_identifier)
