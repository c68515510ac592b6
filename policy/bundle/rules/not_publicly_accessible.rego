# METADATA
# title: "Databases must not be publicly accessible"
# description: "A publicly accessible instance gets a public IP and DNS name; one security group mistake then exposes the database to the internet."
# custom:
#   id: DBP-NET-001
#   severity: critical
#   enforcement: hard-mandatory
#   remediation: "Set publicly_accessible = false and reach the database through the VPC (bastion, VPN or PrivateLink)."
#   references:
#     checkov: [CKV_AWS_17]
#     trivy: [AVD-AWS-0180, AVD-AWS-0082]
#     securityhub: [RDS.2]
#   applies_to: [instance, replica, cluster_member]
#   backends: [aws]
#   attributes: [settings.publicly_accessible]
package dbplatform.rules.not_publicly_accessible

import rego.v1

violation contains {"msg": msg, "path": "publicly_accessible"} if {
	input.backend == "aws"
	input.settings.publicly_accessible == true
	msg := sprintf("%s is publicly accessible from the internet", [input.address])
}
