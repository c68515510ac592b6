package dbplatform.rules.storage_encrypted_test

import rego.v1

import data.dbplatform.rules.storage_encrypted
import data.dbplatform.testlib

test_encrypted_passes if {
	count(storage_encrypted.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_unencrypted_fails if {
	vs := storage_encrypted.violation with input as testlib.with_settings({"storage_encrypted": false}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "storage_encrypted"
	contains(v.msg, "unencrypted")
}

test_local_backend_is_not_checked if {
	count(storage_encrypted.violation) == 0 with input as testlib.with_fields({"backend": "local", "type": "dbplatform_database", "settings": object.union(testlib.instance.settings, {"storage_encrypted": false})}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_value_gives_no_violation if {
	count(storage_encrypted.violation) == 0 with input as testlib.with_field("settings", object.remove(testlib.instance.settings, ["storage_encrypted"])) with data.dbplatform.tiers as testlib.tiers
}
