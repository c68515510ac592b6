package dbplatform.rules.iam_authentication_test

import rego.v1

import data.dbplatform.rules.iam_authentication
import data.dbplatform.testlib

test_iam_on_passes if {
	count(iam_authentication.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_iam_off_fails if {
	vs := iam_authentication.violation with input as testlib.with_settings({"iam_database_authentication": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "iam_database_authentication"
}
