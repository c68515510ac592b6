# Failover drill on this machine: a PostgreSQL database, a streaming replica of it (a hot standby over TLS), and a
# drill that kills the primary, promotes the replica, measures RTO and RPO with a write probe, and switches back.
#
#   terraform apply -var drill=false   # the database and its replica
#   terraform apply                    # the drill (re-run once older than max_age)
#   terraform output drill             # the figures

terraform {
  required_providers {
    dbplatform = {
      source = "dbplatform/dbplatform"
    }
  }
}

variable "data_dir" {
  description = "Where the local backend keeps databases, replicas, WAL archives and backups."
  type        = string
}

variable "drill" {
  description = "Run the failover drill."
  type        = bool
  default     = true
}

variable "failure" {
  description = "How the primary fails: \"stop\" (clean shutdown) or \"crash\" (SIGKILL)."
  type        = string
  default     = "crash"
}

provider "dbplatform" {
  backend = "local"
  local {
    data_dir = var.data_dir
  }
  policy {
    audit_log = "${var.data_dir}/audit.jsonl"
  }
  default_tags = {
    managed_by = "terraform"
    project    = "failover-drill"
  }
}

resource "dbplatform_database" "app" {
  name = "drill-demo"
  tier = "tier-3"
  tags = {
    owner               = "demo-team"
    cost_center         = "cc-1234"
    data_classification = "internal"
  }
}

resource "dbplatform_replica" "app" {
  name               = "drill-demo-ro"
  source_database_id = dbplatform_database.app.id
  # Checked like the database (dbpolicy check in CI): the required tags, and a tier tag matching its source's tier.
  tags = {
    owner               = "demo-team"
    cost_center         = "cc-1234"
    data_classification = "internal"
    tier                = "tier-3"
  }
}

resource "dbplatform_failover_drill" "app" {
  count       = var.drill ? 1 : 0
  database_id = dbplatform_database.app.id
  replica_id  = dbplatform_replica.app.id
  failure     = var.failure
  # Stricter than tier-3's 24 h objectives, to show what the drill is held to.
  max_rto_seconds = 60
  max_rpo_seconds = 5
  max_age         = "168h"
}

output "replica" {
  description = "The replica as refresh last read it."
  value = {
    status                  = dbplatform_replica.app.status
    replication_lag_seconds = dbplatform_replica.app.replication_lag_seconds
    replication_tls         = dbplatform_replica.app.replication_tls
    connection_string       = dbplatform_replica.app.connection_string
  }
}

output "drill" {
  description = "Evidence from the last failover drill."
  value = var.drill ? {
    succeeded         = dbplatform_failover_drill.app[0].succeeded
    failure           = dbplatform_failover_drill.app[0].failure
    rto_seconds       = dbplatform_failover_drill.app[0].rto_seconds
    rpo_seconds       = dbplatform_failover_drill.app[0].rpo_seconds
    rows_lost         = dbplatform_failover_drill.app[0].rows_lost
    max_rto_seconds   = dbplatform_failover_drill.app[0].max_rto_seconds
    max_rpo_seconds   = dbplatform_failover_drill.app[0].max_rpo_seconds
    topology_restored = dbplatform_failover_drill.app[0].topology_restored
  } : null
}
