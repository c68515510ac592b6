package dbplatform.rules.backup_window_test

import rego.v1

import data.dbplatform.rules.backup_window
import data.dbplatform.testlib

test_window_set_passes if {
	count(backup_window.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_no_window_fails if {
	vs := backup_window.violation with input as testlib.with_settings({"backup_window": null}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "backup_window"
	contains(v.msg, "HH:MM-HH:MM")
}

test_malformed_window_fails if {
	vs := backup_window.violation with input as testlib.with_settings({"backup_window": "3am"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "backup_window"
}

test_tier_without_pitr_passes if {
	count(backup_window.violation) == 0 with input as testlib.with_fields({"tier": "tier-3", "settings": object.union(testlib.instance.settings, {"backup_window": null})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_window_cannot_matter_without_pitr if {
	backup_window.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["backup_window"])), {"tier": "tier-3", "unknown": ["settings.backup_window"]}) with data.dbplatform.tiers as testlib.tiers
	count(backup_window.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["backup_window"])), {"tier": "tier-3", "unknown": ["settings.backup_window"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_window_matters_with_pitr if {
	not backup_window.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["backup_window"])), {"unknown": ["settings.backup_window"]}) with data.dbplatform.tiers as testlib.tiers
	count(backup_window.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["backup_window"])), {"unknown": ["settings.backup_window"]}) with data.dbplatform.tiers as testlib.tiers
}
