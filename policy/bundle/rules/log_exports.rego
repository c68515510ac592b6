# METADATA
# title: "Database logs must be exported to CloudWatch Logs"
# description: "Exported engine logs (postgresql; error and slowquery for MySQL) survive the instance and feed alerting and incident investigation."
# custom:
#   id: DBP-LOG-001
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Set log_exports (enabled_cloudwatch_logs_exports) to include [\"postgresql\"] for PostgreSQL or [\"error\", \"slowquery\"] for MySQL."
#   references:
#     checkov: [CKV_AWS_129]
#     securityhub: [RDS.9]
#   applies_to: [instance, cluster]
#   backends: [aws]
#   attributes: [settings.log_exports, engine]
package dbplatform.rules.log_exports

import rego.v1

required := {"postgresql"} if input.engine in {"postgres", "aurora-postgresql"}

required := {"error", "slowquery"} if input.engine in {"mysql", "aurora-mysql", "mariadb"}

violation contains {"msg": msg, "path": "log_exports"} if {
	input.backend == "aws"
	is_object(input.settings)
	exports := input.settings.log_exports
	exported := {x | some x in exports}
	missing := required - exported
	count(missing) > 0
	msg := sprintf("%s does not export the %s log(s) to CloudWatch Logs", [input.address, concat(", ", sort(missing))])
}

# Unknown values cannot change the outcome when the known engine has no required logs here.
not_applicable if {
	not "engine" in input.unknown
	not required
}
