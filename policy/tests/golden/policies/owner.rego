# METADATA
# title: Databases carry an owner tag
# custom:
#   id: G-TAG-001
#   severity: low
#   enforcement: advisory
#   remediation: Add tags = { owner = "team" }.
package dbplatform.rules.golden_owner

import rego.v1

violation contains {"msg": "no owner tag", "path": "tags.owner"} if {
	not input.tags.owner
}
