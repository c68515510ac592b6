//! Unit tests of the RDS backend that need no API: statuses, snapshot names, URIs, pending values.

use std::collections::BTreeMap;

use super::observe::{is_ready, overlay_pending, pending_map, rds_status_to_status};
use super::spec::AwsOptions;
use super::*;
use crate::backend::{DatabaseSpec, DatabaseStatus};
use aws_sdk_rds::types::DbInstance;
use chrono::DateTime;

#[test]
fn statuses_map_to_lifecycle() {
    assert_eq!(rds_status_to_status("available"), DatabaseStatus::Available);
    assert_eq!(
        rds_status_to_status("backing-up"),
        DatabaseStatus::Available
    );
    assert_eq!(rds_status_to_status("modifying"), DatabaseStatus::Modifying);
    assert_eq!(
        rds_status_to_status("incompatible-parameters"),
        DatabaseStatus::Failed
    );
    assert!(is_ready("storage-optimization"));
    assert!(!is_ready("backing-up"));
}

#[test]
fn final_snapshot_names_derive_from_name_and_time() {
    let t = DateTime::from_timestamp(1_764_090_000, 0).unwrap_or_default();
    assert_eq!(
        default_final_snapshot_id("orders-db", t),
        "orders-db-final-20251125-170000"
    );
    assert!(spec::valid_instance_identifier(&default_final_snapshot_id(
        "orders-db",
        t
    )));
}

#[test]
fn uris_carry_no_password_and_require_tls() {
    assert_eq!(
        connection_uri("postgres", "dbadmin", "h", 5432, "app"),
        "postgresql://dbadmin@h:5432/app?sslmode=require"
    );
    assert_eq!(
        connection_uri("mysql", "dbadmin", "h", 3306, "app"),
        "mysql://dbadmin@h:3306/app?ssl-mode=REQUIRED"
    );
}

#[test]
fn pending_values_are_reported_as_the_settings() {
    use aws_sdk_rds::types::PendingModifiedValues;
    let db = DbInstance::builder()
        .db_instance_identifier("orders")
        .engine("postgres")
        .engine_version("16.4")
        .db_instance_class("db.t4g.micro")
        .allocated_storage(20)
        .pending_modified_values(
            PendingModifiedValues::builder()
                .db_instance_class("db.t4g.small")
                .allocated_storage(40)
                .backup_retention_period(7)
                .build(),
        )
        .build();
    let spec = DatabaseSpec {
        name: "orders".into(),
        engine: "postgres".into(),
        engine_version: Some("16".into()),
        tier: "tier-3".into(),
        instance_class: "db.t4g.micro".into(),
        db_name: "app".into(),
        master_username: "app_admin".into(),
        multi_az: false,
        backup_retention_days: 1,
        point_in_time_recovery: true,
        deletion_protection: false,
        tls_required: true,
        min_tls_version: "1.2".into(),
        parameters: BTreeMap::new(),
        tags: BTreeMap::new(),
        instance: None,
        timeouts: Default::default(),
    };
    let (spec, aws) = overlay_pending(&db, spec, AwsOptions::default());
    assert_eq!(spec.instance_class, "db.t4g.small");
    assert_eq!(spec.backup_retention_days, 7);
    assert_eq!(aws.allocated_storage_gb, 40);
    let pending = pending_map(&db);
    assert_eq!(
        pending.get("instance_class").map(String::as_str),
        Some("db.t4g.small")
    );
    assert_eq!(
        pending.get("allocated_storage_gb").map(String::as_str),
        Some("40")
    );
}
