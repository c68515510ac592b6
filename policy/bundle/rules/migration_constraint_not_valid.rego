# METADATA
# title: "Constraints on existing tables are added NOT VALID, then validated"
# description: "ADD CONSTRAINT ... FOREIGN KEY or CHECK validates every row while holding a lock that blocks writes (a foreign key locks the referenced table too); SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock."
# custom:
#   id: DBP-MIG-004
#   severity: high
#   enforcement: soft-mandatory
#   remediation: "Two steps: ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (col) REFERENCES p (id) NOT VALID; (instant, only new rows are checked), then in a later statement or migration ALTER TABLE t VALIDATE CONSTRAINT c; (SHARE UPDATE EXCLUSIVE: reads and writes go on). For NOT NULL: ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; then SET NOT NULL, which uses the valid check instead of a scan."
#   references:
#     squawk: [adding-foreign-key-constraint, constraint-missing-not-valid, adding-not-nullable-field]
#   applies_to: [migration]
#   attributes: [migration.statements]
package dbplatform.rules.migration_constraint_not_valid

import rego.v1

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "alter_table"
	not s.relation_is_new
	some a in s.actions
	a.type == "add_constraint"
	a.constraint in {"foreign_key", "check"}
	not a.not_valid
	msg := sprintf("%s %s is added to %s without NOT VALID: every row is checked while writes are blocked%s", [kind(a), name(a), s.relation, referenced(a)])
}

violation contains {"msg": msg, "path": sprintf("line:%d", [s.line])} if {
	some s in input.migration.statements
	s.kind == "alter_table"
	not s.relation_is_new
	some a in s.actions
	a.type == "set_not_null"
	not validated_check(input.migration.statements, s)
	msg := sprintf("SET NOT NULL on %s.%s scans the whole table under an ACCESS EXCLUSIVE lock", [s.relation, a.column])
}

# A VALIDATE CONSTRAINT on the same table earlier in the migration: PostgreSQL 12+ then skips the scan.
validated_check(statements, s) if {
	some e in statements
	e.index < s.index
	e.relation == s.relation
	some a in e.actions
	a.type == "validate_constraint"
}

kind(a) := "foreign key" if {
	a.constraint == "foreign_key"
} else := "check constraint"

name(a) := a.constraint_name if {
	a.constraint_name != null
} else := "(unnamed)"

referenced(a) := sprintf(", and %s is locked too", [a.references]) if {
	a.references != null
} else := ""
