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
