package dbplatform.rules.master_password_rotation_test

import rego.v1

import data.dbplatform.rules.master_password_rotation
import data.dbplatform.testlib

database(tier, days) := object.union(testlib.with_fields({"type": "dbplatform_database", "tier": tier}), {"settings": {"master_password_rotation_days": days}})

test_the_tiers_period_passes if {
	count(master_password_rotation.violation) == 0 with input as database("tier-1", 60) with data.dbplatform.tiers as testlib.tiers
}

test_a_shorter_period_passes if {
	count(master_password_rotation.violation) == 0 with input as database("tier-1", 7) with data.dbplatform.tiers as testlib.tiers
}

test_a_longer_period_fails if {
	vs := master_password_rotation.violation with input as database("tier-1", 365) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "master_password_rotation_days"
	contains(v.msg, "rotates its master password every 365 days; tier-1 requires at least every 60")
}

test_aws_instances_are_not_judged if {
	count(master_password_rotation.violation) == 0 with input as object.union(testlib.instance, {"settings": {"master_password_rotation_days": 999}}) with data.dbplatform.tiers as testlib.tiers
	master_password_rotation.not_applicable with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters.

test_unknown_tier_cannot_matter_within_every_period if {
	inp := object.union(database(null, 30), {"unknown": ["tier"]})
	master_password_rotation.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_unknown_tier_matters_beyond_the_strictest_period if {
	inp := object.union(database(null, 120), {"unknown": ["tier"]})
	not master_password_rotation.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
}
