package dbplatform.rules.tier_backend_allowed_test

import rego.v1

import data.dbplatform.rules.tier_backend_allowed
import data.dbplatform.testlib

test_aws_backend_passes if {
	count(tier_backend_allowed.violation) == 0 with input as testlib.instance with data.dbplatform.tiers as testlib.tiers
}

test_tier_1_on_local_fails if {
	vs := tier_backend_allowed.violation with input as testlib.with_fields({"backend": "local", "type": "dbplatform_database"}) with data.dbplatform.tiers as testlib.tiers
	some v in vs
	v.path == "tier"
	contains(v.msg, "local backend")
}

test_tier_3_on_local_passes if {
	count(tier_backend_allowed.violation) == 0 with input as testlib.with_fields({"backend": "local", "type": "dbplatform_database", "tier": "tier-3"}) with data.dbplatform.tiers as testlib.tiers
}

# Unknown only when it matters: `not_applicable` settles a rule on the known values (the engine then passes it).

test_unknown_tier_cannot_matter_on_aws if {
	tier_backend_allowed.not_applicable with input as testlib.with_fields({"tier": null, "unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
	count(tier_backend_allowed.violation) == 0 with input as testlib.with_fields({"tier": null, "unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
}

test_unknown_tier_matters_on_local if {
	not tier_backend_allowed.not_applicable with input as testlib.with_fields({"tier": null, "backend": "local", "unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
	count(tier_backend_allowed.violation) == 0 with input as testlib.with_fields({"tier": null, "backend": "local", "unknown": ["tier"]}) with data.dbplatform.tiers as testlib.tiers
}
