# METADATA
# title: "Snapshots should carry the database's tags"
# description: "Tags on snapshots keep ownership, cost centre and data classification attached to copies of the data."
# custom:
#   id: DBP-TAG-005
#   severity: low
#   enforcement: advisory
#   remediation: "Set copy_tags_to_snapshot = true."
#   references:
#     checkov: [CKV2_AWS_60, CKV_AWS_313]
#     securityhub: [RDS.17, RDS.16]
#   applies_to: [instance, cluster]
#   backends: [aws]
#   attributes: [settings.copy_tags_to_snapshot]
package dbplatform.rules.copy_tags_to_snapshot

import rego.v1

violation contains {"msg": msg, "path": "copy_tags_to_snapshot"} if {
	input.backend == "aws"
	input.settings.copy_tags_to_snapshot == false
	msg := sprintf("%s does not copy its tags to snapshots", [input.address])
}
