//! The `dbplatform_replica` schema.

use crate::framework::{Attribute, Block, Nesting, Schema, Type, Value};

/// Every attribute (for nulling unknowns in state).
pub(crate) const ALL_ATTRS: &[&str] = &[
    "id",
    "name",
    "source_database_id",
    "instance_class",
    "region",
    "kms_key_id",
    "tags",
    "deletion_protection",
    "endpoint",
    "port",
    "connection_string",
    "replication_lag_seconds",
    "replication_tls",
    "status",
];

/// The schema.
pub fn schema() -> Schema {
    let s = Type::String;
    let block = Block::new("A read replica of a dbplatform_database: a streaming hot standby (local) or an RDS read replica (aws).")
        .attribute(Attribute::computed("id", s.clone(), "The replica's name.").use_state_for_unknown())
        .attribute(Attribute::required("name", s.clone(), "Name of the replica (an RDS instance identifier on aws).").requires_replace())
        .attribute(Attribute::required("source_database_id", s.clone(), "id of the dbplatform_database to replicate.").requires_replace())
        .attribute(
            Attribute::optional_computed("instance_class", s.clone(), "Instance class; default: the source database's instance class.")
                .use_state_for_unknown(),
        )
        .attribute(
            Attribute::optional("region", s.clone(), "Region of a cross-region replica (aws); default: the provider's region.")
                .requires_replace(),
        )
        .attribute(
            Attribute::optional(
                "kms_key_id",
                s.clone(),
                "KMS key in the replica's region (aws); required for a cross-region replica of an encrypted source.",
            )
            .requires_replace(),
        )
        .attribute(Attribute::optional("tags", Type::Map(Box::new(s.clone())), "Tags of the replica."))
        .attribute(
            Attribute::optional_computed("deletion_protection", Type::Bool, "Refuse to destroy the replica.")
                .default_value(Value::Bool(false)),
        )
        .attribute(Attribute::computed("endpoint", s.clone(), "Host name or address of the replica.").use_state_for_unknown())
        .attribute(Attribute::computed("port", Type::Number, "Port of the replica.").use_state_for_unknown())
        .attribute(
            Attribute::computed("connection_string", s.clone(), "libpq URI of the replica (read-only; no password).")
                .use_state_for_unknown(),
        )
        .attribute(Attribute::computed(
            "replication_lag_seconds",
            Type::Number,
            "Seconds the replica is behind its source, read at refresh (0 when it has replayed everything received).",
        ))
        .attribute(Attribute::computed(
            "replication_tls",
            Type::Bool,
            "Whether the replication connection uses TLS, as the source reports it (local).",
        ))
        .attribute(Attribute::computed("status", s.clone(), "streaming, stopped, broken, promoted (local); the RDS status (aws)."))
        .block(
            "timeouts",
            Nesting::Single,
            Block::new("How long apply waits (aws), e.g. \"40m\".")
                .attribute(Attribute::optional("create", s.clone(), "Default 40m."))
                .attribute(Attribute::optional("update", s.clone(), "Default 80m."))
                .attribute(Attribute::optional("delete", s, "Default 60m.")),
        );
    Schema::new(0, block)
}
