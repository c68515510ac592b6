//! Settings of Aurora: `aws_rds_cluster` and its members, `aws_rds_cluster_instance` (which take storage,
//! encryption and backups from the cluster, so they have fewer settings of their own).

use super::spec::{Dv, Spec, Src, Ty};

pub(super) const RDS_CLUSTER: &[Spec] = &[
    (
        "storage_encrypted",
        Ty::Bool,
        Src::AttrOr("storage_encrypted", Dv::B(false)),
    ),
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("multi_az", Ty::Bool, Src::ClusterMultiAz),
    (
        "backup_retention_days",
        Ty::Int,
        Src::AttrOr("backup_retention_period", Dv::I(1)),
    ),
    (
        "backup_window",
        Ty::Str,
        Src::Attr("preferred_backup_window"),
    ),
    (
        "deletion_protection",
        Ty::Bool,
        Src::AttrOr("deletion_protection", Dv::B(false)),
    ),
    ("publicly_accessible", Ty::Bool, Src::Const(Dv::B(false))),
    (
        "iam_database_authentication",
        Ty::Bool,
        Src::AttrOr("iam_database_authentication_enabled", Dv::B(false)),
    ),
    (
        "log_exports",
        Ty::StrList,
        Src::AttrOr("enabled_cloudwatch_logs_exports", Dv::EmptyList),
    ),
    (
        "performance_insights",
        Ty::Bool,
        Src::AttrOr("performance_insights_enabled", Dv::B(false)),
    ),
    (
        "performance_insights_kms_key_id",
        Ty::Str,
        Src::Attr("performance_insights_kms_key_id"),
    ),
    (
        "monitoring_interval_seconds",
        Ty::Int,
        Src::AttrOr("monitoring_interval", Dv::I(0)),
    ),
    (
        "auto_minor_version_upgrade",
        Ty::Bool,
        Src::Const(Dv::B(true)),
    ),
    (
        "copy_tags_to_snapshot",
        Ty::Bool,
        Src::AttrOr("copy_tags_to_snapshot", Dv::B(false)),
    ),
    (
        "managed_master_password",
        Ty::Bool,
        Src::AttrOr("manage_master_user_password", Dv::B(false)),
    ),
    (
        "plaintext_password_set",
        Ty::Bool,
        Src::PasswordSet("master_password"),
    ),
    ("master_username", Ty::Str, Src::Attr("master_username")),
    (
        "instance_class",
        Ty::Str,
        Src::Attr("db_cluster_instance_class"),
    ),
    (
        "parameter_group_name",
        Ty::Str,
        Src::Attr("db_cluster_parameter_group_name"),
    ),
    (
        "skip_final_snapshot",
        Ty::Bool,
        Src::AttrOr("skip_final_snapshot", Dv::B(false)),
    ),
    (
        "final_snapshot_identifier",
        Ty::Str,
        Src::Attr("final_snapshot_identifier"),
    ),
];

pub(super) const CLUSTER_INSTANCE: &[Spec] = &[
    (
        "publicly_accessible",
        Ty::Bool,
        Src::AttrOr("publicly_accessible", Dv::B(false)),
    ),
    (
        "performance_insights",
        Ty::Bool,
        Src::AttrOr("performance_insights_enabled", Dv::B(false)),
    ),
    (
        "performance_insights_kms_key_id",
        Ty::Str,
        Src::Attr("performance_insights_kms_key_id"),
    ),
    (
        "monitoring_interval_seconds",
        Ty::Int,
        Src::AttrOr("monitoring_interval", Dv::I(0)),
    ),
    (
        "auto_minor_version_upgrade",
        Ty::Bool,
        Src::AttrOr("auto_minor_version_upgrade", Dv::B(true)),
    ),
    (
        "copy_tags_to_snapshot",
        Ty::Bool,
        Src::AttrOr("copy_tags_to_snapshot", Dv::B(false)),
    ),
    ("instance_class", Ty::Str, Src::Attr("instance_class")),
    (
        "parameter_group_name",
        Ty::Str,
        Src::Attr("db_parameter_group_name"),
    ),
];
