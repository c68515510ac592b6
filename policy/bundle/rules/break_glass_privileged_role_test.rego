package dbplatform.rules.break_glass_privileged_role_test

import rego.v1

import data.dbplatform.rules.break_glass_privileged_role
import data.dbplatform.testlib

test_readwrite_and_readonly_pass if {
	every t in ["readwrite", "readonly", "monitoring"] {
		count(break_glass_privileged_role.violation) == 0 with input as testlib.break_glass_with({"role_template": t})
	}
}

test_migrator_needs_an_override if {
	vs := break_glass_privileged_role.violation with input as testlib.break_glass_with({"role_template": "migrator", "role_name": "orders_ddl"})
	some v in vs
	v.path == "role"
	contains(v.msg, "grants orders_ddl, a migrator role (above readwrite)")
}

test_a_role_no_template_bounds_needs_an_override if {
	vs := break_glass_privileged_role.violation with input as testlib.break_glass_with({"role_template": null, "role_name": "legacy_app"})
	some v in vs
	contains(v.msg, "grants legacy_app, a role no dbplatform_role template bounds")
}

test_a_revocation_is_never_held_back if {
	count(break_glass_privileged_role.violation) == 0 with input as testlib.break_glass_with({"role_template": "migrator", "active": false})
}

# Unknown only when it matters: a role created in the same apply has no template yet.

test_unknown_template_matters if {
	inp := object.union(object.remove(testlib.break_glass, ["after", "unknown"]), {"after": object.remove(testlib.break_glass.after, ["role_template"]), "unknown": ["role_template"]})
	count(break_glass_privileged_role.violation) == 0 with input as inp
	not break_glass_privileged_role.not_applicable with input as inp
}

test_unknown_template_cannot_matter_on_revocation if {
	inp := object.union(testlib.break_glass_with({"active": false}), {"unknown": ["role_template"]})
	break_glass_privileged_role.not_applicable with input as inp
}
