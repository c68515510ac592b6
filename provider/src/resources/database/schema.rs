//! The `dbplatform_database` schema: every attribute with its description and plan modifiers, the managed-
//! instance attributes ([`super::rds::add_attributes`]), and which attributes a user configures.

use super::rds;
use crate::framework::{Attribute, Block, Schema, Type, Value};

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_database";
/// Suffix of the master username when the configuration names none (`<db_name>_admin`).
pub const MASTER_USERNAME_SUFFIX: &str = "_admin";

/// The schema, shared with the data source's description of the same fields.
pub fn schema() -> Schema {
    let s = Type::String;
    let b = Type::Bool;
    let n = Type::Number;
    let map = Type::Map(Box::new(Type::String));
    Schema::new(
        0,
        rds::add_attributes(Block::new("A golden-path database: pick a tier, the platform fills in the rest and checks the guardrails.")
            .attribute(Attribute::computed("id", s.clone(), "Database identifier (its name).").use_state_for_unknown())
            .attribute(
                Attribute::required("name", s.clone(), "Database identifier: lowercase letters, digits and hyphens.")
                    .requires_replace(),
            )
            .attribute(
                Attribute::optional_computed("engine", s.clone(), "Engine: postgres (local and aws) or mysql (aws).")
                    .default_value(Value::string("postgres"))
                    .requires_replace(),
            )
            .attribute(
                Attribute::optional_computed("engine_version", s.clone(), "Major engine version, e.g. \"15\".")
                    .use_state_for_unknown(),
            )
            .attribute(Attribute::required("tier", s.clone(), "Tier from the catalogue: tier-0 ... tier-3."))
            .attribute(
                Attribute::optional_computed("instance_class", s.clone(), "Instance class; defaults to the tier's.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("db_name", s.clone(), "Application database; defaults to the name with _ for -.")
                    .use_state_for_unknown()
                    .requires_replace(),
            )
            .attribute(
                Attribute::optional_computed(
                    "master_username",
                    s.clone(),
                    "Owner role of the application database; defaults to <db_name>_admin (never a well-known name; on mysql the db_name part is cut to 10 characters, as MySQL user names have at most 16).",
                )
                .use_state_for_unknown()
                .requires_replace(),
            )
            .attribute(Attribute::optional_computed("multi_az", b.clone(), "Standby in another zone; from the tier.").use_state_for_unknown())
            .attribute(
                Attribute::optional_computed("backup_retention_days", n.clone(), "Days backups are kept; from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("deletion_protection", b.clone(), "Refuse destroy; from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("performance_insights", b.clone(), "Performance Insights (aws); from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("monitoring_interval_seconds", n.clone(), "Enhanced monitoring interval (aws); from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(Attribute::computed(
                "log_exports",
                Type::List(Box::new(Type::String)),
                "Engine logs exported to CloudWatch Logs (aws: postgresql, or error and slowquery for MySQL; always on).",
            ))
            .attribute(
                Attribute::optional_computed("skip_final_snapshot", b.clone(), "Destroy without a final backup.")
                    .default_value(Value::Bool(false)),
            )
            .attribute(Attribute::optional("final_snapshot_identifier", s.clone(), "Name of the final backup taken on destroy."))
            .attribute(Attribute::optional("parameters", map.clone(), "Engine settings, e.g. { work_mem = \"8MB\" }."))
            .attribute(Attribute::optional("tags", map.clone(), "Tags; merged over the provider's default_tags."))
            .attribute(Attribute::computed("tags_all", map.clone(), "tags merged over the provider's default_tags."))
            .attribute(Attribute::computed("endpoint", s.clone(), "Host to connect to.").use_state_for_unknown())
            .attribute(Attribute::computed("port", n.clone(), "Port to connect to.").use_state_for_unknown())
            .attribute(Attribute::computed("status", s.clone(), "available, stopped, ..."))
            .attribute(
                Attribute::computed("connection_string", s.clone(), "libpq URI without the password.").use_state_for_unknown(),
            )
            .attribute(
                Attribute::computed(
                    "master_user_secret_path",
                    s.clone(),
                    "Where the master password is: a 0600 file (local) or a Secrets Manager ARN (aws). Never the password.",
                )
                .use_state_for_unknown(),
            )
            .attribute(Attribute::computed("data_dir", s.clone(), "The database's directory (local backend).").use_state_for_unknown())
            .attribute(
                Attribute::computed("engine_version_actual", s.clone(), "Full version running, e.g. 15.13.").use_state_for_unknown(),
            )
            .attribute(Attribute::computed("backend", s.clone(), "Backend the database runs on: local or aws.").use_state_for_unknown())
            .attribute(Attribute::optional_computed(
                "master_password_rotation_days",
                n.clone(),
                "Rotate the master password when it is older than this many days (the plan shows the rotation, apply carries it out and records it in the audit log); defaults to the tier's master_password_rotation_days. Local backend; on aws Secrets Manager rotates the managed password.",
            ))
            .attribute(Attribute::computed(
                "master_password_rotated_at",
                s.clone(),
                "When the master password was last set, RFC 3339, read at refresh (local: its file's modification time); null where the backend cannot tell.",
            ))
            .attribute(Attribute::computed(
                "policy_decision",
                map,
                "Guardrail decision at the last plan that changed the database: decision_id, outcome, counts.",
            ))),
    )
}

/// The attributes a user configures (everything else is computed).
pub(crate) const CONFIGURABLE: &[&str] = &[
    "name",
    "engine",
    "engine_version",
    "tier",
    "instance_class",
    "db_name",
    "master_username",
    "multi_az",
    "backup_retention_days",
    "deletion_protection",
    "performance_insights",
    "monitoring_interval_seconds",
    "skip_final_snapshot",
    "final_snapshot_identifier",
    "parameters",
    "tags",
    "master_password_rotation_days",
];
