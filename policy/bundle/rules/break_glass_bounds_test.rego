package dbplatform.rules.break_glass_bounds_test

import rego.v1

import data.dbplatform.rules.break_glass_bounds
import data.dbplatform.testlib

test_justified_bounded_grant_passes if {
	count(break_glass_bounds.violation) == 0 with input as testlib.break_glass with data.dbplatform.tiers as testlib.tiers
}

test_each_missing_field_is_named if {
	every field in ["reason", "ticket", "approved_by", "ttl"] {
		vs := break_glass_bounds.violation with input as testlib.break_glass_with({field: null}) with data.dbplatform.tiers as testlib.tiers
		some v in vs
		v.path == field
		contains(v.msg, sprintf("without %s; reason, ticket, approved_by and ttl are all required", [field]))
	}
}

test_blank_reason_is_missing if {
	vs := break_glass_bounds.violation with input as testlib.break_glass_with({"reason": "  "}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "reason"
}

test_ttl_over_the_tier_bound_fails if {
	vs := break_glass_bounds.violation with input as testlib.break_glass_with({"ttl": "9h", "ttl_seconds": 32400}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "ttl"
	contains(v.msg, "asks for 9h of break-glass access (32400 s); tier-1 allows at most 8 hours")
}

test_ttl_at_the_bound_passes if {
	count(break_glass_bounds.violation) == 0 with input as testlib.break_glass_with({"ttl": "8h", "ttl_seconds": 28800}) with data.dbplatform.tiers as testlib.tiers
}

test_a_tier_without_a_bound_refuses_break_glass if {
	tiers := json.patch(testlib.tiers, [{"op": "remove", "path": "/tier-1/max_break_glass_hours"}])
	vs := break_glass_bounds.violation with input as testlib.break_glass with data.dbplatform.tiers as tiers
	some v in vs
	contains(v.msg, "tier-1 allows none")
}

test_a_revocation_is_never_held_back if {
	inp := testlib.break_glass_with({"active": false, "reason": null, "ttl_seconds": 999999})
	count(break_glass_bounds.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters.

test_unknown_tier_cannot_matter_within_every_bound if {
	inp := object.union(testlib.break_glass_with({"ttl": "1h", "ttl_seconds": 3600}), {"tier": null, "unknown": ["tier"]})
	break_glass_bounds.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_unknown_tier_matters_beyond_the_strictest_bound if {
	inp := object.union(testlib.break_glass_with({"ttl": "6h", "ttl_seconds": 21600}), {"tier": null, "unknown": ["tier"]})
	not break_glass_bounds.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_unknown_tier_raises_no_violation_of_its_own if {
	inp := object.union(testlib.break_glass_with({"ttl": "6h", "ttl_seconds": 21600}), {"tier": null, "unknown": ["tier"]})
	count(break_glass_bounds.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}
