# METADATA
# title: "CONCURRENTLY never runs inside a transaction"
# description: "PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY inside a transaction block: the migration fails when it is deployed (or the tool silently runs it some other way)."
# custom:
#   id: DBP-MIG-002
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Move the concurrent statement out of BEGIN ... COMMIT into a migration of its own that the tool runs outside a transaction (e.g. `-- migrate:up transaction:false` for dbmate, `disable_ddl_transaction!` for Rails, `atomic = False` for Django, no --single-transaction for psql), with SET lock_timeout before it."
#   references:
#     squawk: [transaction-nesting]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_concurrently_in_transaction

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.options.concurrently
	s.transaction.in_transaction
	msg := sprintf("%s with CONCURRENTLY%s runs inside a transaction (%s), which PostgreSQL refuses", [s.node, on(s), where(s)])
}

on(s) := sprintf(" on %s", [s.relation]) if {
	s.relation != null
} else := ""

where(s) := sprintf("BEGIN on line %d", [s.transaction.begin_line]) if {
	s.transaction.explicit
} else := "the whole file runs in one transaction"
