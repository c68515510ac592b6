# METADATA
# title: "Replicas and cluster members must inherit encrypted storage"
# description: "A replica or cluster member stores the same data as its source; it is only encrypted when the primary instance or the cluster is."
# custom:
#   id: DBP-ENC-004
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Encrypt the source instance or cluster (storage_encrypted = true); replicas of an unencrypted source are unencrypted."
#   references:
#     checkov: [CKV_AWS_16]
#     securityhub: [RDS.3]
#   applies_to: [replica, cluster_member]
#   backends: [aws]
#   attributes: [related.source, related.source.storage_encrypted]
package dbplatform.rules.replica_encryption

import rego.v1

violation contains {"msg": msg, "path": "related.source"} if {
	input.backend == "aws"
	input.related.source.storage_encrypted == false
	msg := sprintf("%s takes its storage from %s, which is not encrypted", [input.address, input.related.source.address])
}
