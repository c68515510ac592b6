# METADATA
# title: "Break-glass access must be justified, approved and bounded by the tier"
# description: "An emergency login to production data is acceptable only with a reason, a ticket, a named approver and a ttl no longer than the database's tier allows (max_break_glass_hours); the database refuses the login once the ttl has run out."
# custom:
#   id: DBP-ACC-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set reason, ticket and approved_by, and a ttl within the tier's max_break_glass_hours (`dbpolicy info tier-N` or the dbplatform_tier data source shows it); renew the access by changing ttl or ticket if the incident lasts longer."
#   applies_to: [break_glass]
#   attributes: [tier, ttl, ttl_seconds, reason, ticket, approved_by]
package dbplatform.rules.break_glass_bounds

import rego.v1

# A revocation (active turning false) is never held back.
granting if {
	input.kind == "break_glass"
	input.after.active != false
}

violation contains {"msg": msg, "path": field} if {
	granting
	some field in ["reason", "ticket", "approved_by", "ttl"]
	missing(field)
	msg := sprintf("%s grants break-glass access without %s; reason, ticket, approved_by and ttl are all required", [input.address, field])
}

violation contains {"msg": msg, "path": "ttl"} if {
	granting
	is_string(input.tier)
	tier := data.dbplatform.tiers[input.tier]
	max_hours := tier.max_break_glass_hours
	seconds := input.after.ttl_seconds
	is_number(seconds)
	seconds > max_hours * 3600
	msg := sprintf("%s asks for %v of break-glass access (%d s); %s allows at most %d hours", [input.address, input.after.ttl, seconds, input.tier, max_hours])
}

violation contains {"msg": msg, "path": "ttl"} if {
	granting
	is_string(input.tier)
	tier := data.dbplatform.tiers[input.tier]
	not tier.max_break_glass_hours
	msg := sprintf("%s grants break-glass access to a %s database, and %s allows none (no max_break_glass_hours in the tier catalogue)", [input.address, input.tier, input.tier])
}

missing(field) if object.get(input.after, field, null) == null

missing(field) if {
	is_string(input.after[field])
	trim_space(input.after[field]) == ""
}

# An unknown tier cannot matter when the ttl is within every tier's bound.
not_applicable if {
	every field in ["reason", "ticket", "approved_by", "ttl"] {
		not missing(field)
	}
	seconds := input.after.ttl_seconds
	every t in data.dbplatform.tiers {
		seconds <= object.get(t, "max_break_glass_hours", 0) * 3600
	}
}

not_applicable if input.after.active == false
