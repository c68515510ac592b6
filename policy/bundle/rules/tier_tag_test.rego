package dbplatform.rules.tier_tag_test

import rego.v1

import data.dbplatform.rules.tier_tag
import data.dbplatform.testlib

test_matching_tag_passes if {
	count(tier_tag.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_other_tag_fails if {
	vs := tier_tag.violation with input as testlib.with_fields({"tags": object.union(testlib.instance.tags, {"tier": "tier-3"})}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tags.tier"
	contains(v.msg, "tier tag is tier-3")
}

test_missing_tag_fails if {
	vs := tier_tag.violation with input as testlib.with_field("tags", object.remove(testlib.instance.tags, ["tier"])) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tags.tier"
}

test_assumed_tier_is_not_a_tag_mismatch if {
	inp := object.union(testlib.with_field("tags", object.remove(testlib.instance.tags, ["tier"])), {"tier": "tier-0", "tier_assumed": true})
	count(tier_tag.violation) == 0 with input as inp with data.dbplatform.tiers as testlib.tiers
}
