package dbplatform.rules.tier_declared_test

import rego.v1

import data.dbplatform.rules.tier_declared
import data.dbplatform.testlib

test_known_tier_passes if {
	count(tier_declared.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_no_tier_fails if {
	vs := tier_declared.violation with input as testlib.with_fields({"tier": null}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tier"
	contains(v.msg, "declares no tier; set tier or the tier tag to one of tier-0, tier-1, tier-2, tier-3")
}

test_misspelt_tier_fails if {
	vs := tier_declared.violation with input as testlib.with_fields({"tier": "tier1"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tier"
	contains(v.msg, "unknown tier")
}

test_assumed_tier_fails if {
	vs := tier_declared.violation with input as testlib.with_fields({"tier": "tier-0", "tier_assumed": true}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tier"
	contains(v.msg, "declares no tier")
}
