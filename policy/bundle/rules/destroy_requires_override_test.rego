package dbplatform.rules.destroy_requires_override_test

import rego.v1

import data.dbplatform.rules.destroy_requires_override
import data.dbplatform.testlib

test_delete_of_tier_1_fails if {
	vs := destroy_requires_override.violation with input as testlib.with_fields({"action": "delete"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tier"
	contains(v.msg, "destroys")
}

test_replace_of_tier_0_fails if {
	vs := destroy_requires_override.violation with input as testlib.with_fields({"action": "replace", "tier": "tier-0"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tier"
	contains(v.msg, "replaces")
}

test_update_passes if {
	count(destroy_requires_override.violation) == 0 with input as testlib.with_fields({"action": "update"}) with data.dbplatform.tiers as testlib.tiers
}

test_delete_of_tier_2_passes if {
	count(destroy_requires_override.violation) == 0 with input as testlib.with_fields({"action": "delete", "tier": "tier-2"}) with data.dbplatform.tiers as testlib.tiers
}
