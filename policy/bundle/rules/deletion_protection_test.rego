package dbplatform.rules.deletion_protection_test

import rego.v1

import data.dbplatform.rules.deletion_protection
import data.dbplatform.testlib

test_protected_passes if {
	count(deletion_protection.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_unprotected_fails if {
	vs := deletion_protection.violation with input as testlib.with_settings({"deletion_protection": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "deletion_protection"
	contains(v.msg, "requires deletion protection")
}

test_dev_tier_may_skip if {
	count(deletion_protection.violation) == 0 with input as testlib.with_fields({"tier": "tier-3", "settings": object.union(testlib.instance.settings, {"deletion_protection": false})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_protection_cannot_matter_on_tier_3 if {
	deletion_protection.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["deletion_protection"])), {"tier": "tier-3", "unknown": ["settings.deletion_protection"]}) with data.dbplatform.tiers as testlib.tiers
	count(deletion_protection.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["deletion_protection"])), {"tier": "tier-3", "unknown": ["settings.deletion_protection"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_protection_matters_on_tier_1 if {
	not deletion_protection.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["deletion_protection"])), {"unknown": ["settings.deletion_protection"]}) with data.dbplatform.tiers as testlib.tiers
	count(deletion_protection.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["deletion_protection"])), {"unknown": ["settings.deletion_protection"]}) with data.dbplatform.tiers as testlib.tiers
}
