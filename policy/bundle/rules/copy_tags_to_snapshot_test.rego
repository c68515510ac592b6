package dbplatform.rules.copy_tags_to_snapshot_test

import rego.v1

import data.dbplatform.rules.copy_tags_to_snapshot
import data.dbplatform.testlib

test_copy_tags_passes if {
	count(copy_tags_to_snapshot.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_no_copy_tags_fails if {
	vs := copy_tags_to_snapshot.violation with input as testlib.with_settings({"copy_tags_to_snapshot": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "copy_tags_to_snapshot"
}
