package dbplatform.rules.cross_region_kms_test

import rego.v1

import data.dbplatform.rules.cross_region_kms
import data.dbplatform.testlib

database(target, key) := object.union(testlib.with_settings({"region": "us-east-1", "backup_replication_region": target, "backup_replication_kms_key_id": key}), {"type": "dbplatform_database", "tier": "tier-0"})

# A replica in `region` of an encrypted source in us-east-1.
replica(type, region, key) := object.union(testlib.with_settings({"region": region, "kms_key_id": key}), {"type": type, "kind": "replica", "related": {"parameter_groups": [], "source": {"address": "aws_db_instance.primary", "storage_encrypted": true, "kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/p", "region": "us-east-1"}}})

test_backups_with_a_key_of_the_target_region_pass if {
	count(cross_region_kms.violation) == 0 with input as database("us-west-2", "arn:aws:kms:us-west-2:111122223333:key/dr") with data.dbplatform.tiers as testlib.tiers
	count(cross_region_kms.violation) == 0 with input as database("us-west-2", "alias/dr-backups") with data.dbplatform.tiers as testlib.tiers
}

test_backups_without_a_key_fail if {
	vs := cross_region_kms.violation with input as database("us-west-2", null) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "backup_replication_kms_key_id"
	contains(v.msg, "replicates its encrypted backups to us-west-2 without a KMS key")
}

test_backups_with_a_key_of_the_source_region_fail if {
	vs := cross_region_kms.violation with input as database("us-west-2", "arn:aws:kms:us-east-1:111122223333:key/p") with data.dbplatform.tiers as testlib.tiers
	some v in vs
	contains(v.msg, "which is in us-east-1: use a key of us-west-2")
}

test_no_backup_replication_needs_no_key if {
	count(cross_region_kms.violation) == 0 with input as database(null, null) with data.dbplatform.tiers as testlib.tiers
	count(cross_region_kms.violation) == 0 with input as database("", null) with data.dbplatform.tiers as testlib.tiers
}

test_cross_region_replica_without_a_key_fails if {
	vs := cross_region_kms.violation with input as replica("aws_db_instance", "eu-west-1", null) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "kms_key_id"
	contains(v.msg, "replicates encrypted aws_db_instance.primary into eu-west-1 without a KMS key")
}

test_cross_region_replica_with_a_key_of_its_region_passes if {
	count(cross_region_kms.violation) == 0 with input as replica("aws_db_instance", "eu-west-1", "arn:aws:kms:eu-west-1:111122223333:key/r") with data.dbplatform.tiers as testlib.tiers
}

test_cross_region_replica_with_the_source_key_fails if {
	count(cross_region_kms.violation) == 1 with input as replica("aws_db_instance", "eu-west-1", "arn:aws:kms:us-east-1:111122223333:key/p") with data.dbplatform.tiers as testlib.tiers
}

test_same_region_replica_needs_no_key if {
	count(cross_region_kms.violation) == 0 with input as replica("aws_db_instance", "us-east-1", null) with data.dbplatform.tiers as testlib.tiers
}

test_dbplatform_replica_in_another_region_needs_a_key_even_without_its_source_in_view if {
	inp := object.union(replica("dbplatform_replica", "eu-west-1", null), {"related": {"parameter_groups": [], "source": null}})
	count(cross_region_kms.violation) == 1 with input as inp with data.dbplatform.tiers as testlib.tiers
	count(cross_region_kms.violation) == 0 with input as object.union(replica("dbplatform_replica", null, null), {"related": {"parameter_groups": [], "source": null}}) with data.dbplatform.tiers as testlib.tiers
}

test_replica_of_an_unencrypted_source_is_left_to_dbp_enc_004 if {
	inp := replica("aws_db_instance", "eu-west-1", null)
	count(cross_region_kms.violation) == 0 with input as object.union(inp, {"related": {"source": {"storage_encrypted": false}}}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters.

test_unknown_key_cannot_matter_without_backup_replication if {
	inp := object.union(database("", null), {"unknown": ["settings.backup_replication_kms_key_id"]})
	cross_region_kms.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_unknown_key_matters_with_backup_replication if {
	inp := object.union(testlib.with_field("settings", object.remove(database("us-west-2", null).settings, ["backup_replication_kms_key_id"])), {"type": "dbplatform_database", "unknown": ["settings.backup_replication_kms_key_id"]})
	not cross_region_kms.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
	count(cross_region_kms.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_unknown_key_cannot_matter_on_a_raw_instance if {
	cross_region_kms.not_applicable with input as object.union(testlib.instance, {"unknown": ["settings.kms_key_id", "settings.region"]}) with data.dbplatform.tiers as testlib.tiers
}
