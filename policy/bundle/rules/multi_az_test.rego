package dbplatform.rules.multi_az_test

import rego.v1

import data.dbplatform.rules.multi_az
import data.dbplatform.testlib

test_multi_az_passes if {
	count(multi_az.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_single_az_fails if {
	vs := multi_az.violation with input as testlib.with_settings({"multi_az": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "multi_az"
	contains(v.msg, "requires Multi-AZ")
}

test_tier_2_single_az_passes if {
	count(multi_az.violation) == 0 with input as testlib.with_fields({"tier": "tier-2", "settings": object.union(testlib.instance.settings, {"multi_az": false})}) with data.dbplatform.tiers as testlib.tiers
}
