package dbplatform.rules.engine_version_supported_test

import rego.v1

import data.dbplatform.rules.engine_version_supported
import data.dbplatform.testlib

test_postgres_16_passes if {
	count(engine_version_supported.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_postgres_12_fails if {
	vs := engine_version_supported.violation with input as testlib.with_fields({"engine_major": "12"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "engine_major"
	contains(v.msg, "end-of-life")
}

test_postgres_9_6_fails if {
	vs := engine_version_supported.violation with input as testlib.with_fields({"engine_major": "9.6"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "engine_major"
}

test_mysql_5_7_fails if {
	vs := engine_version_supported.violation with input as testlib.with_fields({"engine": "mysql", "engine_major": "5.7"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "engine_major"
}

test_mysql_8_0_passes if {
	count(engine_version_supported.violation) == 0 with input as testlib.with_fields({"engine": "mysql", "engine_major": "8.0"}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_major_cannot_matter_for_an_engine_without_eol_list if {
	engine_version_supported.not_applicable with input as testlib.with_fields({"engine": "sqlserver-ee", "engine_major": null, "unknown": ["engine_major"]}) with data.dbplatform.tiers as testlib.tiers
	count(engine_version_supported.violation) == 0 with input as testlib.with_fields({"engine": "sqlserver-ee", "engine_major": null, "unknown": ["engine_major"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_major_matters_for_postgres if {
	not engine_version_supported.not_applicable with input as testlib.with_fields({"engine_major": null, "unknown": ["engine_major"]}) with data.dbplatform.tiers as testlib.tiers
	count(engine_version_supported.violation) == 0 with input as testlib.with_fields({"engine_major": null, "unknown": ["engine_major"]}) with data.dbplatform.tiers as testlib.tiers
}
