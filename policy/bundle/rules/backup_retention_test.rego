package dbplatform.rules.backup_retention_test

import rego.v1

import data.dbplatform.rules.backup_retention
import data.dbplatform.testlib

test_enough_retention_passes if {
	count(backup_retention.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_short_retention_fails if {
	vs := backup_retention.violation with input as testlib.with_settings({"backup_retention_days": 3}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "backup_retention_days"
	contains(v.msg, "at least 14")
}

test_resource_without_the_setting_is_not_judged if {
	count(backup_retention.violation) == 0 with input as testlib.with_field("settings", object.remove(testlib.instance.settings, ["backup_retention_days"])) with data.dbplatform.tiers as testlib.tiers
}

test_null_retention_fails if {
	vs := backup_retention.violation with input as testlib.with_settings({"backup_retention_days": null}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "backup_retention_days"
}

test_dev_tier_one_day_passes if {
	count(backup_retention.violation) == 0 with input as testlib.with_fields({"tier": "tier-3", "settings": object.union(testlib.instance.settings, {"backup_retention_days": 1})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_retention_cannot_matter_when_it_is_known_long_enough_for_every_tier if {
	backup_retention.not_applicable with input as object.union(testlib.with_settings({"backup_retention_days": 35}), {"tier": null, "unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
	count(backup_retention.violation) == 0 with input as object.union(testlib.with_settings({"backup_retention_days": 35}), {"tier": null, "unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_retention_matters_for_a_known_tier if {
	not backup_retention.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["backup_retention_days"])), {"unknown": ["settings.backup_retention_days"]}) with data.dbplatform.tiers as testlib.tiers
	count(backup_retention.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["backup_retention_days"])), {"unknown": ["settings.backup_retention_days"]}) with data.dbplatform.tiers as testlib.tiers
}
