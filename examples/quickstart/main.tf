# Quickstart: a tier-3 PostgreSQL database on this machine, and a restore test that proves its backups restore.
#
#   terraform apply -var restore_test=false   # the database (then load data, e.g. the demo's psql seed)
#   terraform apply                           # adds the restore test, which verifies the data in a restored copy
#
# The restore test is a separate step because it checks data that must exist before it runs.

terraform {
  required_providers {
    dbplatform = {
      source = "dbplatform/dbplatform"
    }
  }
}

variable "data_dir" {
  description = "Where the local backend keeps databases, WAL archives and backups."
  type        = string
}

variable "restore_test" {
  description = "Create the restore test (after the database holds the data it verifies)."
  type        = bool
  default     = true
}

provider "dbplatform" {
  backend = "local"
  local {
    data_dir = var.data_dir
  }
  default_tags = {
    managed_by = "terraform"
    project    = "quickstart"
  }
}

resource "dbplatform_database" "app" {
  name = "quickstart"
  tier = "tier-3"
  tags = {
    owner               = "demo-team"
    cost_center         = "cc-1234"
    data_classification = "internal"
    environment         = "dev"
  }
}

resource "dbplatform_restore_test" "app" {
  count       = var.restore_test ? 1 : 0
  database_id = dbplatform_database.app.id
  # A scheduled `terraform apply` re-runs the test once the evidence is older than this.
  max_age = "24h"

  verify {
    name     = "orders row count"
    query    = "SELECT count(*) FROM orders"
    expected = "1000"
  }

  verify {
    name         = "orders checksum"
    query        = "SELECT md5(string_agg(id || ':' || item || ':' || amount, ',' ORDER BY id)) FROM orders"
    match_source = true
  }
}

output "connection_string" {
  description = "libpq URI (no password)."
  value       = dbplatform_database.app.connection_string
}

output "psql_command" {
  description = "Connect with psql; the password is read from its 0600 file."
  value       = "PGPASSWORD=\"$(cat ${dbplatform_database.app.master_user_secret_path})\" psql '${dbplatform_database.app.connection_string}'"
}

output "restore_test" {
  description = "Evidence from the last restore test."
  value = var.restore_test ? {
    succeeded       = dbplatform_restore_test.app[0].succeeded
    restore_seconds = dbplatform_restore_test.app[0].restore_seconds
    recovery_point  = dbplatform_restore_test.app[0].recovery_point
    checked_queries = dbplatform_restore_test.app[0].checked_queries
    integrity_check = dbplatform_restore_test.app[0].integrity_check
  } : null
}
