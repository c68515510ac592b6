# Inputs of the golden-path PostgreSQL module. Every input is checked here, at `terraform validate` / `plan`
# time, so a typo fails before anything reaches the provider or a cloud API, with a message that says what to
# write instead. The guardrails in the provider check the same rules again (policy bundle), so a configuration
# that bypasses this module is held to the same standard.

variable "name" {
  description = "Database identifier, unique per backend: 1-63 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen and without \"--\". Changing it replaces the database."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.name)) && length(regexall("--", var.name)) == 0
    error_message = "The name must be 1-63 lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain \"--\" (e.g. \"orders-db\")."
  }
}

variable "tier" {
  description = "Tier from the dbplatform tier catalogue: tier-0 (mission critical) ... tier-3 (dev/test). The tier sets Multi-AZ, backup retention, deletion protection, instance class and monitoring; tier-0 and tier-1 run on the aws backend only."
  type        = string

  validation {
    condition     = contains(["tier-0", "tier-1", "tier-2", "tier-3"], var.tier)
    error_message = "The tier must be one of tier-0, tier-1, tier-2, tier-3 (see data.dbplatform_tier or docs/guides/modules.md for what each tier means)."
  }
}

variable "owner" {
  description = "Team (or person) accountable for the database; becomes the required `owner` tag."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._@+/-]{0,127}$", var.owner))
    error_message = "The owner must be a team or person identifier of 1-128 characters without spaces: letters, digits and . _ @ + / - (e.g. \"payments-team\")."
  }
}

variable "cost_center" {
  description = "Cost center the database is billed to; becomes the required `cost_center` tag."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", var.cost_center))
    error_message = "The cost_center must be 1-64 letters, digits, dots, underscores or hyphens without spaces (e.g. \"cc-4711\")."
  }
}

variable "data_classification" {
  description = "Sensitivity of the data held: public, internal, confidential or restricted; becomes the required `data_classification` tag."
  type        = string

  validation {
    condition     = contains(["public", "internal", "confidential", "restricted"], var.data_classification)
    error_message = "The data_classification must be one of public, internal, confidential, restricted."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version, e.g. \"15\" or \"16\". null (the default) takes the backend's default (local: the newest installed PostgreSQL; aws: the platform default). Kept in state once created."
  type        = string
  default     = null

  validation {
    condition     = var.engine_version == null || can(regex("^[1-9][0-9]$", var.engine_version))
    error_message = "The engine_version must be a PostgreSQL major version of two digits such as \"15\" or \"16\", or null for the backend's default."
  }
}

variable "instance_class" {
  description = "Instance class, e.g. \"db.t4g.small\"; null (the default) takes the tier's default class. The tier allows only some classes (data.dbplatform_tier's allowed_instance_classes)."
  type        = string
  default     = null

  validation {
    condition     = var.instance_class == null || can(regex("^(db\\.[a-z0-9]+\\.[a-z0-9]+|local)$", var.instance_class))
    error_message = "The instance_class must look like \"db.<family>.<size>\" (e.g. \"db.t4g.small\"), or be null for the tier's default."
  }
}

variable "parameters" {
  description = "PostgreSQL settings, e.g. { work_mem = \"8MB\" }. On aws they go into the database's own parameter group (dbplatform-<name>); settings that need a restart are applied with one. TLS settings are fixed by the platform."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.parameters) : can(regex("^[a-z][a-z0-9_.]*$", k))])
    error_message = "Every parameters key must be a PostgreSQL setting name: lowercase letters, digits, _ and . (e.g. \"work_mem\")."
  }
}

variable "extra_tags" {
  description = "Further tags, e.g. { environment = \"prod\" }. owner, cost_center, data_classification and tier are set by the module and cannot be overridden here."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.extra_tags), ["owner", "cost_center", "data_classification", "tier"])) == 0
    error_message = "The extra_tags must not set owner, cost_center, data_classification or tier: use the module's variables of those names."
  }

  validation {
    condition     = alltrue([for k, v in var.extra_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !can(regex("^aws:", k))])
    error_message = "Every extra_tags key must be 1-128 characters and not start with \"aws:\", and every value at most 256 characters."
  }
}

variable "kms_key_id" {
  description = "aws only: customer-managed KMS key ARN for storage encryption. tier-0 and tier-1 require one (rule DBP-ENC-002); null elsewhere uses the AWS-managed key."
  type        = string
  default     = null
}

variable "backup_replication_kms_key_id" {
  description = "aws only: KMS key ARN in the tier's DR region (tier-0: us-west-2) that encrypts the automated backups replicated there. tier-0 requires one (rules DBP-DR-001, DBP-DR-002)."
  type        = string
  default     = null
}

variable "backup_window" {
  description = "aws only: daily backup window in UTC, \"HH:MM-HH:MM\". Tiers with point-in-time recovery require one on aws (rule DBP-BAK-002)."
  type        = string
  default     = null

  validation {
    condition     = var.backup_window == null || can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_window))
    error_message = "The backup_window must look like \"03:00-04:00\" (UTC, HH:MM-HH:MM)."
  }
}

variable "monitoring_role_arn" {
  description = "aws only: IAM role ARN that RDS enhanced monitoring uses. Needed when the tier turns enhanced monitoring on (tier-0 to tier-2)."
  type        = string
  default     = null
}

variable "skip_final_snapshot" {
  description = "Destroy without taking a final backup. Leave false outside throwaway environments."
  type        = bool
  default     = false
}

variable "restore_test" {
  description = "Create a dbplatform_restore_test (local backend only) that restores the latest backup into a scratch copy, runs pg_amcheck and the restore_test_checks, and records the achieved RPO/RTO."
  type        = bool
  default     = false
}

variable "restore_test_max_age" {
  description = "Age after which the next plan re-runs the restore test, e.g. \"24h\", \"7d\"."
  type        = string
  default     = "24h"

  validation {
    condition     = can(regex("^([0-9]+[dhms])+$", var.restore_test_max_age))
    error_message = "The restore_test_max_age must be a duration such as \"24h\", \"7d\" or \"1h30m\" (units d, h, m, s)."
  }
}

variable "restore_test_checks" {
  description = "Queries run on the restored copy: a list of { name, query, expected }. With expected = null the result must equal the same query on the source database (for data that does not change)."
  type = list(object({
    name     = string
    query    = string
    expected = string
  }))
  default = [{
    name     = "catalog readable"
    query    = "SELECT count(*) > 0 FROM pg_catalog.pg_class"
    expected = "t"
  }]

  validation {
    condition     = length(var.restore_test_checks) > 0 && alltrue([for c in var.restore_test_checks : c.name != null && trimspace(c.name) != "" && c.query != null && trimspace(c.query) != ""])
    error_message = "The restore_test_checks need at least one check, and every check a non-empty name and query."
  }
}
