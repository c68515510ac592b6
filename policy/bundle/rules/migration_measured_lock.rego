# METADATA
# title: "A dry run holds no ACCESS EXCLUSIVE lock longer than the tier allows"
# description: "From `dbpolicy migration dry-run`: how long each statement held an ACCESS EXCLUSIVE lock on real data (a restored copy). While it is held nothing else can read or write the table. Limits: tier-0 0.5 s, tier-1 1 s, tier-2 5 s, tier-3 30 s."
# custom:
#   id: DBP-MIG-012
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Split the statement into steps that take weaker locks (see the DBP-MIG rule for its kind: CONCURRENTLY, NOT VALID then VALIDATE, expand and contract), or move the work that holds the lock (backfills, rewrites) out of the locked statement; keep other statements out of the transaction that holds the lock."
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_measured_lock

import rego.v1

limit_ms := {"tier-0": 500, "tier-1": 1000, "tier-2": 5000, "tier-3": 30000}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	# Only a dry run measures: a check skips the statements at once.
	input.migration.dry_run
	some s in input.migration.statements
	m := s.measured
	m.lock_mode == "AccessExclusiveLock"
	limit := object.get(limit_ms, input.tier, 500)
	m.lock_held_ms > limit
	msg := sprintf("the dry run held AccessExclusiveLock on %s for %v ms; %s allows %v ms", [m.relation, round(m.lock_held_ms), input.tier, limit])
}
