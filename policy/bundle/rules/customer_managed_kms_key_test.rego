package dbplatform.rules.customer_managed_kms_key_test

import rego.v1

import data.dbplatform.rules.customer_managed_kms_key
import data.dbplatform.testlib

test_customer_key_passes if {
	count(customer_managed_kms_key.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_missing_key_fails if {
	vs := customer_managed_kms_key.violation with input as testlib.with_settings({"kms_key_id": null}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "kms_key_id"
	contains(v.msg, "customer-managed")
}

test_aws_managed_alias_fails if {
	vs := customer_managed_kms_key.violation with input as testlib.with_settings({"kms_key_id": "arn:aws:kms:eu-west-1:111122223333:alias/aws/rds"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "kms_key_id"
}

test_tier_without_the_requirement_passes if {
	count(customer_managed_kms_key.violation) == 0 with input as testlib.with_fields({"tier": "tier-2", "settings": object.union(testlib.instance.settings, {"kms_key_id": null})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_key_cannot_matter_on_tier_3 if {
	customer_managed_kms_key.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["kms_key_id"])), {"tier": "tier-3", "unknown": ["settings.kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
	count(customer_managed_kms_key.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["kms_key_id"])), {"tier": "tier-3", "unknown": ["settings.kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_key_matters_on_tier_1 if {
	not customer_managed_kms_key.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["kms_key_id"])), {"unknown": ["settings.kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
	count(customer_managed_kms_key.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["kms_key_id"])), {"unknown": ["settings.kms_key_id"]}) with data.dbplatform.tiers as testlib.tiers
}
