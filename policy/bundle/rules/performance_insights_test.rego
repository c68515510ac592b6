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
