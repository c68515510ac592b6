package dbplatform.rules.managed_master_password_test

import rego.v1

import data.dbplatform.rules.managed_master_password
import data.dbplatform.testlib

test_managed_password_passes if {
	count(managed_master_password.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_plaintext_password_fails if {
	vs := managed_master_password.violation with input as testlib.with_settings({"plaintext_password_set": true, "managed_master_password": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "plaintext_password_set"
	contains(v.msg, "plan files and state")
}

test_unmanaged_password_fails if {
	vs := managed_master_password.violation with input as testlib.with_settings({"managed_master_password": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "managed_master_password"
	contains(v.msg, "Secrets Manager")
}
