package dbplatform.rules.instance_class_allowed_test

import rego.v1

import data.dbplatform.rules.instance_class_allowed
import data.dbplatform.testlib

test_allowed_class_passes if {
	count(instance_class_allowed.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_burstable_in_tier_1_fails if {
	vs := instance_class_allowed.violation with input as testlib.with_settings({"instance_class": "db.t3.micro"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "instance_class"
	contains(v.msg, "does not allow")
}

test_dot_is_not_a_wildcard if {
	vs := instance_class_allowed.violation with input as testlib.with_settings({"instance_class": "db.r6gXlarge"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "instance_class"
}

test_local_class_on_tier_3_passes if {
	count(instance_class_allowed.violation) == 0 with input as testlib.with_fields({"tier": "tier-3", "backend": "local", "settings": object.union(testlib.instance.settings, {"instance_class": "local"})}) with data.dbplatform.tiers as testlib.tiers
}

test_star_matches_any_run_and_only_whole_class if {
	tiers := {"tier-1": object.union(testlib.tiers["tier-1"], {"allowed_instance_classes": ["db.*.large", "db.x2g.*", "local"]})}
	count(instance_class_allowed.violation) == 0 with input as testlib.with_settings({"instance_class": "db.r6g.large"}) with data.dbplatform.tiers as tiers
	count(instance_class_allowed.violation) == 0 with input as testlib.with_settings({"instance_class": "db.x2g.16xlarge"}) with data.dbplatform.tiers as tiers
	count(instance_class_allowed.violation) == 1 with input as testlib.with_settings({"instance_class": "db.r6g.xlarge"}) with data.dbplatform.tiers as tiers
	count(instance_class_allowed.violation) == 1 with input as testlib.with_settings({"instance_class": "xdb.x2g.large"}) with data.dbplatform.tiers as tiers
	count(instance_class_allowed.violation) == 1 with input as testlib.with_settings({"instance_class": "locally"}) with data.dbplatform.tiers as tiers
}

test_several_stars_and_literal_regex_characters if {
	tiers := {"tier-1": object.union(testlib.tiers["tier-1"], {"allowed_instance_classes": ["db.*.*large", "db.m(x)+.*"]})}
	count(instance_class_allowed.violation) == 0 with input as testlib.with_settings({"instance_class": "db.r6g.2xlarge"}) with data.dbplatform.tiers as tiers
	count(instance_class_allowed.violation) == 0 with input as testlib.with_settings({"instance_class": "db.m(x)+.big"}) with data.dbplatform.tiers as tiers
	count(instance_class_allowed.violation) == 1 with input as testlib.with_settings({"instance_class": "db.mxx.big"}) with data.dbplatform.tiers as tiers
	count(instance_class_allowed.violation) == 1 with input as testlib.with_settings({"instance_class": "db.r6g.small"}) with data.dbplatform.tiers as tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_class_cannot_matter_for_a_tier_not_in_the_catalogue if {
	instance_class_allowed.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["instance_class"])), {"tier": "tier-9", "unknown": ["settings.instance_class"]}) with data.dbplatform.tiers as testlib.tiers
	count(instance_class_allowed.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["instance_class"])), {"tier": "tier-9", "unknown": ["settings.instance_class"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_class_matters_for_a_known_tier if {
	not instance_class_allowed.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["instance_class"])), {"unknown": ["settings.instance_class"]}) with data.dbplatform.tiers as testlib.tiers
	count(instance_class_allowed.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["instance_class"])), {"unknown": ["settings.instance_class"]}) with data.dbplatform.tiers as testlib.tiers
}
