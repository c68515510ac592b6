package dbplatform.rules.log_exports_test

import rego.v1

import data.dbplatform.rules.log_exports
import data.dbplatform.testlib

test_postgresql_log_passes if {
	count(log_exports.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_no_logs_fails if {
	vs := log_exports.violation with input as testlib.with_settings({"log_exports": []}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "log_exports"
	contains(v.msg, "postgresql")
}

test_mysql_needs_slowquery if {
	vs := log_exports.violation with input as testlib.with_fields({"engine": "mysql", "engine_major": "8.0", "settings": object.union(testlib.instance.settings, {"log_exports": ["error"]})}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "log_exports"
	contains(v.msg, "slowquery")
}

test_resource_without_the_setting_is_not_judged if {
	count(log_exports.violation) == 0 with input as testlib.with_field("settings", object.remove(testlib.instance.settings, ["log_exports"])) with data.dbplatform.tiers as testlib.tiers
}

test_mysql_error_and_slowquery_passes if {
	count(log_exports.violation) == 0 with input as testlib.with_fields({"engine": "mysql", "engine_major": "8.0", "settings": object.union(testlib.instance.settings, {"log_exports": ["error", "slowquery", "general"]})}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_exports_cannot_matter_for_an_engine_without_required_logs if {
	log_exports.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["log_exports"])), {"engine": "sqlserver-ee", "unknown": ["settings.log_exports"]}) with data.dbplatform.tiers as testlib.tiers
	count(log_exports.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["log_exports"])), {"engine": "sqlserver-ee", "unknown": ["settings.log_exports"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_exports_matter_for_postgres if {
	not log_exports.not_applicable with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["log_exports"])), {"unknown": ["settings.log_exports"]}) with data.dbplatform.tiers as testlib.tiers
	count(log_exports.violation) == 0 with input as object.union(testlib.with_field("settings", object.remove(testlib.instance.settings, ["log_exports"])), {"unknown": ["settings.log_exports"]}) with data.dbplatform.tiers as testlib.tiers
}
