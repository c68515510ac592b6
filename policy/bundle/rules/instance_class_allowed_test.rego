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
