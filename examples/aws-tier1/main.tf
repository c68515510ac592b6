# A tier-1 (business critical) PostgreSQL database on Amazon RDS through the golden-path module, and a MySQL one
# beside it (optional). Runs against real AWS, or against the moto emulator for a dry run on a laptop:
#
#   moto_server -H 127.0.0.1 -p 5000 &
#   export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
#   terraform init
#   terraform apply -var endpoint=http://127.0.0.1:5000 \
#     -var kms_key_id=arn:aws:kms:us-east-1:123456789012:key/EXAMPLE -var monitoring_role_arn=arn:aws:iam::123456789012:role/rds-monitoring
#
# Tier-1 means Multi-AZ, 14-day point-in-time recovery, deletion protection, Performance Insights and 30 s
# enhanced monitoring: the module sets none of these, the tier does (see the `tier` output). Deletion protection
# is on, so `terraform destroy` is refused until it is turned off on purpose.

terraform {
  required_version = ">= 1.0.3"

  required_providers {
    dbplatform = {
      source = "dbplatform/dbplatform"
    }
  }
}

variable "region" {
  description = "AWS region the databases live in."
  type        = string
  default     = "us-east-1"
}

variable "endpoint" {
  description = "AWS API endpoint override, e.g. http://127.0.0.1:5000 for a local moto_server; null for real AWS."
  type        = string
  default     = null

  validation {
    condition     = var.endpoint == null || can(regex("^https?://[^\\s/]+", var.endpoint))
    error_message = "The endpoint must be an http:// or https:// URL such as \"http://127.0.0.1:5000\", or null for real AWS."
  }
}

variable "name" {
  description = "Identifier of the PostgreSQL database."
  type        = string
  default     = "payments"
}

variable "kms_key_id" {
  description = "Customer-managed KMS key ARN for storage encryption: tier-1 requires one (rule DBP-ENC-002)."
  type        = string
}

variable "monitoring_role_arn" {
  description = "IAM role ARN for RDS enhanced monitoring (tier-1 monitors every 30 s)."
  type        = string
}

variable "with_mysql" {
  description = "Also create a tier-1 MySQL database (<name>-mysql) through modules/mysql-database."
  type        = bool
  default     = false
}

provider "dbplatform" {
  backend = "aws"

  aws {
    region   = var.region
    endpoint = var.endpoint
  }

  default_tags = {
    managed_by = "terraform"
    example    = "aws-tier1"
  }
}

module "payments" {
  source = "../../modules/postgres-database"

  name                = var.name
  tier                = "tier-1"
  owner               = "payments-team"
  cost_center         = "cc-4711"
  data_classification = "confidential"
  engine_version      = "16"

  parameters = {
    log_min_duration_statement = "500"
  }

  kms_key_id          = var.kms_key_id
  backup_window       = "03:00-04:00"
  monitoring_role_arn = var.monitoring_role_arn

  extra_tags = {
    environment = "prod"
  }
}

module "ledger" {
  source = "../../modules/mysql-database"
  count  = var.with_mysql ? 1 : 0

  name                = "${var.name}-mysql"
  tier                = "tier-1"
  owner               = "payments-team"
  cost_center         = "cc-4711"
  data_classification = "confidential"
  engine_version      = "8.0"

  kms_key_id          = var.kms_key_id
  backup_window       = "03:00-04:00"
  monitoring_role_arn = var.monitoring_role_arn

  extra_tags = {
    environment = "prod"
  }
}

output "endpoint" {
  description = "Host and port of the PostgreSQL database."
  value       = "${module.payments.endpoint}:${module.payments.port}"
}

output "connection_string" {
  description = "libpq URI (no password; TLS required)."
  value       = module.payments.connection_string
}

output "secret_reference" {
  description = "Secrets Manager ARN of the master password."
  value       = module.payments.secret_reference
}

output "tier" {
  description = "What tier-1 gave the database."
  value       = module.payments.tier
}

output "mysql_connection_string" {
  description = "Connection URI of the MySQL database (null unless with_mysql)."
  value       = var.with_mysql ? module.ledger[0].connection_string : null
}
