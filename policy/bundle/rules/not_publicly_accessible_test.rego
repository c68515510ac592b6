package dbplatform.rules.not_publicly_accessible_test

import rego.v1

import data.dbplatform.rules.not_publicly_accessible
import data.dbplatform.testlib

test_private_passes if {
	count(not_publicly_accessible.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_public_fails if {
	vs := not_publicly_accessible.violation with input as testlib.with_settings({"publicly_accessible": true}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "publicly_accessible"
	contains(v.msg, "publicly accessible")
}
