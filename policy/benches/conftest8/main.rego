# A conftest-style policy (package main, deny rules over the raw plan JSON), used by scripts/bench.sh to
# compare `dbpolicy check --namespace main` with the dbplatform bundle on the same plans.
# Eight checks on aws_db_instance changes, the same ones the FACTS benchmark ran in regorus, rego-cpp and checkov.
package main

import rego.v1

db_changes contains rc if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
	some action in rc.change.actions
	action in {"create", "update"}
}

deny contains msg if {
	some rc in db_changes
	rc.change.after.storage_encrypted == false
	msg := sprintf("%s: storage is not encrypted", [rc.address])
}

deny contains msg if {
	some rc in db_changes
	rc.change.after.publicly_accessible == true
	msg := sprintf("%s: database is publicly accessible", [rc.address])
}

deny contains msg if {
	some rc in db_changes
	rc.change.after.backup_retention_period < 7
	msg := sprintf("%s: backup retention %d is below 7 days", [rc.address, rc.change.after.backup_retention_period])
}

deny contains msg if {
	some rc in db_changes
	rc.change.after.deletion_protection == false
	msg := sprintf("%s: deletion protection is off", [rc.address])
}

deny contains msg if {
	some rc in db_changes
	rc.change.after.multi_az == false
	msg := sprintf("%s: not multi-AZ", [rc.address])
}

deny contains msg if {
	some rc in db_changes
	not rc.change.after.tags.owner
	msg := sprintf("%s: no owner tag", [rc.address])
}

deny contains msg if {
	some rc in db_changes
	rc.change.after.iam_database_authentication_enabled == false
	msg := sprintf("%s: IAM authentication is off", [rc.address])
}

warn contains msg if {
	some rc in db_changes
	rc.change.after.performance_insights_enabled == false
	msg := sprintf("%s: Performance Insights is off", [rc.address])
}
