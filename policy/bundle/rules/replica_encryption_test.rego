package dbplatform.rules.replica_encryption_test

import rego.v1

import data.dbplatform.rules.replica_encryption
import data.dbplatform.testlib

test_encrypted_source_passes if {
	count(replica_encryption.violation) == 0 with input as testlib.with_fields({"kind": "replica", "related": {"parameter_groups": [], "source": {"address": "aws_db_instance.primary", "storage_encrypted": true, "kms_key_id": null}}}) with data.dbplatform.tiers as testlib.tiers
}

test_unencrypted_source_fails if {
	vs := replica_encryption.violation with input as testlib.with_fields({"kind": "replica", "related": {"parameter_groups": [], "source": {"address": "aws_db_instance.primary", "storage_encrypted": false, "kms_key_id": null}}}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "related.source"
	contains(v.msg, "aws_db_instance.primary")
}

test_source_not_in_plan_is_left_to_unknown if {
	count(replica_encryption.violation) == 0 with input as testlib.with_fields({"kind": "replica", "unknown": ["related.source"], "related": {"parameter_groups": [], "source": null}}) with data.dbplatform.tiers as testlib.tiers
}
