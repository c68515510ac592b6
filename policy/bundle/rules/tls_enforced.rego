# METADATA
# title: "Connections must be forced to use TLS"
# description: "Without rds.force_ssl (PostgreSQL) or require_secure_transport (MySQL) clients may connect in clear text and expose credentials and data in transit."
# custom:
#   id: DBP-ENC-003
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Use a parameter group with rds.force_ssl = 1 (PostgreSQL) or require_secure_transport = ON (MySQL); dbplatform_database brings such a group by default."
#   references:
#     checkov: [CKV2_AWS_69]
#   applies_to: [instance, cluster, replica]
#   backends: [aws]
#   attributes: [related.parameter_groups, engine, engine_major]
package dbplatform.rules.tls_enforced

import rego.v1

family := "postgres" if input.engine in {"postgres", "aurora-postgresql"}

family := "mysql" if input.engine in {"mysql", "aurora-mysql", "mariadb"}

forced(params) if {
	family == "postgres"
	params["rds.force_ssl"] == "1"
}

forced(params) if {
	family == "mysql"
	lower(params.require_secure_transport) in {"on", "1", "true"}
}

hint := "rds.force_ssl = 1" if family == "postgres"

hint := "require_secure_transport = ON" if family == "mysql"

# A parameter group of the plan that does not force TLS.
violation contains {"msg": msg, "path": "parameter_group_name"} if {
	input.backend == "aws"
	family
	some g in input.related.parameter_groups
	g.known
	not forced(g.parameters)
	msg := sprintf("%s uses parameter group %v, which does not set %s", [input.address, object.get(g, "name", g.address), hint])
}

# No parameter group: the AWS default group forces TLS only for PostgreSQL 15 and later.
violation contains {"msg": msg, "path": "parameter_group_name"} if {
	input.backend == "aws"
	startswith(input.type, "aws_")
	family
	count(input.related.parameter_groups) == 0
	input.engine_major != null
	not default_group_forces_tls
	msg := sprintf("%s uses the default parameter group, which does not set %s", [input.address, hint])
}

default_group_forces_tls if {
	family == "postgres"
	to_number(input.engine_major) >= 15
}

# dbplatform resources bring a group that forces TLS; their `parameters` must not turn it off.
violation contains {"msg": msg, "path": "parameters"} if {
	input.backend == "aws"
	startswith(input.type, "dbplatform_")
	family
	params := input.after.parameters
	is_object(params)
	some key in {"rds.force_ssl", "require_secure_transport"}
	params[key]
	not forced(params)
	msg := sprintf("%s sets parameters.%s = %v, which turns off forced TLS", [input.address, key, params[key]])
}

# Unknown values cannot change the outcome when the known engine has no TLS parameter we know.
not_applicable if {
	not "engine" in input.unknown
	not family
}
