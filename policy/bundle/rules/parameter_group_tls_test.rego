package dbplatform.rules.parameter_group_tls_test

import rego.v1

import data.dbplatform.rules.parameter_group_tls
import data.dbplatform.testlib

group(type, kind, params) := {
	"address": sprintf("%s.pg", [type]),
	"type": type,
	"kind": kind,
	"action": "create",
	"backend": "aws",
	"engine": "postgres",
	"engine_major": "16",
	"tier": "tier-1",
	"tags": {"tier": "tier-1"},
	"settings": {"family": "postgres16", "parameters": params},
	"unknown": [],
	"related": {"parameter_groups": [], "source": null},
}

test_forced_tls_passes if {
	inp := group("aws_db_parameter_group", "parameter_group", {"rds.force_ssl": "1", "ssl_min_protocol_version": "TLSv1.2"})
	count(parameter_group_tls.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_a_group_without_tls_parameters_passes if {
	inp := group("aws_db_parameter_group", "parameter_group", {"log_min_duration_statement": "500"})
	count(parameter_group_tls.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_force_ssl_off_fails if {
	inp := group("aws_db_parameter_group", "parameter_group", {"rds.force_ssl": "0"})
	vs := parameter_group_tls.violation with input as inp with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "parameters"
	contains(v.msg, "rds.force_ssl = 0")
}

test_require_secure_transport_off_fails_on_a_cluster_group if {
	inp := group("aws_rds_cluster_parameter_group", "cluster_parameter_group", {"require_secure_transport": "OFF"})
	vs := parameter_group_tls.violation with input as inp with data.dbplatform.tiers as testlib.tiers
	some v in vs
	contains(v.msg, "require_secure_transport = OFF")
}

test_require_secure_transport_zero_fails_on_a_dbplatform_group if {
	inp := group("dbplatform_parameter_group", "parameter_group", {"require_secure_transport": "0"})
	count(parameter_group_tls.violation) == 1 with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_old_postgres_tls_version_fails if {
	inp := group("aws_db_parameter_group", "parameter_group", {"rds.force_ssl": "1", "ssl_min_protocol_version": "TLSv1.1"})
	vs := parameter_group_tls.violation with input as inp with data.dbplatform.tiers as testlib.tiers
	some v in vs
	contains(v.msg, "requires TLS 1.2 or later")
}

test_old_mysql_tls_version_fails if {
	inp := group("aws_db_parameter_group", "parameter_group", {"tls_version": "TLSv1.1,TLSv1.2"})
	count(parameter_group_tls.violation) == 1 with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_new_mysql_tls_versions_pass if {
	inp := group("aws_db_parameter_group", "parameter_group", {"tls_version": "TLSv1.2,TLSv1.3"})
	count(parameter_group_tls.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters.
test_unknown_tier_cannot_matter_with_a_recent_tls_version if {
	inp := object.union(group("aws_db_parameter_group", "parameter_group", {"rds.force_ssl": "1", "ssl_min_protocol_version": "TLSv1.2"}), {"tier": null, "unknown": ["tier"]})
	parameter_group_tls.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_unknown_tier_matters_with_an_old_tls_version if {
	inp := object.union(group("aws_db_parameter_group", "parameter_group", {"ssl_min_protocol_version": "TLSv1.1"}), {"tier": null, "unknown": ["tier"]})
	not parameter_group_tls.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
	count(parameter_group_tls.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}
