package dbplatform.rules.required_tags_test

import rego.v1

import data.dbplatform.rules.required_tags
import data.dbplatform.testlib

test_all_tags_passes if {
	count(required_tags.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_missing_owner_fails if {
	vs := required_tags.violation with input as testlib.with_field("tags", object.remove(testlib.instance.tags, ["owner"])) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tags.owner"
	contains(v.msg, "no owner tag")
}

test_blank_cost_center_fails if {
	vs := required_tags.violation with input as testlib.with_fields({"tags": object.union(testlib.instance.tags, {"cost_center": " "})}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tags.cost_center"
}

test_each_missing_tag_is_reported if {
	vs := required_tags.violation with input as testlib.with_field("tags", {}) with data.dbplatform.tiers as testlib.tiers
	{v.path | some v in vs} == {"tags.owner", "tags.cost_center", "tags.data_classification"}
}
