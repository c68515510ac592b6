# METADATA
# title: "Indexes on existing tables are created and dropped CONCURRENTLY"
# description: "CREATE INDEX without CONCURRENTLY holds a SHARE lock that blocks every INSERT, UPDATE and DELETE on the table for the whole build; DROP INDEX without it takes an ACCESS EXCLUSIVE lock that blocks reads too."
# custom:
#   id: DBP-MIG-001
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Build it online: CREATE INDEX CONCURRENTLY IF NOT EXISTS idx ON t (col); outside any transaction (one statement per migration, or a migration marked non-transactional), and DROP INDEX CONCURRENTLY IF EXISTS idx; the same way. A concurrent build that fails leaves an INVALID index: drop it concurrently and run the migration again."
#   references:
#     squawk: [require-concurrent-index-creation, require-concurrent-index-deletion]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_index_concurrently

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind in {"create_index", "drop_index"}
	not s.options.concurrently
	not s.relation_is_new
	verb := {"create_index": "CREATE INDEX", "drop_index": "DROP INDEX"}[s.kind]
	lock := {"create_index": "a SHARE (blocks writes)", "drop_index": "an ACCESS EXCLUSIVE (blocks reads and writes)"}[s.kind]
	msg := sprintf("%s on %s without CONCURRENTLY holds %s lock on the table until it finishes", [verb, s.relation, lock])
}
