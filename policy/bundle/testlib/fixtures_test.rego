package dbplatform.testlib

import rego.v1

# Test fixtures shared by the rule tests (this file has no tests of its own; it ends in _test.rego so that
# `dbpolicy check` never loads it).

# A copy of policy/data/tiers.toml, so rule tests do not change meaning when the catalogue is tuned.
tiers := {
	"tier-0": {
		"description": "Mission critical: revenue stops when it is down. Multi-AZ, 35-day PITR, customer-managed KMS key.",
		"multi_az": true,
		"min_backup_retention_days": 35,
		"point_in_time_recovery": true,
		"deletion_protection": true,
		"allowed_instance_classes": [
			"db.r6g.*",
			"db.r7g.*",
			"db.r6i.*",
			"db.r7i.*",
			"db.x2g.*"
		],
		"default_instance_class": "db.r6g.large",
		"performance_insights": true,
		"monitoring_interval_seconds": 15,
		"min_tls_version": "1.2",
		"rpo_minutes": 5,
		"rto_minutes": 30,
		"allowed_backends": [
			"aws"
		],
		"customer_managed_kms_key": true,
		"max_exception_days": 30,
		"override_required_for_destroy": true,
		"cross_region_dr": true,
		"dr_region": "us-west-2",
		"replica_lag_objective_seconds": 60,
		"max_break_glass_hours": 4,
		"master_password_rotation_days": 30
	},
	"tier-1": {
		"description": "Business critical: customer-facing. Multi-AZ, 14-day PITR, customer-managed KMS key.",
		"multi_az": true,
		"min_backup_retention_days": 14,
		"point_in_time_recovery": true,
		"deletion_protection": true,
		"allowed_instance_classes": [
			"db.r6g.*",
			"db.r7g.*",
			"db.m6g.*",
			"db.m7g.*",
			"db.r6i.*",
			"db.m6i.*"
		],
		"default_instance_class": "db.m6g.large",
		"performance_insights": true,
		"monitoring_interval_seconds": 30,
		"min_tls_version": "1.2",
		"rpo_minutes": 15,
		"rto_minutes": 60,
		"allowed_backends": [
			"aws"
		],
		"customer_managed_kms_key": true,
		"max_exception_days": 60,
		"override_required_for_destroy": true,
		"cross_region_dr": false,
		"replica_lag_objective_seconds": 300,
		"max_break_glass_hours": 8,
		"master_password_rotation_days": 60
	},
	"tier-2": {
		"description": "Internal services: single-AZ allowed, 7-day backups, deletion protection.",
		"multi_az": false,
		"min_backup_retention_days": 7,
		"point_in_time_recovery": true,
		"deletion_protection": true,
		"allowed_instance_classes": [
			"db.m6g.*",
			"db.m7g.*",
			"db.t4g.*",
			"db.m6i.*",
			"db.t3.*"
		],
		"default_instance_class": "db.t4g.medium",
		"performance_insights": true,
		"monitoring_interval_seconds": 60,
		"min_tls_version": "1.2",
		"rpo_minutes": 60,
		"rto_minutes": 240,
		"allowed_backends": [
			"aws",
			"local"
		],
		"customer_managed_kms_key": false,
		"max_exception_days": 90,
		"override_required_for_destroy": false,
		"cross_region_dr": false,
		"replica_lag_objective_seconds": 900,
		"max_break_glass_hours": 24,
		"master_password_rotation_days": 90
	},
	"tier-3": {
		"description": "Dev/test and sandboxes: smallest footprint, daily backups kept 1 day.",
		"multi_az": false,
		"min_backup_retention_days": 1,
		"point_in_time_recovery": false,
		"deletion_protection": false,
		"allowed_instance_classes": [
			"db.t4g.*",
			"db.t3.*",
			"local"
		],
		"default_instance_class": "db.t4g.micro",
		"performance_insights": false,
		"monitoring_interval_seconds": 0,
		"min_tls_version": "1.2",
		"rpo_minutes": 1440,
		"rto_minutes": 1440,
		"allowed_backends": [
			"aws",
			"local"
		],
		"customer_managed_kms_key": false,
		"max_exception_days": 180,
		"override_required_for_destroy": false,
		"cross_region_dr": false,
		"replica_lag_objective_seconds": 3600,
		"max_break_glass_hours": 72,
		"master_password_rotation_days": 180
	}
}

