# METADATA
# title: "The master user must not have a well-known name"
# description: "Well-known administrator names (postgres, admin, root, ...) are the first ones guessed in credential-stuffing and brute-force attempts."
# custom:
#   id: DBP-SEC-002
#   severity: medium
#   enforcement: hard-mandatory
#   remediation: "Set master_username (username on aws_db_instance) to a name specific to the database, e.g. orders_admin."
#   references:
#     securityhub: [RDS.25, RDS.24]
#   applies_to: [instance, cluster]
#   attributes: [settings.master_username]
package dbplatform.rules.default_master_username

import rego.v1

well_known := {"admin", "administrator", "master", "root", "postgres", "mysql", "sa", "rdsadmin", "dbadmin", "user", "test", "awsuser"}

violation contains {"msg": msg, "path": "master_username"} if {
	name := input.settings.master_username
	is_string(name)
	lower(name) in well_known
	msg := sprintf("%s uses the well-known master username %q", [input.address, name])
}
