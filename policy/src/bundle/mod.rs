//! The embedded default bundle: the golden-path guardrails every `dbpolicy` and provider binary carries.
//!
//! The `.rego` files live in `policy/bundle/` (one rule per module in `rules/`, its tests beside it in
//! `*_test.rego`, shared test fixtures in `testlib/`) and are compiled into the binary here, so a fresh install
//! enforces the same rules CI tests. A unit test checks this list against the directory, so a new file cannot be
//! forgotten.

/// One file of the default bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleFile {
    /// Path relative to `policy/bundle/`, e.g. `rules/storage_encrypted.rego`.
    pub path: &'static str,
    pub content: &'static str,
}

impl BundleFile {
    /// Test modules (`*_test.rego`) are for `dbpolicy test`, never for `check`.
    pub fn is_test(&self) -> bool {
        self.path.ends_with("_test.rego")
    }
}

macro_rules! file {
    ($p:literal) => {
        BundleFile {
            path: $p,
            content: include_str!(concat!("../../bundle/", $p)),
        }
    };
}

/// Every file of the default bundle (rules and their tests), sorted by path.
pub fn default_files() -> Vec<BundleFile> {
    vec![
        file!("rules/auto_minor_version_upgrade.rego"),
        file!("rules/auto_minor_version_upgrade_test.rego"),
        file!("rules/backup_retention.rego"),
        file!("rules/backup_retention_test.rego"),
        file!("rules/backup_window.rego"),
        file!("rules/backup_window_test.rego"),
        file!("rules/break_glass_bounds.rego"),
        file!("rules/break_glass_bounds_test.rego"),
        file!("rules/break_glass_privileged_role.rego"),
        file!("rules/break_glass_privileged_role_test.rego"),
        file!("rules/copy_tags_to_snapshot.rego"),
        file!("rules/copy_tags_to_snapshot_test.rego"),
        file!("rules/cross_region_dr.rego"),
        file!("rules/cross_region_dr_test.rego"),
        file!("rules/cross_region_kms.rego"),
        file!("rules/cross_region_kms_test.rego"),
        file!("rules/customer_managed_kms_key.rego"),
        file!("rules/customer_managed_kms_key_test.rego"),
        file!("rules/data_classification.rego"),
        file!("rules/data_classification_test.rego"),
        file!("rules/default_master_username.rego"),
        file!("rules/default_master_username_test.rego"),
        file!("rules/deletion_protection.rego"),
        file!("rules/deletion_protection_test.rego"),
        file!("rules/destroy_requires_override.rego"),
        file!("rules/destroy_requires_override_test.rego"),
        file!("rules/engine_version_supported.rego"),
        file!("rules/engine_version_supported_test.rego"),
        file!("rules/enhanced_monitoring.rego"),
        file!("rules/enhanced_monitoring_test.rego"),
        file!("rules/final_snapshot.rego"),
        file!("rules/final_snapshot_test.rego"),
        file!("rules/iam_authentication.rego"),
        file!("rules/iam_authentication_test.rego"),
        file!("rules/instance_class_allowed.rego"),
        file!("rules/instance_class_allowed_test.rego"),
        file!("rules/log_exports.rego"),
        file!("rules/log_exports_test.rego"),
        file!("rules/managed_master_password.rego"),
        file!("rules/managed_master_password_test.rego"),
        file!("rules/master_password_rotation.rego"),
        file!("rules/master_password_rotation_test.rego"),
        file!("rules/migration_bigint_primary_key.rego"),
        file!("rules/migration_bigint_primary_key_test.rego"),
        file!("rules/migration_column_type_change.rego"),
        file!("rules/migration_column_type_change_test.rego"),
        file!("rules/migration_concurrently_in_transaction.rego"),
        file!("rules/migration_concurrently_in_transaction_test.rego"),
        file!("rules/migration_constraint_not_valid.rego"),
        file!("rules/migration_constraint_not_valid_test.rego"),
        file!("rules/migration_drop.rego"),
        file!("rules/migration_drop_test.rego"),
        file!("rules/migration_index_concurrently.rego"),
        file!("rules/migration_index_concurrently_test.rego"),
        file!("rules/migration_lock_timeout.rego"),
        file!("rules/migration_lock_timeout_test.rego"),
        file!("rules/migration_measured_lock.rego"),
        file!("rules/migration_measured_lock_test.rego"),
        file!("rules/migration_measured_rewrite.rego"),
        file!("rules/migration_measured_rewrite_test.rego"),
        file!("rules/migration_not_null_column.rego"),
        file!("rules/migration_not_null_column_test.rego"),
        file!("rules/migration_rename.rego"),
        file!("rules/migration_rename_test.rego"),
        file!("rules/migration_unique_from_index.rego"),
        file!("rules/migration_unique_from_index_test.rego"),
        file!("rules/migration_vacuum_full_cluster.rego"),
        file!("rules/migration_vacuum_full_cluster_test.rego"),
        file!("rules/multi_az.rego"),
        file!("rules/multi_az_test.rego"),
        file!("rules/no_privileged_roles.rego"),
        file!("rules/no_privileged_roles_test.rego"),
        file!("rules/not_publicly_accessible.rego"),
        file!("rules/not_publicly_accessible_test.rego"),
        file!("rules/parameter_group_tls.rego"),
        file!("rules/parameter_group_tls_test.rego"),
        file!("rules/performance_insights.rego"),
        file!("rules/performance_insights_kms.rego"),
        file!("rules/performance_insights_kms_test.rego"),
        file!("rules/performance_insights_test.rego"),
        file!("rules/replica_encryption.rego"),
        file!("rules/replica_encryption_test.rego"),
        file!("rules/replica_lag.rego"),
        file!("rules/replica_lag_test.rego"),
        file!("rules/required_tags.rego"),
        file!("rules/required_tags_test.rego"),
        file!("rules/static_role_password.rego"),
        file!("rules/static_role_password_test.rego"),
        file!("rules/storage_encrypted.rego"),
        file!("rules/storage_encrypted_test.rego"),
        file!("rules/tier_backend_allowed.rego"),
        file!("rules/tier_backend_allowed_test.rego"),
        file!("rules/tier_declared.rego"),
        file!("rules/tier_declared_test.rego"),
        file!("rules/tier_tag.rego"),
        file!("rules/tier_tag_test.rego"),
        file!("rules/tls_enforced.rego"),
        file!("rules/tls_enforced_test.rego"),
        file!("testlib/fixtures_test.rego"),
        file!("testlib/migration_fixtures_test.rego"),
    ]
}

/// The default bundle as `(path, content)` pairs, the shape the test runner takes.
pub fn default_pairs() -> Vec<(String, String)> {
    default_files()
        .into_iter()
        .map(|f| (f.path.to_string(), f.content.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_matches_the_bundle_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bundle");
        let mut on_disk = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rego") {
                    on_disk.push(
                        p.strip_prefix(&dir)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        on_disk.sort();
        let listed: Vec<String> = default_files().iter().map(|f| f.path.to_string()).collect();
        assert_eq!(
            listed, on_disk,
            "policy/src/bundle/mod.rs must list every .rego file of policy/bundle"
        );
    }

    #[test]
    fn every_rule_has_a_test_file() {
        let files = default_files();
        let rules: Vec<&str> = files
            .iter()
            .filter(|f| !f.is_test())
            .map(|f| f.path)
            .collect();
        assert!(rules.len() >= 24, "only {} rules", rules.len());
        for r in rules {
            let t = r.replace(".rego", "_test.rego");
            assert!(files.iter().any(|f| f.path == t), "{r} has no {t}");
        }
    }
}
