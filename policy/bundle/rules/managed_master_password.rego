# METADATA
# title: "The master password must be managed by Secrets Manager"
# description: "A password written in configuration ends up in plan files and state in clear text; a managed password is generated, stored and rotated by AWS."
# custom:
#   id: DBP-SEC-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Remove password/master_password and set manage_master_user_password = true (dbplatform_database always does)."
#   applies_to: [instance, cluster]
#   attributes: [settings.managed_master_password, settings.plaintext_password_set]
package dbplatform.rules.managed_master_password

import rego.v1

violation contains {"msg": msg, "path": "plaintext_password_set"} if {
	input.settings.plaintext_password_set == true
	msg := sprintf("%s sets its master password in configuration, so it is stored in plan files and state", [input.address])
}

violation contains {"msg": msg, "path": "managed_master_password"} if {
	input.settings.managed_master_password == false
	not input.settings.plaintext_password_set
	msg := sprintf("%s does not let Secrets Manager manage its master password", [input.address])
}
