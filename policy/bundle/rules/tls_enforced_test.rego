package dbplatform.rules.tls_enforced_test

import rego.v1

import data.dbplatform.rules.tls_enforced
import data.dbplatform.testlib

test_forced_ssl_group_passes if {
	count(tls_enforced.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_group_without_force_ssl_fails if {
	vs := tls_enforced.violation with input as testlib.with_fields({"related": {"parameter_groups": [{"address": "aws_db_parameter_group.pg", "name": "pg", "parameters": {"rds.force_ssl": "0"}, "known": true}], "source": null}}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "parameter_group_name"
	contains(v.msg, "rds.force_ssl = 1")
}

test_mysql_secure_transport_on_passes if {
	count(tls_enforced.violation) == 0 with input as testlib.with_fields({"engine": "mysql", "engine_major": "8.0", "related": {"parameter_groups": [{"address": "x", "name": "x", "parameters": {"require_secure_transport": "ON"}, "known": true}], "source": null}}) with data.dbplatform.tiers as testlib.tiers
}

test_mysql_default_group_fails if {
	vs := tls_enforced.violation with input as testlib.with_fields({"engine": "mysql", "engine_major": "8.0", "related": {"parameter_groups": [], "source": null}}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "parameter_group_name"
	contains(v.msg, "require_secure_transport")
}

test_postgres_16_default_group_passes if {
	count(tls_enforced.violation) == 0 with input as testlib.with_fields({"related": {"parameter_groups": [], "source": null}}) with data.dbplatform.tiers as testlib.tiers
}

test_postgres_14_default_group_fails if {
	vs := tls_enforced.violation with input as testlib.with_fields({"engine_major": "14", "related": {"parameter_groups": [], "source": null}}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "parameter_group_name"
}

test_dbplatform_parameters_turning_tls_off_fail if {
	vs := tls_enforced.violation with input as testlib.with_fields({"type": "dbplatform_database", "related": {"parameter_groups": [], "source": null}, "after": {"parameters": {"rds.force_ssl": "0", "work_mem": "8MB"}}}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "parameters"
	contains(v.msg, "rds.force_ssl")
}

test_dbplatform_other_parameters_pass if {
	count(tls_enforced.violation) == 0 with input as testlib.with_fields({"type": "dbplatform_database", "related": {"parameter_groups": [], "source": null}, "after": {"parameters": {"work_mem": "8MB"}}}) with data.dbplatform.tiers as testlib.tiers
}

test_group_not_in_plan_is_left_to_unknown if {
	count(tls_enforced.violation) == 0 with input as testlib.with_fields({"related": {"parameter_groups": [{"address": null, "name": "ext", "parameters": {}, "known": false}], "source": null}, "unknown": ["related.parameter_groups"]}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_group_cannot_matter_for_an_engine_without_tls_parameters if {
	tls_enforced.not_applicable with input as testlib.with_fields({"engine": "sqlserver-ee", "related": {"parameter_groups": [{"address": null, "name": "x", "parameters": {}, "known": false}]}, "unknown": ["related.parameter_groups"]}) with data.dbplatform.tiers as testlib.tiers
	count(tls_enforced.violation) == 0 with input as testlib.with_fields({"engine": "sqlserver-ee", "related": {"parameter_groups": [{"address": null, "name": "x", "parameters": {}, "known": false}]}, "unknown": ["related.parameter_groups"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_group_matters_for_postgres if {
	not tls_enforced.not_applicable with input as testlib.with_fields({"related": {"parameter_groups": [{"address": null, "name": "x", "parameters": {}, "known": false}]}, "unknown": ["related.parameter_groups"]}) with data.dbplatform.tiers as testlib.tiers
	count(tls_enforced.violation) == 0 with input as testlib.with_fields({"related": {"parameter_groups": [{"address": null, "name": "x", "parameters": {}, "known": false}]}, "unknown": ["related.parameter_groups"]}) with data.dbplatform.tiers as testlib.tiers
}
