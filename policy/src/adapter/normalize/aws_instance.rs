//! Settings of `aws_db_instance` (instances and read replicas), with the AWS provider's defaults for
//! attributes left null.

use super::spec::{Dv, Spec, Src, Ty};

pub(super) const DB_INSTANCE: &[Spec] = &[
    (
        "storage_encrypted",
        Ty::Bool,
        Src::AttrOr("storage_encrypted", Dv::B(false)),
    ),
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("multi_az", Ty::Bool, Src::AttrOr("multi_az", Dv::B(false))),
    (
        "backup_retention_days",
        Ty::Int,
        Src::Attr("backup_retention_period"),
    ),
    ("backup_window", Ty::Str, Src::Attr("backup_window")),
    (
        "deletion_protection",
        Ty::Bool,
        Src::AttrOr("deletion_protection", Dv::B(false)),
    ),
    (
        "publicly_accessible",
        Ty::Bool,
        Src::AttrOr("publicly_accessible", Dv::B(false)),
    ),
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
        Src::AttrOr("auto_minor_version_upgrade", Dv::B(true)),
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
        Src::PasswordSet("password"),
    ),
    ("master_username", Ty::Str, Src::Attr("username")),
    ("instance_class", Ty::Str, Src::Attr("instance_class")),
    (
        "parameter_group_name",
        Ty::Str,
        Src::Attr("parameter_group_name"),
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
    ("region", Ty::Str, Src::Region),
];

/// `aws_db_instance_automated_backups_replication`: where the copy of an instance's backups lives and its key.
pub(super) const BACKUPS_REPLICATION: &[Spec] = &[
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("region", Ty::Str, Src::Region),
];
