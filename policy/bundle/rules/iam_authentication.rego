# METADATA
# title: "IAM database authentication should be enabled"
# description: "IAM authentication lets people and services log in with short-lived tokens tied to their IAM identity instead of shared long-lived passwords."
# custom:
#   id: DBP-IAM-001
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Set iam_database_authentication = true (iam_database_authentication_enabled on aws_db_instance/aws_rds_cluster)."
#   references:
#     checkov: [CKV_AWS_161, CKV_AWS_162]
#     trivy: [AVD-AWS-0176]
#     securityhub: [RDS.10, RDS.12]
#   applies_to: [instance, cluster]
#   backends: [aws]
#   attributes: [settings.iam_database_authentication]
package dbplatform.rules.iam_authentication

import rego.v1

violation contains {"msg": msg, "path": "iam_database_authentication"} if {
	input.backend == "aws"
	input.settings.iam_database_authentication == false
	msg := sprintf("%s does not enable IAM database authentication", [input.address])
}
