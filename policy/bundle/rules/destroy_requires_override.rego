# METADATA
# title: "Destroying or replacing a critical database needs a recorded override"
# description: "For tiers with override_required_for_destroy, a destroy or replace (which deletes the old database) must be approved with an override that names who and why."
# custom:
#   id: DBP-DEL-003
#   severity: critical
#   enforcement: soft-mandatory
#   remediation: "If the destroy is intended, run with --override DBP-DEL-003 --reason '...' --by you@example.com; otherwise find what forces the replacement in the plan and revert it."
#   applies_to: [instance, cluster, replica, cluster_member]
#   actions: [delete, replace]
#   attributes: [tier]
package dbplatform.rules.destroy_requires_override

import rego.v1

violation contains {"msg": msg, "path": "tier"} if {
	input.action in {"delete", "replace"}
	tier := data.dbplatform.tiers[input.tier]
	tier.override_required_for_destroy
	verb := {"delete": "destroys", "replace": "replaces (destroys and re-creates)"}[input.action]
	msg := sprintf("the plan %s %s, a %s database; this needs an override", [verb, input.address, input.tier])
}
