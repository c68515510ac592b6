package dbplatform.rules.no_privileged_roles_test

import rego.v1

import data.dbplatform.rules.no_privileged_roles
import data.dbplatform.testlib

role_with(patch) := object.union(testlib.postgresql_role, {"after": object.union(testlib.postgresql_role.after, patch)})

test_a_plain_login_role_passes if {
	count(no_privileged_roles.violation) == 0 with input as testlib.postgresql_role
}

test_superuser_and_friends_fail if {
	every attr in ["superuser", "create_role", "replication", "bypass_row_level_security"] {
		vs := no_privileged_roles.violation with input as role_with({attr: true})
		some v in vs
		v.path == attr
	}
	vs := no_privileged_roles.violation with input as role_with({"superuser": true})
	some v in vs
	contains(v.msg, "postgresql_role.app makes a SUPERUSER role; no role from Terraform may have it")
}

test_server_file_membership_fails if {
	vs := no_privileged_roles.violation with input as role_with({"roles": ["app_readonly", "pg_read_server_files"]})
	some v in vs
	v.path == "roles.1"
	contains(v.msg, "member of pg_read_server_files")
}

test_grant_role_of_server_files_fails if {
	inp := {"type": "postgresql_grant_role", "kind": "grant", "address": "postgresql_grant_role.x", "after": {"role": "app", "grant_role": "pg_execute_server_program"}}
	vs := no_privileged_roles.violation with input as inp
	some v in vs
	v.path == "grant_role"
	contains(v.msg, "grants pg_execute_server_program to app")
}

test_grant_role_of_an_ordinary_role_passes if {
	inp := {"type": "postgresql_grant_role", "kind": "grant", "address": "postgresql_grant_role.x", "after": {"role": "app", "grant_role": "app_readonly"}}
	count(no_privileged_roles.violation) == 0 with input as inp
}

test_execute_on_file_functions_fails if {
	inp := {"type": "postgresql_grant", "kind": "grant", "address": "postgresql_grant.x", "after": {"role": "app", "object_type": "function", "objects": ["my_fn", "pg_read_file"], "privileges": ["EXECUTE"]}}
	vs := no_privileged_roles.violation with input as inp
	some v in vs
	v.path == "objects.1"
}

test_table_grants_pass if {
	inp := {"type": "postgresql_grant", "kind": "grant", "address": "postgresql_grant.x", "after": {"role": "app", "object_type": "table", "objects": [], "privileges": ["SELECT"]}}
	count(no_privileged_roles.violation) == 0 with input as inp
}

test_dbplatform_role_templates_pass if {
	every t in ["readonly", "readwrite", "migrator", "monitoring"] {
		inp := {"type": "dbplatform_role", "kind": "role", "address": "dbplatform_role.x", "after": {"template": t}}
		count(no_privileged_roles.violation) == 0 with input as inp
	}
}

# Unknown only when it matters.

test_unknown_attributes_cannot_matter_for_a_template_role if {
	inp := {"type": "dbplatform_role", "kind": "role", "address": "dbplatform_role.x", "after": {"template": "readonly"}, "unknown": ["superuser"]}
	no_privileged_roles.not_applicable with input as inp
}

test_unknown_superuser_matters_for_a_community_role if {
	inp := object.union(object.remove(testlib.postgresql_role, ["after", "unknown"]), {"after": {"name": "app"}, "unknown": ["superuser"]})
	count(no_privileged_roles.violation) == 0 with input as inp
	not no_privileged_roles.not_applicable with input as inp
}
