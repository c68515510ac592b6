# METADATA
# title: "Lock-taking statements run with a lock_timeout"
# description: "A statement that needs a strong lock waits behind any long transaction on the table, and every query that arrives after it queues behind it: without lock_timeout a one-millisecond ALTER can stop all traffic to the table for minutes."
# custom:
#   id: DBP-MIG-009
#   severity: medium
#   enforcement: soft-mandatory
#   remediation: "Start the migration with SET lock_timeout = '2s'; (and a statement_timeout for long statements), and let the deploy retry the migration when it times out, instead of waiting behind a long transaction while every other query queues."
#   references:
#     squawk: [require-timeout-settings]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_lock_timeout

import rego.v1

blocking := {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.expected_lock in blocking
	s.settings.lock_timeout == null
	msg := sprintf("%s takes %s on %s with no lock_timeout set before it", [s.node, s.expected_lock, s.relation])
}
