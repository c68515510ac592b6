# METADATA
# title: "Minor engine versions should be upgraded automatically"
# description: "Minor versions carry security fixes; applying them in the maintenance window keeps databases patched without tickets."
# custom:
#   id: DBP-MNT-001
#   severity: low
#   enforcement: soft-mandatory
#   remediation: "Set auto_minor_version_upgrade = true."
#   references:
#     checkov: [CKV_AWS_226]
#     securityhub: [RDS.13]
#   applies_to: [instance, replica, cluster_member]
#   backends: [aws]
#   attributes: [settings.auto_minor_version_upgrade]
package dbplatform.rules.auto_minor_version_upgrade

import rego.v1

violation contains {"msg": msg, "path": "auto_minor_version_upgrade"} if {
	input.backend == "aws"
	input.settings.auto_minor_version_upgrade == false
	msg := sprintf("%s does not apply minor engine upgrades automatically", [input.address])
}
