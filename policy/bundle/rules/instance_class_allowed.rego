# METADATA
# title: "The instance class must be allowed for the tier"
# description: "Each tier lists the instance families sized and priced for it; burstable classes in critical tiers run out of CPU credits under load."
# custom:
#   id: DBP-CLS-001
#   severity: medium
#   enforcement: hard-mandatory
#   remediation: "Pick an instance_class matching the tier's allowed_instance_classes, or leave it unset to get the tier's default_instance_class."
#   applies_to: [instance, replica, cluster, cluster_member]
#   attributes: [settings.instance_class, tier]
package dbplatform.rules.instance_class_allowed

import rego.v1

violation contains {"msg": msg, "path": "instance_class"} if {
	tier := data.dbplatform.tiers[input.tier]
	class := input.settings.instance_class
	is_string(class)
	not allowed(class, tier.allowed_instance_classes)
	msg := sprintf("%s uses instance class %s, which %s does not allow (allowed: %s)", [input.address, class, input.tier, concat(", ", tier.allowed_instance_classes)])
}

# A pattern matches the whole class; `*` stands for any run of characters (`db.r6g.*`). The usual shapes, no
# `*` or one, are plain string tests: a regular expression per pattern per resource is the slowest thing in the
# bundle on a plan of thousands of instances.
allowed(class, patterns) if {
	some p in patterns
	p == class
}

allowed(class, patterns) if {
	some p in patterns
	parts := split(p, "*")
	count(parts) == 2
	startswith(class, parts[0])
	endswith(class, parts[1])
	count(class) >= count(parts[0]) + count(parts[1])
}

allowed(class, patterns) if {
	some p in patterns
	count(split(p, "*")) > 2
	regex.match(sprintf("^%s$", [replace(regex.replace(p, `[.+?()|\[\]{}^$\\]`, `\$0`), "*", ".*")]), class)
}

# Unknown values cannot change the outcome when the known tier is not in the catalogue (DBP-TIER-002 reports it).
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier]
}
