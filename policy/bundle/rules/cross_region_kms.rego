# METADATA
# title: "Cross-region copies of encrypted data need a KMS key of the target region"
# description: "KMS keys are regional: a read replica in another region, or automated backups replicated to another region, of an encrypted database must name a key in that region, or it is refused by AWS (or, on emulators, silently stored with no usable key)."
# custom:
#   id: DBP-DR-002
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set backup_replication_kms_key_id (dbplatform_database) or kms_key_id (cross-region replica) to a KMS key ARN of the target region, e.g. arn:aws:kms:<target-region>:<account>:key/<id>."
#   applies_to: [instance, replica]
#   backends: [aws]
#   attributes: [settings.backup_replication_region, settings.backup_replication_kms_key_id, settings.region, settings.kms_key_id, related.source, related.source.storage_encrypted]
package dbplatform.rules.cross_region_kms

import rego.v1

# dbplatform_database on aws is always encrypted: its replicated backups need a key of the target region.
violation contains {"msg": msg, "path": "backup_replication_kms_key_id"} if {
	input.backend == "aws"
	input.type == "dbplatform_database"
	target := input.settings.backup_replication_region
	is_string(target)
	target != ""
	key := input.settings.backup_replication_kms_key_id
	problem := key_problem(key, target)
	msg := sprintf("%s replicates its encrypted backups to %s %s", [input.address, target, problem])
}

# A replica in another region than its encrypted source.
violation contains {"msg": msg, "path": "kms_key_id"} if {
	input.backend == "aws"
	input.kind == "replica"
	source_encrypted
	target := input.settings.region
	cross_region(target)
	key := input.settings.kms_key_id
	problem := key_problem(key, target)
	msg := sprintf("%s replicates encrypted %s into %s %s", [input.address, source_name, target, problem])
}

source_encrypted if input.related.source.storage_encrypted == true

# A dbplatform_replica's source is a dbplatform_database, always encrypted on aws.
source_encrypted if input.type == "dbplatform_replica"

source_name := input.related.source.address if is_object(input.related.source)

else := "its source"

# The replica names a region and it is not its source's (when the source's region is known).
cross_region(target) if {
	is_string(target)
	target != ""
	not same_as_source(target)
}

same_as_source(target) if input.related.source.region == target

# An ARN names its region; a bare key id or alias is looked up in the target region, so it is accepted.
key_problem(key, _) := "without a KMS key (the source's key cannot be used in another region)" if {
	not non_empty(key)
}

key_problem(key, target) := sprintf("with KMS key %s, which is in %s: use a key of %s", [key, key_region, target]) if {
	non_empty(key)
	startswith(key, "arn:")
	parts := split(key, ":")
	count(parts) >= 6
	key_region := parts[3]
	key_region != target
}

non_empty(k) if {
	is_string(k)
	k != ""
}

# Unknown values cannot change the outcome when nothing is copied to another region, or on an instance that has
# no backup replication arguments (aws_db_instance: its copies are resources of their own).
not_applicable if {
	input.kind == "instance"
	input.type != "dbplatform_database"
}

not_applicable if {
	input.type == "dbplatform_database"
	not "settings.backup_replication_region" in input.unknown
	not non_empty(input.settings.backup_replication_region)
}

not_applicable if {
	input.kind == "replica"
	not "settings.region" in input.unknown
	not non_empty(input.settings.region)
}
