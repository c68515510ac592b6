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
