# METADATA
# title: "Break-glass access to a role above readwrite needs an override"
# description: "Emergency access that can change the schema (migrator) or whose privileges no template bounds (a role not made by dbplatform_role) is a decision for a named approver at plan time, on record in the audit log."
# custom:
#   id: DBP-ACC-002
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Grant a readonly or readwrite dbplatform_role instead; if the incident needs more, an approver adds policy { override { rule = \"DBP-ACC-002\", by = \"...\", reason = \"...\" } } for this apply."
#   applies_to: [break_glass]
#   attributes: [role_template]
package dbplatform.rules.break_glass_privileged_role

import rego.v1

bounded := {"monitoring", "readonly", "readwrite"}

violation contains {"msg": msg, "path": "role"} if {
	input.kind == "break_glass"
	input.after.active != false
	not "role_template" in input.unknown
	not input.after.role_template in bounded
	msg := sprintf("%s grants %s, %s", [input.address, object.get(input.after, "role_name", "a role"), what(object.get(input.after, "role_template", null))])
}

what(t) := "a role no dbplatform_role template bounds; only readonly, readwrite or monitoring roles are granted without an override" if t == null

what(t) := sprintf("a %s role (above readwrite); only readonly, readwrite or monitoring roles are granted without an override", [t]) if t != null

not_applicable if input.after.active == false
