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

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_multi_az_cannot_matter_on_tier_3 if {
	multi_az.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["multi_az"])), {"tier": "tier-3", "unknown": ["settings.multi_az"]}) with data.dbplatform.tiers as testlib.tiers
	count(multi_az.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["multi_az"])), {"tier": "tier-3", "unknown": ["settings.multi_az"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_multi_az_matters_on_tier_1 if {
	not multi_az.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["multi_az"])), {"unknown": ["settings.multi_az"]}) with data.dbplatform.tiers as testlib.tiers
	count(multi_az.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["multi_az"])), {"unknown": ["settings.multi_az"]}) with data.dbplatform.tiers as testlib.tiers
}
