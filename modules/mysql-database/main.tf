# Golden-path MySQL (aws backend only): one dbplatform_database whose settings come from its tier and the tags
# every database must carry.
#
# The module declares no provider block: the caller's `provider "dbplatform"` (with backend = "aws") decides
# where the database runs. `parameters` go into a parameter group the provider manages for this database
# (`dbplatform-<name>`), created with the TLS (require_secure_transport) and tier baselines. Restore tests run
# on the local backend, which serves PostgreSQL only, so this module has none.

locals {
  # The required tags come last so extra_tags can never replace them (the variable's validation also refuses it).
  tags = merge(var.extra_tags, {
    owner               = var.owner
    cost_center         = var.cost_center
    data_classification = var.data_classification
  })

  # MySQL user names are at most 16 characters: the provider's default (<db_name>_admin) is too long for most names.
  master_username = var.master_username != null ? var.master_username : "${substr(replace(var.name, "-", "_"), 0, 10)}_admin"
}

# The tier's settings, for the outputs.
data "dbplatform_tier" "this" {
  name = var.tier
}

resource "dbplatform_database" "this" {
  name                = var.name
  engine              = "mysql"
  engine_version      = var.engine_version
  tier                = var.tier
  instance_class      = var.instance_class
  master_username     = local.master_username
  parameters          = length(var.parameters) > 0 ? var.parameters : null
  kms_key_id          = var.kms_key_id
  backup_window       = var.backup_window
  monitoring_role_arn = var.monitoring_role_arn
  skip_final_snapshot = var.skip_final_snapshot
  tags                = local.tags

  # Cross-region backup replication (tier-0): the tier picks the region, the key must be one of that region.
  backup_replication_kms_key_id = var.backup_replication_kms_key_id
}
