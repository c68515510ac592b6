# METADATA
# title: "No VACUUM FULL or CLUSTER in migrations"
# description: "VACUUM FULL and CLUSTER rewrite the whole table under an ACCESS EXCLUSIVE lock: no reads or writes until the copy is done."
# custom:
#   id: DBP-MIG-010
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Reclaim space online instead: plain VACUUM (no lock on reads or writes), or pg_repack / pg_squeeze, which rebuild the table with only brief locks; to order rows, rely on an index rather than CLUSTER."
#   references:
#     squawk: [ban-vacuum-full]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_vacuum_full_cluster

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "vacuum"
	s.options.full
	msg := sprintf("VACUUM FULL%s rewrites the table under an ACCESS EXCLUSIVE lock", [on(s)])
}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "cluster"
	msg := sprintf("CLUSTER%s rewrites the table under an ACCESS EXCLUSIVE lock", [on(s)])
}

on(s) := sprintf(" %s", [s.relation]) if {
	s.relation != null
} else := " (every table)"
