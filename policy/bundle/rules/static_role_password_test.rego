package dbplatform.rules.static_role_password_test

import rego.v1

import data.dbplatform.rules.static_role_password
import data.dbplatform.testlib

test_no_password_passes if {
	count(static_role_password.violation) == 0 with input as testlib.postgresql_role
}

test_a_password_in_configuration_fails if {
	inp := object.union(testlib.postgresql_role, {"settings": {"plaintext_password_set": true}})
	vs := static_role_password.violation with input as inp
	some v in vs
	v.path == "plaintext_password_set"
	contains(v.msg, "postgresql_role.app sets a role password in configuration")
}
