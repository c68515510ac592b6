# METADATA
# title: "The engine major version must not be end-of-life"
# description: "End-of-life majors get no security fixes and are force-upgraded by AWS at a time of its choosing (or billed as extended support)."
# custom:
#   id: DBP-VER-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Use a supported major version (PostgreSQL 13 or later, MySQL 8.0 or later) in engine_version or the parameter group family."
#   applies_to: [instance, replica, cluster, cluster_member, parameter_group, cluster_parameter_group]
#   attributes: [engine, engine_major]
package dbplatform.rules.engine_version_supported

import rego.v1

# The oldest supported major per engine (AWS RDS standard support).
oldest_supported := {
	"postgres": 13,
	"aurora-postgresql": 13,
	"mysql": 8.0,
	"aurora-mysql": 8.0,
	"mariadb": 10.5,
}

violation contains {"msg": msg, "path": "engine_major"} if {
	oldest := oldest_supported[input.engine]
	is_string(input.engine_major)
	to_number(input.engine_major) < oldest
	msg := sprintf("%s runs %s %s, which is end-of-life; use %v or later", [input.address, input.engine, input.engine_major, oldest])
}

# Unknown values cannot change the outcome when the known engine has no end-of-life list here.
not_applicable if {
	not "engine" in input.unknown
	not oldest_supported[input.engine]
}
