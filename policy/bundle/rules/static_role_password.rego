# METADATA
# title: "No static role password in configuration"
# description: "A password argument of a role is stored in clear text in plan files and state; short-lived logins (the dbplatform_credentials ephemeral resource) and write-only passwords (dbplatform_role password_wo, Terraform 1.11+) never are."
# custom:
#   id: DBP-ACC-004
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Use dbplatform_role with login = false and issue dbplatform_credentials for each run, or, for a static login, dbplatform_role password_wo with password_wo_version (Terraform 1.11+); remove password from postgresql_role."
#   applies_to: [role]
#   attributes: [settings.plaintext_password_set]
package dbplatform.rules.static_role_password

import rego.v1

# Instances and clusters have their own rule for a master password (DBP-SEC-001).
violation contains {"msg": msg, "path": "plaintext_password_set"} if {
	input.kind == "role"
	input.settings.plaintext_password_set == true
	msg := sprintf("%s sets a role password in configuration, so it is stored in plan files and state", [input.address])
}
