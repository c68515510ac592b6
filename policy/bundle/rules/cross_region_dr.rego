# METADATA
# title: "Tiers that must survive the loss of a region need a copy in another region"
# description: "A tier with cross_region_dr (tier-0 in the embedded catalogue) needs a read replica in another region or its automated backups replicated to another region: Multi-AZ standbys and same-region backups are lost with the region."
# custom:
#   id: DBP-DR-001
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "dbplatform_database: keep backup_replication_region (default: the tier's dr_region) set to a region other than the database's, with backup_replication_kms_key_id a KMS key of that region. aws_db_instance: add an aws_db_instance_automated_backups_replication (through a provider of another region) or a read replica in another region (replicate_source_db = the instance's ARN)."
#   applies_to: [instance]
#   backends: [aws]
#   attributes: [tier, settings.region, settings.backup_replication_region, related.replicas, related.backup_replications]
package dbplatform.rules.cross_region_dr

import rego.v1

violation contains {"msg": msg, "path": fault_path} if {
	input.backend == "aws"
	tier := data.dbplatform.tiers[input.tier]
	tier.cross_region_dr == true
	is_object(input.settings)
	not protected
	msg := sprintf("%s is %s, which must survive the loss of its region, but has %s", [input.address, input.tier, what_it_has])
}

# A region other than the instance's own. A null own region (not known to the plan) counts any named region.
elsewhere(r) if {
	is_string(r)
	r != ""
	r != input.settings.region
}

protected if elsewhere(input.settings.backup_replication_region)

protected if {
	some c in input.related.replicas
	elsewhere(c.region)
}

protected if {
	some c in input.related.backup_replications
	elsewhere(c.region)
}

what_it_has := sprintf("its backups replicated to %s, its own region", [input.settings.backup_replication_region]) if {
	r := input.settings.backup_replication_region
	is_string(r)
	r != ""
} else := "no read replica in another region and no automated backup replication to another region"

# The attribute at fault: the region when it is unknown (the outcome then waits for it), else the argument that
# turns backup replication on.
fault_path := "region" if {
	"settings.region" in input.unknown
} else := "backup_replication_region" if {
	input.type == "dbplatform_database"
} else := ""

# Unknown values cannot change the outcome when the known tier does not ask for cross-region protection (or is not
# in the catalogue), or when a known copy already lives in another known region.
not_applicable if {
	not "tier" in input.unknown
	not data.dbplatform.tiers[input.tier].cross_region_dr == true
}

not_applicable if {
	not "settings.region" in input.unknown
	protected
}
