package dbplatform.rules.performance_insights_kms_test

import rego.v1

import data.dbplatform.rules.performance_insights_kms
import data.dbplatform.testlib

test_pi_with_cmk_passes if {
	count(performance_insights_kms.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_pi_with_default_key_fails if {
	vs := performance_insights_kms.violation with input as testlib.with_settings({"performance_insights_kms_key_id": null}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "performance_insights_kms_key_id"
	contains(v.msg, "customer-managed")
}

test_pi_off_is_not_checked if {
	count(performance_insights_kms.violation) == 0 with input as testlib.with_settings({"performance_insights": false, "performance_insights_kms_key_id": null}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_pi_key_cannot_matter_with_pi_off if {
	performance_insights_kms.not_applicable with input as object.union(testlib.with_field("settings", object.union(object.remove(testlib.instance.settings, ["performance_insights_kms_key_id"]), {"performance_insights": false})), {"unknown": ["settings.performance_insights_kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
	count(performance_insights_kms.violation) == 0 with input as object.union(testlib.with_field("settings", object.union(object.remove(testlib.instance.settings, ["performance_insights_kms_key_id"]), {"performance_insights": false})), {"unknown": ["settings.performance_insights_kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_pi_key_matters_with_pi_on_tier_1 if {
	not performance_insights_kms.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["performance_insights_kms_key_id"])), {"unknown": ["settings.performance_insights_kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
	count(performance_insights_kms.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["performance_insights_kms_key_id"])), {"unknown": ["settings.performance_insights_kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
}
