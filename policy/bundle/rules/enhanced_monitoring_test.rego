package dbplatform.rules.enhanced_monitoring_test

import rego.v1

import data.dbplatform.rules.enhanced_monitoring
import data.dbplatform.testlib

test_fast_enough_passes if {
	count(enhanced_monitoring.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_monitoring_off_fails if {
	vs := enhanced_monitoring.violation with input as testlib.with_settings({"monitoring_interval_seconds": 0}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "monitoring_interval_seconds"
	contains(v.msg, "0 = off")
}

test_too_slow_fails if {
	vs := enhanced_monitoring.violation with input as testlib.with_settings({"monitoring_interval_seconds": 60}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "monitoring_interval_seconds"
}

test_dev_tier_without_monitoring_passes if {
	count(enhanced_monitoring.violation) == 0 with input as testlib.with_fields({"tier": "tier-3", "settings": object.union(testlib.instance.settings, {"monitoring_interval_seconds": 0})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_interval_cannot_matter_on_tier_3 if {
	enhanced_monitoring.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["monitoring_interval_seconds"])), {"tier": "tier-3", "unknown": ["settings.monitoring_interval_seconds"]}) with data.dbplatform.tiers as testlib.tiers
	count(enhanced_monitoring.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["monitoring_interval_seconds"])), {"tier": "tier-3", "unknown": ["settings.monitoring_interval_seconds"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_interval_matters_on_tier_1 if {
	not enhanced_monitoring.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["monitoring_interval_seconds"])), {"unknown": ["settings.monitoring_interval_seconds"]}) with data.dbplatform.tiers as testlib.tiers
	count(enhanced_monitoring.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["monitoring_interval_seconds"])), {"unknown": ["settings.monitoring_interval_seconds"]}) with data.dbplatform.tiers as testlib.tiers
}
