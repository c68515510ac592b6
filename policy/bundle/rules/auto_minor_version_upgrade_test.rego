package dbplatform.rules.auto_minor_version_upgrade_test

import rego.v1

import data.dbplatform.rules.auto_minor_version_upgrade
import data.dbplatform.testlib

test_auto_upgrade_passes if {
	count(auto_minor_version_upgrade.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_no_auto_upgrade_fails if {
	vs := auto_minor_version_upgrade.violation with input as testlib.with_settings({"auto_minor_version_upgrade": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "auto_minor_version_upgrade"
}
