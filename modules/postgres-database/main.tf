# Golden-path PostgreSQL: one dbplatform_database whose settings come from its tier, the tags every database
# must carry, and (local backend) an optional restore test that proves the backups restore.
#
# The backend (local or aws) is the provider configuration's: this module declares no provider block, so the
# caller's `provider "dbplatform"` (or a `providers = { dbplatform = dbplatform.x }` mapping) decides where the
# database runs. On aws, `parameters` go into a parameter group the provider manages for this database
# (`dbplatform-<name>`), created with the TLS and tier baselines.

locals {
  # The required tags come last so extra_tags can never replace them (the variable's validation also refuses it).
  tags = merge(var.extra_tags, {
    owner               = var.owner
    cost_center         = var.cost_center
    data_classification = var.data_classification
  })
}

# The tier's settings, for the outputs (and for callers that want to show what the tier stands for).
data "dbplatform_tier" "this" {
  name = var.tier
}

resource "dbplatform_database" "this" {
  name                = var.name
  engine              = "postgres"
  engine_version      = var.engine_version
  tier                = var.tier
  instance_class      = var.instance_class
  parameters          = length(var.parameters) > 0 ? var.parameters : null
  kms_key_id          = var.kms_key_id
  backup_window       = var.backup_window
  monitoring_role_arn = var.monitoring_role_arn
  skip_final_snapshot = var.skip_final_snapshot
  tags                = local.tags

  # Cross-region backup replication (tier-0): the tier picks the region, the key must be one of that region.
  backup_replication_kms_key_id = var.backup_replication_kms_key_id
}

resource "dbplatform_restore_test" "this" {
  count       = var.restore_test ? 1 : 0
  database_id = dbplatform_database.this.id
  max_age     = var.restore_test_max_age

  dynamic "verify" {
    for_each = var.restore_test_checks
    content {
      name         = verify.value.name
      query        = verify.value.query
      expected     = verify.value.expected
      match_source = verify.value.expected == null ? true : null
    }
  }
}
