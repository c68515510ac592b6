package dbplatform.rules.final_snapshot_test

import rego.v1

import data.dbplatform.rules.final_snapshot
import data.dbplatform.testlib

test_snapshot_kept_passes if {
	count(final_snapshot.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_skip_without_identifier_fails if {
	vs := final_snapshot.violation with input as testlib.with_settings({"skip_final_snapshot": true, "final_snapshot_identifier": null}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "skip_final_snapshot"
	contains(v.msg, "without a final snapshot")
}

test_skip_with_identifier_passes if {
	count(final_snapshot.violation) == 0 with input as testlib.with_settings({"skip_final_snapshot": true, "final_snapshot_identifier": "db-final"}) with data.dbplatform.tiers as testlib.tiers
}

test_delete_uses_the_prior_settings if {
	vs := final_snapshot.violation with input as testlib.with_fields({"action": "delete", "settings": null, "settings_before": object.union(testlib.instance.settings, {"skip_final_snapshot": true, "final_snapshot_identifier": null})}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "skip_final_snapshot"
}

test_dev_tier_may_skip if {
	count(final_snapshot.violation) == 0 with input as testlib.with_fields({"tier": "tier-3", "settings": object.union(testlib.instance.settings, {"skip_final_snapshot": true, "final_snapshot_identifier": null})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_identifier_cannot_matter_when_the_snapshot_is_not_skipped if {
	final_snapshot.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["final_snapshot_identifier"])), {"unknown": ["settings.final_snapshot_identifier"]}) with data.dbplatform.tiers as testlib.tiers
	count(final_snapshot.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["final_snapshot_identifier"])), {"unknown": ["settings.final_snapshot_identifier"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_identifier_matters_when_the_snapshot_is_skipped if {
	not final_snapshot.not_applicable with input as object.union(testlib.with_field("settings", object.union(object.remove(testlib.instance.settings, ["final_snapshot_identifier"]), {"skip_final_snapshot": true})), {"unknown": ["settings.final_snapshot_identifier"]}) with data.dbplatform.tiers as testlib.tiers
	count(final_snapshot.violation) == 0 with input as object.union(testlib.with_field("settings", object.union(object.remove(testlib.instance.settings, ["final_snapshot_identifier"]), {"skip_final_snapshot": true})), {"unknown": ["settings.final_snapshot_identifier"]}) with data.dbplatform.tiers as testlib.tiers
}
