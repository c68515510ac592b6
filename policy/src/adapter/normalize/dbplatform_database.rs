//! Settings of `dbplatform_database`: the golden path fixes several settings the AWS resources leave open
//! (always encrypted on aws, managed passwords, minor upgrades and tag copying on).

use super::spec::{Dv, Spec, Src, Ty};

pub(super) const DBPLATFORM_DATABASE: &[Spec] = &[
    ("storage_encrypted", Ty::Bool, Src::EncryptedOnAws),
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("multi_az", Ty::Bool, Src::AttrOr("multi_az", Dv::B(false))),
    (
        "backup_retention_days",
        Ty::Int,
        Src::Attr("backup_retention_days"),
    ),
    ("backup_window", Ty::Str, Src::Attr("backup_window")),
    (
        "deletion_protection",
        Ty::Bool,
        Src::AttrOr("deletion_protection", Dv::B(false)),
    ),
    ("publicly_accessible", Ty::Bool, Src::Const(Dv::B(false))),
    (
        "iam_database_authentication",
        Ty::Bool,
        Src::AttrOr("iam_database_authentication", Dv::B(false)),
    ),
    (
        "log_exports",
        Ty::StrList,
        Src::AttrOr("log_exports", Dv::EmptyList),
    ),
    (
        "performance_insights",
        Ty::Bool,
        Src::AttrOr("performance_insights", Dv::B(false)),
    ),
    (
        "performance_insights_kms_key_id",
        Ty::Str,
        Src::Attr("kms_key_id"),
    ),
    (
        "monitoring_interval_seconds",
        Ty::Int,
        Src::AttrOr("monitoring_interval_seconds", Dv::I(0)),
    ),
    (
        "auto_minor_version_upgrade",
        Ty::Bool,
        Src::Const(Dv::B(true)),
    ),
    ("copy_tags_to_snapshot", Ty::Bool, Src::Const(Dv::B(true))),
    ("managed_master_password", Ty::Bool, Src::Const(Dv::B(true))),
    ("plaintext_password_set", Ty::Bool, Src::Const(Dv::B(false))),
    ("master_username", Ty::Str, Src::Attr("master_username")),
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
    ("region", Ty::Str, Src::Attr("region")),
    (
        "backup_replication_region",
        Ty::Str,
        Src::Attr("backup_replication_region"),
    ),
    (
        "backup_replication_kms_key_id",
        Ty::Str,
        Src::Attr("backup_replication_kms_key_id"),
    ),
    (
        "master_password_rotation_days",
        Ty::Int,
        Src::Attr("master_password_rotation_days"),
    ),
];

/// `dbplatform_replica`: a read replica of a `dbplatform_database`, encrypted like its source (always on aws,
/// never on local); `region` null means the source's region.
pub(super) const DBPLATFORM_REPLICA: &[Spec] = &[
    ("storage_encrypted", Ty::Bool, Src::EncryptedOnAws),
    ("kms_key_id", Ty::Str, Src::Attr("kms_key_id")),
    ("region", Ty::Str, Src::Attr("region")),
    ("instance_class", Ty::Str, Src::Attr("instance_class")),
    (
        "deletion_protection",
        Ty::Bool,
        Src::AttrOr("deletion_protection", Dv::B(false)),
    ),
    ("publicly_accessible", Ty::Bool, Src::Const(Dv::B(false))),
];
