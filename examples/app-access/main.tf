# Least-privilege access to a local database (Terraform 1.11+): a readonly and a readwrite role from templates,
# and a short-lived login for the readwrite role used by a provisioner. The login's password exists only while
# Terraform runs: it is never written to the plan or the state, and the login is dropped at the end of the run.
#
#   terraform init && terraform apply -var data_dir=/var/lib/dbplatform-example
#   terraform plan    # after someone runs `GRANT INSERT ON items TO app_readonly` by hand, this shows the drift

terraform {
  required_version = ">= 1.11.0"
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

provider "dbplatform" {
  backend = "local"
  local {
    data_dir = var.data_dir
  }
  default_tags = {
    managed_by = "terraform"
    project    = "app-access"
  }
}

resource "dbplatform_database" "app" {
  name = "app-access"
  tier = "tier-3"
  tags = {
    owner               = "demo-team"
    cost_center         = "cc-1234"
    data_classification = "internal"
  }
}

# For dashboards and analysts: SELECT on every table, also those created later.
resource "dbplatform_role" "readonly" {
  database_id = dbplatform_database.app.id
  name        = "app_readonly"
  template    = "readonly"
}

# For the application: reads and writes rows, cannot change the schema.
resource "dbplatform_role" "readwrite" {
  database_id      = dbplatform_database.app.id
  name             = "app_readwrite"
  template         = "readwrite"
  connection_limit = 50
}

# A login valid for 15 minutes, member of the readwrite role; never in plan or state.
ephemeral "dbplatform_credentials" "seed" {
  role_id = dbplatform_role.readwrite.id
  ttl     = "15m"
}

# Connects with the short-lived login, as a deploy step or smoke test would (psql must be on PATH).
resource "terraform_data" "check_login" {
  triggers_replace = [dbplatform_role.readwrite.id]
  provisioner "local-exec" {
    command = "psql -X -At -c 'SELECT current_user' \"$DATABASE_URL\""
    environment = {
      PGPASSWORD   = ephemeral.dbplatform_credentials.seed.password
      DATABASE_URL = "postgresql://${ephemeral.dbplatform_credentials.seed.username}@127.0.0.1:${dbplatform_database.app.port}/${dbplatform_database.app.db_name}?sslmode=require"
    }
  }
}

output "readonly_grants" {
  description = "What the readonly role holds, read from the database."
  value       = dbplatform_role.readonly.grants
}
