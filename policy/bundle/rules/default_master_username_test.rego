package dbplatform.rules.default_master_username_test

import rego.v1

import data.dbplatform.rules.default_master_username
import data.dbplatform.testlib

test_specific_name_passes if {
	count(default_master_username.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_postgres_fails if {
	vs := default_master_username.violation with input as testlib.with_settings({"master_username": "postgres"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "master_username"
	contains(v.msg, "well-known")
}

test_admin_in_capitals_fails if {
	vs := default_master_username.violation with input as testlib.with_settings({"master_username": "Admin"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "master_username"
}