# A tier-1 PostgreSQL instance that passes every rule.
instance := {
	"schema": "dbplatform.input/v1",
	"address": "aws_db_instance.orders",
	"module": "",
	"type": "aws_db_instance",
	"name": "orders",
	"index": null,
	"kind": "instance",
	"action": "create",
	"backend": "aws",
	"engine": "postgres",
	"engine_major": "16",
	"tier": "tier-1",
	"tags": {"owner": "payments", "cost_center": "cc-42", "data_classification": "confidential", "tier": "tier-1"},
	"settings": {
		"storage_encrypted": true,
		"kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"multi_az": true,
		"backup_retention_days": 14,
		"backup_window": "03:00-04:00",
		"deletion_protection": true,
		"publicly_accessible": false,
		"iam_database_authentication": true,
		"log_exports": ["postgresql", "upgrade"],
		"performance_insights": true,
		"performance_insights_kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"monitoring_interval_seconds": 15,
		"auto_minor_version_upgrade": true,
		"copy_tags_to_snapshot": true,
		"managed_master_password": true,
		"plaintext_password_set": false,
		"master_username": "orders_admin",
		"instance_class": "db.r6g.large",
		"parameter_group_name": "orders-pg",
		"skip_final_snapshot": false,
		"final_snapshot_identifier": "orders-final",
	},
	"settings_before": null,
	"before": null,
	"after": {},
	"unknown": [],
	"sensitive": [],
	"paths": {"backup_retention_days": "backup_retention_period", "tier": "tags.tier"},
	"related": {
		"parameter_groups": [{"address": "aws_db_parameter_group.pg", "name": "orders-pg", "parameters": {"rds.force_ssl": "1"}, "known": true}],
		"source": null,
	},
	"context": {"source": "plan", "terraform_version": "1.0.3", "format_version": "0.2"},
}

# The instance with some settings changed.
with_settings(patch) := object.union(instance, {"settings": object.union(instance.settings, patch)})

# The instance with some top-level fields changed.
with_fields(patch) := object.union(instance, patch)

# The instance with one top-level field replaced as a whole (object.union would merge nested objects).
with_field(key, value) := object.union(object.remove(instance, [key]), {key: value})

# A break-glass grant on a tier-1 database that passes every rule: a readwrite role for 2 hours, with reason,
# ticket and approver.
break_glass := {
	"schema": "dbplatform.input/v1",
	"address": "dbplatform_break_glass.oncall",
	"type": "dbplatform_break_glass",
	"kind": "break_glass",
	"action": "create",
	"backend": "local",
	"tier": "tier-1",
	"tags": {},
	"unknown": [],
	"after": {
		"database_id": "orders",
		"person": "alice@example.com",
		"role_id": "orders/orders_rw",
		"role_name": "orders_rw",
		"role_template": "readwrite",
		"ttl": "2h",
		"ttl_seconds": 7200,
		"reason": "INC-42: stuck batch job",
		"ticket": "INC-42",
		"approved_by": "bob@example.com",
		"active": true,
	},
}

# The break-glass grant with some attributes changed.
break_glass_with(patch) := object.union(break_glass, {"after": object.union(break_glass.after, patch)})

# A role of the community PostgreSQL provider that passes every rule.
postgresql_role := {
	"schema": "dbplatform.input/v1",
	"address": "postgresql_role.app",
	"type": "postgresql_role",
	"kind": "role",
	"action": "create",
	"backend": "aws",
	"tier": null,
	"tags": {},
	"unknown": [],
	"settings": {"plaintext_password_set": false},
	"after": {"name": "app", "login": true, "superuser": false, "create_role": false, "replication": false, "bypass_row_level_security": false, "roles": ["app_readonly"]},
}
