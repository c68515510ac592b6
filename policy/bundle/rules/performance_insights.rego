# METADATA
# title: "Performance Insights must be on for tiers that require it"
# description: "Performance Insights keeps the query-level load history needed to diagnose slowdowns after the fact."
# custom:
#   id: DBP-MON-001
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Set performance_insights = true (performance_insights_enabled on aws_* resources)."
#   references:
#     checkov: [CKV_AWS_353]
#     trivy: [AVD-AWS-0133]
#   applies_to: [instance, replica, cluster_member]
#   backends: [aws]
#   attributes: [settings.performance_insights, tier]
package dbplatform.rules.performance_insights

import rego.v1

violation contains {"msg": msg, "path": "performance_insights"} if {
	input.backend == "aws"
	tier := data.dbplatform.tiers[input.tier]
	tier.performance_insights
	input.settings.performance_insights == false
	msg := sprintf("%s is %s, which requires Performance Insights", [input.address, input.tier])
}

# Unknown values cannot change the outcome when the known tier does not ask for Performance Insights (or is not
# in the catalogue), or when Performance Insights is known to be on.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].performance_insights
}

not_applicable if input.settings.performance_insights == true
