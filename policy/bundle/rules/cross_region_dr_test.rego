package dbplatform.rules.cross_region_dr_test

import rego.v1

import data.dbplatform.rules.cross_region_dr
import data.dbplatform.testlib

# A tier-0 dbplatform_database in us-east-1 with the given backup replication region.
tier0_database(target) := object.union(testlib.with_settings({"region": "us-east-1", "backup_replication_region": target, "backup_replication_kms_key_id": "arn:aws:kms:us-west-2:111122223333:key/dr"}), {"type": "dbplatform_database", "tier": "tier-0"})

# A tier-0 aws_db_instance in us-east-1 with the given related copies.
tier0_instance(related) := object.union(testlib.with_settings({"region": "us-east-1"}), {"tier": "tier-0", "related": object.union(testlib.instance.related, related)})

test_backup_replication_to_another_region_passes if {
	count(cross_region_dr.violation) == 0 with input as tier0_database("us-west-2") with data.dbplatform.tiers as testlib.tiers
}

test_tier0_without_backup_replication_fails_on_the_argument if {
	vs := cross_region_dr.violation with input as tier0_database(null) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "backup_replication_region"
	contains(v.msg, "tier-0, which must survive the loss of its region")
	contains(v.msg, "no read replica in another region and no automated backup replication")
}

test_opted_out_with_an_empty_region_fails if {
	count(cross_region_dr.violation) == 1 with input as tier0_database("") with data.dbplatform.tiers as testlib.tiers
}

test_backups_replicated_into_the_own_region_fail if {
	vs := cross_region_dr.violation with input as tier0_database("us-east-1") with data.dbplatform.tiers as testlib.tiers
	some v in vs
	contains(v.msg, "backups replicated to us-east-1, its own region")
}

test_raw_instance_without_a_copy_fails_on_the_resource if {
	vs := cross_region_dr.violation with input as tier0_instance({}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == ""
}

test_raw_instance_with_a_replica_in_another_region_passes if {
	count(cross_region_dr.violation) == 0 with input as tier0_instance({"replicas": [{"address": "aws_db_instance.dr", "region": "eu-west-1", "kms_key_id": null}]}) with data.dbplatform.tiers as testlib.tiers
}

test_raw_instance_with_a_same_region_replica_fails if {
	count(cross_region_dr.violation) == 1 with input as tier0_instance({"replicas": [{"address": "aws_db_instance.ro", "region": "us-east-1", "kms_key_id": null}]}) with data.dbplatform.tiers as testlib.tiers
	count(cross_region_dr.violation) == 1 with input as tier0_instance({"replicas": [{"address": "aws_db_instance.ro", "region": null, "kms_key_id": null}]}) with data.dbplatform.tiers as testlib.tiers
}

test_raw_instance_with_backups_replicated_elsewhere_passes if {
	count(cross_region_dr.violation) == 0 with input as tier0_instance({"backup_replications": [{"address": "aws_db_instance_automated_backups_replication.dr", "region": "us-west-2", "kms_key_id": "k"}]}) with data.dbplatform.tiers as testlib.tiers
}

test_tier1_needs_no_copy if {
	count(cross_region_dr.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_local_backend_is_not_checked if {
	count(cross_region_dr.violation) == 0 with input as object.union(tier0_database(null), {"backend": "local"}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters.

test_unknown_region_cannot_matter_on_tier_1 if {
	cross_region_dr.not_applicable with input as object.union(testlib.instance, {"unknown": ["settings.region"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_backup_region_matters_on_tier_0 if {
	inp := object.union(testlib.with_field("settings", object.remove(tier0_database(null).settings, ["backup_replication_region"])), {"type": "dbplatform_database", "tier": "tier-0", "unknown": ["settings.backup_replication_region"]})
	not cross_region_dr.not_applicable with input as inp with data.dbplatform.tiers as testlib.tiers
}

test_unknown_own_region_makes_the_violation_wait_for_it if {
	inp := object.union(testlib.with_field("settings", object.remove(tier0_database("us-west-2").settings, ["region"])), {"type": "dbplatform_database", "tier": "tier-0", "unknown": ["settings.region"]})
	vs := cross_region_dr.violation with input as inp with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "region"
}
