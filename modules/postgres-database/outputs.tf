output "id" {
  description = "Database id (its name); what dbplatform_restore_test.database_id and imports take."
  value       = dbplatform_database.this.id
}

output "name" {
  description = "Database identifier."
  value       = dbplatform_database.this.name
}

output "endpoint" {
  description = "Host to connect to."
  value       = dbplatform_database.this.endpoint
}

output "port" {
  description = "Port to connect to."
  value       = dbplatform_database.this.port
}

output "db_name" {
  description = "Application database inside the server."
  value       = dbplatform_database.this.db_name
}

output "master_username" {
  description = "Owner role of the application database."
  value       = dbplatform_database.this.master_username
}

output "connection_string" {
  description = "libpq URI with sslmode=require and without the password, e.g. postgresql://orders_admin@host:5432/orders?sslmode=require."
  value       = dbplatform_database.this.connection_string
}

output "secret_reference" {
  description = "Where the master password is kept, never the password itself: a 0600 file path (local) or a Secrets Manager ARN (aws)."
  value       = dbplatform_database.this.master_user_secret_path
}

output "engine_version" {
  description = "Full PostgreSQL version running, e.g. 15.13."
  value       = dbplatform_database.this.engine_version_actual
}

output "backend" {
  description = "Backend the database runs on: local or aws."
  value       = dbplatform_database.this.backend
}

output "tags" {
  description = "All tags on the database: the provider's default_tags, the module's required tags, extra_tags and the tier tag."
  value       = dbplatform_database.this.tags_all
}

output "tier" {
  description = "What the tier stands for (from data.dbplatform_tier) and what the database got: Multi-AZ, backup retention, deletion protection, instance class, RPO/RTO, monitoring, TLS."
  value = {
    name                      = data.dbplatform_tier.this.name
    description               = data.dbplatform_tier.this.description
    multi_az                  = data.dbplatform_tier.this.multi_az
    min_backup_retention_days = data.dbplatform_tier.this.min_backup_retention_days
    point_in_time_recovery    = data.dbplatform_tier.this.point_in_time_recovery
    deletion_protection       = data.dbplatform_tier.this.deletion_protection
    default_instance_class    = data.dbplatform_tier.this.default_instance_class
    allowed_instance_classes  = data.dbplatform_tier.this.allowed_instance_classes
    performance_insights      = data.dbplatform_tier.this.performance_insights
    min_tls_version           = data.dbplatform_tier.this.min_tls_version
    rpo_minutes               = data.dbplatform_tier.this.rpo_minutes
    rto_minutes               = data.dbplatform_tier.this.rto_minutes
    allowed_backends          = data.dbplatform_tier.this.allowed_backends
    instance_class            = dbplatform_database.this.instance_class
    backup_retention_days     = dbplatform_database.this.backup_retention_days
  }
}

output "policy_decision" {
  description = "Guardrail decision recorded at the last plan that changed the database (decision_id, outcome, counts)."
  value       = dbplatform_database.this.policy_decision
}

output "restore_test" {
  description = "Evidence from the last restore test (null without restore_test = true): succeeded, restore_seconds (RTO achieved), recovery_point (RPO achieved), checked_queries, integrity_check, results."
  value = var.restore_test ? {
    succeeded       = dbplatform_restore_test.this[0].succeeded
    restore_seconds = dbplatform_restore_test.this[0].restore_seconds
    recovery_point  = dbplatform_restore_test.this[0].recovery_point
    checked_queries = dbplatform_restore_test.this[0].checked_queries
    integrity_check = dbplatform_restore_test.this[0].integrity_check
    results         = dbplatform_restore_test.this[0].results
  } : null
}
