# A database the guardrails refuse at plan time: a tier-1 (business critical) database on the local backend,
# with deletion protection turned off. `terraform plan` fails with the rule id, the attribute and the fix.

terraform {
  required_providers {
    dbplatform = {
      source = "dbplatform/dbplatform"
    }
  }
}

variable "data_dir" {
  type = string
}

provider "dbplatform" {
  backend = "local"
  local {
    data_dir = var.data_dir
  }
}

resource "dbplatform_database" "payments" {
  name                = "payments"
  tier                = "tier-1"
  deletion_protection = false
  tags = {
    owner               = "payments-team"
    cost_center         = "cc-4711"
    data_classification = "confidential"
  }
}
