# METADATA
# title: "No database role with superuser or server-file privileges"
# description: "A role that is superuser, can create roles, replicate or bypass row-level security, or that can read, write or run files on the database server, can take over the database and the machine; no role made from Terraform gets one, whichever provider makes it (dbplatform_role templates never do; the community PostgreSQL provider's postgresql_role, postgresql_grant_role and postgresql_grant can)."
# custom:
#   id: DBP-ACC-003
#   severity: critical
#   enforcement: hard-mandatory
#   remediation: "Use a dbplatform_role template (readonly, readwrite, migrator, monitoring) instead; remove superuser/create_role/replication/bypass_row_level_security and the pg_read_server_files, pg_write_server_files and pg_execute_server_program memberships."
#   applies_to: [role, grant]
#   attributes: [superuser, create_role, replication, bypass_row_level_security, roles, grant_role, objects, template]
package dbplatform.rules.no_privileged_roles

import rego.v1

# Role attributes of postgresql_role that amount to administrative power over the server.
privileged_attributes := {
	"superuser": "SUPERUSER",
	"create_role": "CREATEROLE",
	"replication": "REPLICATION",
	"bypass_row_level_security": "BYPASSRLS",
}

# Predefined roles that reach the server's files and programs.
server_file_roles := {"pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"}

# Functions that read the server's files or run its programs (granted EXECUTE, they are the same power).
server_file_functions := {"pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export"}

templates := {"readonly", "readwrite", "migrator", "monitoring"}

violation contains {"msg": msg, "path": attr} if {
	input.type == "postgresql_role"
	some attr, keyword in privileged_attributes
	input.after[attr] == true
	msg := sprintf("%s makes a %s role; no role from Terraform may have it", [input.address, keyword])
}

violation contains {"msg": msg, "path": sprintf("roles.%d", [i])} if {
	input.type == "postgresql_role"
	some i, r in input.after.roles
	r in server_file_roles
	msg := sprintf("%s is made a member of %s, which reaches the database server's files", [input.address, r])
}

violation contains {"msg": msg, "path": "grant_role"} if {
	input.type == "postgresql_grant_role"
	input.after.grant_role in server_file_roles
	msg := sprintf("%s grants %s to %s, which reaches the database server's files", [input.address, input.after.grant_role, object.get(input.after, "role", "a role")])
}

violation contains {"msg": msg, "path": sprintf("objects.%d", [i])} if {
	input.type == "postgresql_grant"
	lower(input.after.object_type) == "function"
	some i, f in input.after.objects
	f in server_file_functions
	msg := sprintf("%s grants EXECUTE on %s, which reaches the database server's files", [input.address, f])
}

violation contains {"msg": msg, "path": "template"} if {
	input.type == "dbplatform_role"
	t := input.after.template
	not t in templates
	msg := sprintf("%s uses template %v, which is none of readonly, readwrite, migrator, monitoring", [input.address, t])
}

# A dbplatform_role's template settles it: its attributes and memberships come from the template.
not_applicable if {
	input.type == "dbplatform_role"
	input.after.template in templates
}
