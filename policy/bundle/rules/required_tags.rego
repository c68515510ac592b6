# METADATA
# title: "Databases must carry the owner, cost_center and data_classification tags"
# description: "Ownership, cost allocation and data handling all start from these tags; untagged databases become orphans nobody can be paged for."
# custom:
#   id: DBP-TAG-001
#   severity: medium
#   enforcement: hard-mandatory
#   remediation: "Add the missing tags (or set them once in the provider's default_tags)."
#   applies_to: [instance, cluster, replica, cluster_member]
#   attributes: [tags.owner, tags.cost_center, tags.data_classification]
package dbplatform.rules.required_tags

import rego.v1

required := ["owner", "cost_center", "data_classification"]

violation contains {"msg": msg, "path": sprintf("tags.%s", [t])} if {
	some t in required
	not non_empty(object.get(input.tags, t, ""))
	msg := sprintf("%s has no %s tag", [input.address, t])
}

non_empty(v) if {
	is_string(v)
	trim_space(v) != ""
}
