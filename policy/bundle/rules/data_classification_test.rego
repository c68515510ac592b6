package dbplatform.rules.data_classification_test

import rego.v1

import data.dbplatform.rules.data_classification
import data.dbplatform.testlib

test_known_value_passes if {
	count(data_classification.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_unknown_value_fails if {
	vs := data_classification.violation with input as testlib.with_fields({"tags": object.union(testlib.instance.tags, {"data_classification": "secret"})}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tags.data_classification"
	contains(v.msg, "use one of")
}

test_missing_tag_is_left_to_required_tags if {
	count(data_classification.violation) == 0 with input as testlib.with_field("tags", object.remove(testlib.instance.tags, ["data_classification"])) with data.dbplatform.tiers as testlib.tiers
}
