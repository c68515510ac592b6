# METADATA
# title: Storage must be encrypted at rest
# description: Unencrypted storage exposes data in snapshots and on retired disks.
# custom:
#   id: G-ENC-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: Set storage_encrypted = true.
#   references:
#     checkov: [CKV_AWS_16]
#     trivy: [AVD-AWS-0080]
#   applies_to: [instance, cluster]
#   attributes: [settings.storage_encrypted]
package dbplatform.rules.golden_encryption

import rego.v1

violation contains {"msg": "storage is not encrypted", "path": "storage_encrypted"} if {
	input.settings.storage_encrypted == false
}
