# METADATA
# title: "Storage must be encrypted at rest"
# description: "Unencrypted storage exposes every row, backup and snapshot to anyone who reaches the volume, and encryption cannot be turned on after creation."
# custom:
#   id: DBP-ENC-001
#   severity: critical
#   enforcement: hard-mandatory
#   remediation: "Set storage_encrypted = true (dbplatform_database on aws always encrypts); an existing instance must be restored from an encrypted snapshot copy."
#   references:
#     checkov: [CKV_AWS_16, CKV_AWS_96]
#     trivy: [AVD-AWS-0080, AVD-AWS-0079]
#     securityhub: [RDS.3, RDS.27]
#   applies_to: [instance, cluster]
#   backends: [aws]
#   attributes: [settings.storage_encrypted]
package dbplatform.rules.storage_encrypted

import rego.v1

violation contains {"msg": msg, "path": "storage_encrypted"} if {
	input.backend == "aws"
	input.settings.storage_encrypted == false
	msg := sprintf("%s stores its data unencrypted at rest", [input.address])
}
