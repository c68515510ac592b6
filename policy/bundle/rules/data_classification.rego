# METADATA
# title: "The data_classification tag must use a known value"
# description: "Access reviews, backups and retention depend on the classification, so it must be one of public, internal, confidential or restricted."
# custom:
#   id: DBP-TAG-002
#   severity: medium
#   enforcement: hard-mandatory
#   remediation: "Set the data_classification tag to public, internal, confidential or restricted."
#   applies_to: [instance, cluster, replica, cluster_member]
#   attributes: [tags.data_classification]
package dbplatform.rules.data_classification

import rego.v1

allowed := {"public", "internal", "confidential", "restricted"}

violation contains {"msg": msg, "path": "tags.data_classification"} if {
	value := input.tags.data_classification
	not value in allowed
	msg := sprintf("%s has data_classification %q; use one of public, internal, confidential, restricted", [input.address, value])
}
