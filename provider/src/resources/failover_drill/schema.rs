//! The `dbplatform_failover_drill` schema.

use crate::framework::{Attribute, Block, Schema, Type, Value};

/// The attributes that hold a drill's evidence (unknown when the drill runs again).
pub(crate) const RESULT_ATTRS: &[&str] = &[
    "succeeded",
    "started_at",
    "finished_at",
    "rto_seconds",
    "rpo_seconds",
    "rows_lost",
    "new_primary_endpoint",
    "steps",
    "topology_restored",
    "simulated",
];

/// The schema.
pub fn schema() -> Schema {
    let s = Type::String;
    let n = Type::Number;
    let block = Block::new(
        "Runs a controlled failover of a database (promote a replica, or a Multi-AZ reboot with failover on aws) and records RTO, RPO and rows lost as evidence.",
    )
    .attribute(Attribute::computed("id", s.clone(), "Identifier of this drill run.").use_state_for_unknown())
    .attribute(Attribute::required("database_id", s.clone(), "id of the dbplatform_database to fail over.").requires_replace())
    .attribute(
        Attribute::optional("replica_id", s.clone(), "id of the dbplatform_replica to promote (local and aws).").requires_replace(),
    )
    .attribute(
        Attribute::optional_computed("mode", s.clone(), "\"replica\" (promote replica_id; the default) or \"multi_az\" (aws: reboot with failover).")
            .requires_replace(),
    )
    .attribute(
        Attribute::optional_computed("failure", s.clone(), "How the primary fails (local): \"stop\" (clean shutdown, the default) or \"crash\" (SIGKILL).")
            .default_value(Value::string("stop"))
            .requires_replace(),
    )
    .attribute(
        Attribute::optional_computed("write_probe", Type::Bool, "Write a probe row continuously before and during the drill (RPO and rows lost are measured from it).")
            .default_value(Value::Bool(true))
            .requires_replace(),
    )
    .attribute(
        Attribute::optional_computed("max_rto_seconds", n.clone(), "RTO objective; default: the tier's rto_minutes. Exceeded: the apply fails with the figures.")
            .requires_replace(),
    )
    .attribute(
        Attribute::optional_computed("max_rpo_seconds", n.clone(), "RPO objective; default: the tier's rpo_minutes. Exceeded: the apply fails with the figures.")
            .requires_replace(),
    )
    .attribute(Attribute::optional(
        "max_age",
        s.clone(),
        "Age after which the next plan replaces (re-runs) the drill, e.g. \"168h\", \"30d\".",
    ))
    .attribute(
        Attribute::optional_computed("keep_promoted", Type::Bool, "Leave the promoted replica as the primary (the old primary becomes its standby) instead of switching back.")
            .default_value(Value::Bool(false))
            .requires_replace(),
    )
    .attribute(Attribute::computed("succeeded", Type::Bool, "The drill completed within its objectives, topology as asked.").use_state_for_unknown())
    .attribute(Attribute::computed("started_at", s.clone(), "When the drill started, RFC 3339.").use_state_for_unknown())
    .attribute(Attribute::computed("finished_at", s.clone(), "When the drill finished, RFC 3339.").use_state_for_unknown())
    .attribute(
        Attribute::computed("rto_seconds", n.clone(), "Seconds from the primary's stop to the first committed write on the new primary.")
            .use_state_for_unknown(),
    )
    .attribute(
        Attribute::computed("rpo_seconds", n.clone(), "Commit-time span of the probe rows committed on the old primary but absent after promotion (0: none).")
            .use_state_for_unknown(),
    )
    .attribute(Attribute::computed("rows_lost", n, "Probe rows committed on the old primary but absent after promotion.").use_state_for_unknown())
    .attribute(
        Attribute::computed("new_primary_endpoint", s.clone(), "Where writes go after the drill (host:port).").use_state_for_unknown(),
    )
    .attribute(
        Attribute::computed("steps", Type::List(Box::new(s)), "What the drill did, one \"<RFC 3339 time> <step>\" line each.")
            .use_state_for_unknown(),
    )
    .attribute(
        Attribute::computed("topology_restored", Type::Bool, "The original topology is back (writes to the database, the replica streaming).")
            .use_state_for_unknown(),
    )
    .attribute(
        Attribute::computed("simulated", Type::Bool, "The backend accepted the calls without failing anything over (the aws API emulator).")
            .use_state_for_unknown(),
    );
    Schema::new(0, block)
}
