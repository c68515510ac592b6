package dbplatform.rules.performance_insights_test

import rego.v1

import data.dbplatform.rules.performance_insights
import data.dbplatform.testlib

test_pi_on_passes if {
	count(performance_insights.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_pi_off_fails if {
	vs := performance_insights.violation with input as testlib.with_settings({"performance_insights": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "performance_insights"
}

test_dev_tier_without_pi_passes if {
	count(performance_insights.violation) == 0 with input as testlib.with_fields({"tier": "tier-3", "settings": object.union(testlib.instance.settings, {"performance_insights": false})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_pi_cannot_matter_on_tier_3 if {
	performance_insights.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["performance_insights"])), {"tier": "tier-3", "unknown": ["settings.performance_insights"]}) with data.dbplatform.tiers as testlib.tiers
	count(performance_insights.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["performance_insights"])), {"tier": "tier-3", "unknown": ["settings.performance_insights"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_pi_matters_on_tier_1 if {
	not performance_insights.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["performance_insights"])), {"unknown": ["settings.performance_insights"]}) with data.dbplatform.tiers as testlib.tiers
	count(performance_insights.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["performance_insights"])), {"unknown": ["settings.performance_insights"]}) with data.dbplatform.tiers as testlib.tiers
}
