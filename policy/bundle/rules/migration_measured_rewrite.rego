# METADATA
# title: "A dry run rewrites no large table"
# description: "From `dbpolicy migration dry-run`: the statement changed the table's file node, so PostgreSQL copied every row under an ACCESS EXCLUSIVE lock; on production data that lasts as long as copying the table. Limits: tier-0 and tier-1 100,000 rows, tier-2 1,000,000, tier-3 10,000,000."
# custom:
#   id: DBP-MIG-013
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Avoid the rewrite: add columns without volatile defaults, change types by expand and contract (new column, backfill in batches, switch, drop the old one), and use pg_repack instead of VACUUM FULL or CLUSTER."
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_measured_rewrite

import rego.v1

limit_rows := {"tier-0": 100000, "tier-1": 100000, "tier-2": 1000000, "tier-3": 10000000}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	# Only a dry run measures: a check skips the statements at once.
	input.migration.dry_run
	some s in input.migration.statements
	m := s.measured
	m.rewrite
	rows := object.get(m, "relation_rows", 0)
	is_number(rows)
	limit := object.get(limit_rows, input.tier, 100000)
	rows > limit
	msg := sprintf("the dry run rewrote %s (%v rows); %s allows rewrites of tables up to %v rows", [m.relation, rows, input.tier, limit])
}
