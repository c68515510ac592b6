//! The managed-instance part of `dbplatform_database` (RDS today): its extra attributes (storage, KMS key,
//! windows, network, parameter group, timeouts, and what only the service reports: ARN, resource id, pending
//! modifications), reading them from a plan into [`InstanceSettings`] and [`OpTimeouts`], and writing
//! [`crate::backend::InstanceDetails`] back into state. In neutral terms: on a backend whose
//! [`crate::backend::Capabilities::instance_settings`] is set, the resource calls [`options_from`],
//! [`timeouts_from`] and [`state_values`]; elsewhere these attributes stay null.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::backend::version::compare_major;
use crate::backend::{DatabaseInfo, InstanceSettings, OpTimeouts};
use crate::framework::access::{get_bool, get_i64, get_string, get_string_list, Field};
use crate::framework::duration::parse_duration;
use crate::framework::{Attribute, AttributePath, Block, Diagnostic, Nesting, Type, Value};

/// Arguments only a managed instance (aws) reads, which a user may set: an error at plan on other backends.
pub const AWS_ARGUMENTS: &[&str] = &[
    "allocated_storage_gb",
    "max_allocated_storage_gb",
    "storage_type",
    "kms_key_id",
    "backup_window",
    "maintenance_window",
    "db_subnet_group_name",
    "vpc_security_group_ids",
    "parameter_group_name",
    "iam_database_authentication",
    "monitoring_role_arn",
    "apply_immediately",
    "backup_replication_region",
    "backup_replication_kms_key_id",
];

/// Attributes only the aws backend fills (computed); null on the local backend.
const AWS_COMPUTED: &[&str] = &[
    "arn",
    "address",
    "resource_id",
    "master_user_secret_arn",
    "pending_modifications",
    "pending_reboot",
    "region",
];

/// Every RDS-only attribute: [`AWS_ARGUMENTS`] then the computed ones.
pub fn aws_attributes() -> impl Iterator<Item = &'static str> {
    AWS_ARGUMENTS.iter().chain(AWS_COMPUTED).copied()
}

/// Adds the RDS-only attributes and the `timeouts` block to the database schema.
pub fn add_attributes(block: Block) -> Block {
    let s = Type::String;
    let n = Type::Number;
    let b = Type::Bool;
    block
        .attribute(Attribute::optional_computed("allocated_storage_gb", n.clone(), "Storage in GiB (aws; default 20). Can grow, not shrink.").use_state_for_unknown())
        .attribute(Attribute::optional("max_allocated_storage_gb", n, "Storage autoscaling ceiling in GiB (aws); null turns autoscaling off."))
        .attribute(Attribute::optional_computed("storage_type", s.clone(), "gp3 (default), gp2, io1, io2 or standard (aws).").use_state_for_unknown())
        .attribute(
            Attribute::optional("kms_key_id", s.clone(), "KMS key for storage encryption (aws); null: the AWS-managed aws/rds key (not tracked). Forces replacement.")
                .requires_replace(),
        )
        .attribute(
            Attribute::optional_computed("backup_window", s.clone(), "Daily backup window hh24:mi-hh24:mi UTC (aws); default: a 30-minute slot starting 00:00-02:45, chosen from the name.")
                .use_state_for_unknown(),
        )
        .attribute(
            Attribute::optional_computed("maintenance_window", s.clone(), "Weekly maintenance window ddd:hh24:mi-ddd:hh24:mi UTC (aws); default: a 30-minute slot starting 03:30-06:15 on a day chosen from the name.")
                .use_state_for_unknown(),
        )
        .attribute(Attribute::optional("db_subnet_group_name", s.clone(), "DB subnet group (aws); null: the default VPC's (not tracked)."))
        .attribute(
            Attribute::optional("vpc_security_group_ids", Type::List(Box::new(s.clone())), "Security groups (aws); null: the VPC default (not tracked)."),
        )
        .attribute(Attribute::optional("parameter_group_name", s.clone(), "A dbplatform_parameter_group (aws); null: a managed per-database group with TLS forced."))
        .attribute(Attribute::optional_computed("iam_database_authentication", b.clone(), "IAM database authentication (aws); default true.").use_state_for_unknown())
        .attribute(Attribute::optional("monitoring_role_arn", s.clone(), "IAM role for enhanced monitoring (aws); needed when monitoring_interval_seconds > 0."))
        .attribute(Attribute::optional("apply_immediately", b.clone(), "Apply modifications now (default true) rather than in the maintenance window (aws)."))
        .attribute(Attribute::optional_computed(
            "backup_replication_region",
            s.clone(),
            "Region the automated backups are replicated to (aws); default: the tier's dr_region (tier-0), else none. \"\" turns replication off (refused for tier-0 by DBP-DR-001).",
        ))
        .attribute(Attribute::optional(
            "backup_replication_kms_key_id",
            s.clone(),
            "KMS key ARN in backup_replication_region encrypting the replicated backups (aws; required with replication, DBP-DR-002).",
        ))
        .attribute(Attribute::computed("region", s.clone(), "Region the database runs in (aws).").use_state_for_unknown())
        .attribute(Attribute::computed("arn", s.clone(), "The instance ARN (aws).").use_state_for_unknown())
        .attribute(Attribute::computed("address", s.clone(), "The instance's DNS name (aws).").use_state_for_unknown())
        .attribute(Attribute::computed("resource_id", s.clone(), "DbiResourceId (aws).").use_state_for_unknown())
        .attribute(Attribute::computed("master_user_secret_arn", s.clone(), "Secrets Manager ARN of the RDS-managed master password (aws).").use_state_for_unknown())
        .attribute(Attribute::computed(
            "pending_modifications",
            Type::Map(Box::new(s.clone())),
            "Changes RDS accepted but has not applied yet (maintenance window or reboot) (aws).",
        ))
        .attribute(Attribute::computed("pending_reboot", b, "A parameter change waits for a reboot (aws)."))
        .block(
            "timeouts",
            Nesting::Single,
            Block::new("How long apply waits for RDS (aws), e.g. \"40m\", \"1h30m\".")
                .attribute(Attribute::optional("create", s.clone(), "Default 40m."))
                .attribute(Attribute::optional("update", s.clone(), "Default 80m."))
                .attribute(Attribute::optional("delete", s, "Default 60m.")),
        )
}

/// Minutes in one window slot: RDS windows are at least 30 minutes long.
const WINDOW_MINUTES: u32 = 30;
/// Slots a window may start in, 15 minutes apart.
const WINDOW_SLOTS: u64 = 12;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// FNV-1a: a stable hash of the database name (unlike `std`'s hasher, the same in every build and process).
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The golden-path windows of database `name` (UTC): a daily backup window of 30 minutes starting between 00:00
/// and 02:45, and a weekly maintenance window of 30 minutes starting between 03:30 and 06:15 on a day of the week.
/// The name's hash picks the slot and the day, so one database always gets the same windows, databases spread over
/// the night, and the maintenance window never overlaps the backup window (it always starts after it ends).
pub fn tier_windows(name: &str) -> (String, String) {
    let h = name_hash(name);
    let slot = (h % WINDOW_SLOTS) as u32;
    let day = DAYS[((h / WINDOW_SLOTS) % 7) as usize];
    let backup_start = slot * 15;
    let maintenance_start = 3 * 60 + 30 + slot * 15;
    (
        format!(
            "{}-{}",
            hhmm(backup_start),
            hhmm(backup_start + WINDOW_MINUTES)
        ),
        format!(
            "{day}:{}-{day}:{}",
            hhmm(maintenance_start),
            hhmm(maintenance_start + WINDOW_MINUTES)
        ),
    )
}

/// Fills the RDS-only attributes of a plan. On aws, null-config values get the golden-path defaults
/// (IAM authentication on, gp3, 20 GiB, the windows of [`tier_windows`]) at create and keep the prior value on
/// update; what RDS chooses itself (KMS key, network) is not tracked. On other backends every RDS-only attribute
/// is null.
pub fn plan_values(planned: &mut Value, config: &Value, prior: &Value, on_aws: bool) {
    if !on_aws {
        for name in aws_attributes() {
            if config.get(name).is_null() {
                planned.set(name, Value::Null);
            }
        }
        return;
    }
    let defaults = [
        ("iam_database_authentication", Value::Bool(true)),
        ("storage_type", Value::string("gp3")),
        ("allocated_storage_gb", Value::int(20)),
    ];
    for (name, default) in defaults {
        if config.get(name).is_null() {
            let keep = prior.get(name);
            planned.set(
                name,
                if keep.is_null() {
                    default
                } else {
                    keep.clone()
                },
            );
        }
    }
    // The windows come from the name; a database created before they were chosen (null in state) gets them now.
    if let Some(name) = config.get("name").as_str() {
        let (backup, maintenance) = tier_windows(name);
        for (key, window) in [
            ("backup_window", backup),
            ("maintenance_window", maintenance),
        ] {
            if config.get(key).is_null() {
                let keep = prior.get(key);
                planned.set(
                    key,
                    if keep.as_str().is_some() {
                        keep.clone()
                    } else {
                        Value::string(window)
                    },
                );
            }
        }
    }
    // Pending modifications and reboots are only known after RDS acts.
    if !prior.is_null() && planned != prior {
        planned.set("pending_modifications", Value::Unknown);
        planned.set("pending_reboot", Value::Unknown);
    }
}

/// Changes RDS refuses in place, caught at plan: an engine downgrade and shrinking storage.
pub fn plan_checks(planned: &Value, prior: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if prior.is_null() {
        return out;
    }
    let engine = planned.get("engine").as_str().unwrap_or("postgres");
    if let (Some(want), Some(have)) = (
        planned.get("engine_version").as_str(),
        prior.get("engine_version").as_str(),
    ) {
        if compare_major(want, have).is_lt() {
            out.push(
                Diagnostic::error(
                    "Engine downgrade refused",
                    format!(
                        "engine_version {want:?} is older than the running {engine} {have:?} ({}); RDS cannot downgrade. Keep engine_version = {have:?}, or restore a snapshot into a new database.",
                        prior.get("engine_version_actual").as_str().unwrap_or(have)
                    ),
                )
                .at(AttributePath::attr("engine_version")),
            );
        }
    }
    if let (Some(want), Some(have)) = (
        planned.get("allocated_storage_gb").as_i64(),
        prior.get("allocated_storage_gb").as_i64(),
    ) {
        if want < have {
            out.push(
                Diagnostic::error(
                    "Storage cannot shrink",
                    format!("allocated_storage_gb {want} is below the current {have} GiB; RDS storage only grows. Keep {have}, or restore a snapshot into a new, smaller database."),
                )
                .at(AttributePath::attr("allocated_storage_gb")),
            );
        }
    }
    out
}

/// Reads the `timeouts` block of a plan or state.
pub fn timeouts_from(v: &Value) -> Result<OpTimeouts, Diagnostic> {
    let block = v.get("timeouts");
    let one = |name: &str| -> Result<Option<Duration>, Diagnostic> {
        match block.get(name).as_str() {
            None => Ok(None),
            // A zero wait would fail every apply at once: refused like a malformed duration.
            Some(text) => parse_duration(text).filter(|d| !d.is_zero()).map(Some).ok_or_else(|| {
                Diagnostic::error("Invalid timeout", format!("timeouts.{name} = {text:?} is not a duration; use e.g. \"40m\", \"1h30m\" or \"90s\"."))
                    .at(AttributePath::attr("timeouts").join_attr(name))
            }),
        }
    };
    if block.is_null() {
        return Ok(OpTimeouts::default());
    }
    Ok(OpTimeouts {
        create: one("create")?,
        update: one("update")?,
        delete: one("delete")?,
    })
}

fn opt_string(v: &Value, name: &str) -> Result<Option<String>, Diagnostic> {
    Ok(get_string(v, name)?.known())
}

fn opt_u32(v: &Value, name: &str) -> Result<Option<u32>, Diagnostic> {
    match get_i64(v, name)? {
        Field::Known(n) => u32::try_from(n).map(Some).map_err(|_| {
            Diagnostic::error(
                "Invalid number",
                format!("{name} must be a whole number from 0 up, got {n}."),
            )
            .at(AttributePath::attr(name))
        }),
        _ => Ok(None),
    }
}

/// The RDS-only settings a (known) plan asks for; null optional+computed values keep `base` (the defaults at
/// create, the current instance's values at update).
pub fn options_from(
    planned: &Value,
    base: &InstanceSettings,
) -> Result<InstanceSettings, Diagnostic> {
    let mut o = base.clone();
    if let Some(n) = opt_u32(planned, "allocated_storage_gb")? {
        o.allocated_storage_gb = n;
    }
    o.max_allocated_storage_gb = opt_u32(planned, "max_allocated_storage_gb")?;
    if let Some(s) = opt_string(planned, "storage_type")? {
        o.storage_type = s;
    }
    if let Some(s) = opt_string(planned, "kms_key_id")? {
        o.kms_key_id = Some(s);
    }
    for (name, slot) in [
        ("backup_window", &mut o.backup_window),
        ("maintenance_window", &mut o.maintenance_window),
        ("db_subnet_group_name", &mut o.db_subnet_group_name),
    ] {
        if let Some(s) = opt_string(planned, name)? {
            *slot = Some(s);
        }
    }
    if let Field::Known(ids) = get_string_list(planned, "vpc_security_group_ids")? {
        o.vpc_security_group_ids = ids;
    }
    o.parameter_group_name = opt_string(planned, "parameter_group_name")?;
    if let Some(b) = get_bool(planned, "iam_database_authentication")?.known() {
        o.iam_database_authentication = b;
    }
    if let Some(b) = get_bool(planned, "performance_insights")?.known() {
        o.performance_insights = b;
    }
    if let Some(n) = opt_u32(planned, "monitoring_interval_seconds")? {
        o.monitoring_interval_seconds = n;
    }
    o.monitoring_role_arn = opt_string(planned, "monitoring_role_arn")?;
    o.apply_immediately = get_bool(planned, "apply_immediately")?
        .known()
        .unwrap_or(true);
    o.backup_replication = opt_string(planned, "backup_replication_region")?
        .filter(|r| !r.is_empty())
        .map(|region| -> Result<_, Diagnostic> {
            Ok(crate::backend::BackupReplication {
                region,
                kms_key_id: opt_string(planned, "backup_replication_kms_key_id")?,
            })
        })
        .transpose()?;
    Ok(o)
}

fn str_or_null(s: &Option<String>) -> Value {
    s.as_ref().map(Value::string).unwrap_or(Value::Null)
}

/// The values of [`aws_attributes`] (plus `performance_insights`, `monitoring_interval_seconds`, `log_exports`)
/// for state: from the instance's details when it has them (a managed service), else null. `base` (the plan, or
/// prior state) supplies what the service does not report (`apply_immediately`, and
/// `max_allocated_storage_gb`/`parameter_group_name` as set).
pub fn state_values(info: Option<&DatabaseInfo>, base: Option<&Value>) -> BTreeMap<String, Value> {
    let mut m: BTreeMap<String, Value> = aws_attributes()
        .map(|n| (n.to_string(), Value::Null))
        .collect();
    let Some((i, d)) = info.and_then(|i| i.details.as_ref().map(|d| (i, d))) else {
        return m;
    };
    let o = &d.settings;
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put(
        "allocated_storage_gb",
        Value::int(i64::from(o.allocated_storage_gb)),
    );
    put(
        "max_allocated_storage_gb",
        o.max_allocated_storage_gb
            .map(|n| Value::int(i64::from(n)))
            .unwrap_or(Value::Null),
    );
    put("storage_type", Value::string(&o.storage_type));
    // What RDS chooses when the configuration leaves these null is not tracked (state stays null), so a plan has
    // no unknowns for the guardrails to trip on and the next plan no diff; a configured value is read back.
    let configured = |k: &str| base.is_some_and(|b| !b.get(k).is_null());
    let tracked = |k: &str, v: Value| if configured(k) { v } else { Value::Null };
    put(
        "kms_key_id",
        tracked("kms_key_id", str_or_null(&o.kms_key_id)),
    );
    // The windows are always chosen (by the configuration or the tier), so they are always read back: an
    // imported database shows its windows, and a change made outside Terraform shows as drift.
    put("backup_window", str_or_null(&o.backup_window));
    put("maintenance_window", str_or_null(&o.maintenance_window));
    put(
        "db_subnet_group_name",
        tracked("db_subnet_group_name", str_or_null(&o.db_subnet_group_name)),
    );
    put(
        "vpc_security_group_ids",
        tracked(
            "vpc_security_group_ids",
            Value::List(o.vpc_security_group_ids.iter().map(Value::string).collect()),
        ),
    );
    put("parameter_group_name", str_or_null(&o.parameter_group_name));
    put(
        "iam_database_authentication",
        Value::Bool(o.iam_database_authentication),
    );
    put("monitoring_role_arn", str_or_null(&o.monitoring_role_arn));
    // A setting the service did not report keeps the planned (or prior) value rather than a default.
    let observed_pi = Value::Bool(o.performance_insights);
    put(
        "performance_insights",
        match base.map(|b| b.get("performance_insights")) {
            Some(v @ Value::Bool(_))
                if d.unreported.iter().any(|u| u == "performance_insights") =>
            {
                v.clone()
            }
            _ => observed_pi,
        },
    );
    put(
        "monitoring_interval_seconds",
        Value::int(i64::from(o.monitoring_interval_seconds)),
    );
    put(
        "log_exports",
        Value::List(o.log_exports.iter().map(Value::string).collect()),
    );
    put(
        "apply_immediately",
        base.map(|b| b.get("apply_immediately").clone())
            .unwrap_or(Value::Null),
    );
    // Replication off reads back as the configuration said it (null, or "" for an explicit opt-out).
    let off = base
        .map(|b| b.get("backup_replication_region"))
        .filter(|v| v.as_str() == Some(""))
        .cloned()
        .unwrap_or(Value::Null);
    put(
        "backup_replication_region",
        o.backup_replication
            .as_ref()
            .map_or(off, |r| Value::string(&r.region)),
    );
    put(
        "backup_replication_kms_key_id",
        o.backup_replication
            .as_ref()
            .and_then(|r| r.kms_key_id.as_ref())
            .map_or(Value::Null, Value::string),
    );
    put(
        "region",
        d.arn
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .map_or(Value::Null, Value::string),
    );
    put("arn", Value::string(&d.arn));
    put("address", Value::string(&i.endpoint));
    put("resource_id", Value::string(&d.resource_id));
    put(
        "master_user_secret_arn",
        Value::string(&i.master_user_secret),
    );
    put(
        "pending_modifications",
        Value::Map(
            d.pending_modifications
                .iter()
                .map(|(k, v)| (k.clone(), Value::string(v)))
                .collect(),
        ),
    );
    put("pending_reboot", Value::Bool(d.pending_reboot));
    m
}

/// Settings state holds as applied that the service reports otherwise at refresh (only those it reports): one
/// warning each, naming both values; the plan then shows the update that sets them again.
pub fn disagreements(info: &DatabaseInfo, prior: &Value) -> Vec<Diagnostic> {
    let Some(d) = info.details.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let reported = !d.unreported.iter().any(|u| u == "performance_insights");
    if let (true, Some(had)) = (reported, prior.get("performance_insights").as_bool()) {
        let now = d.settings.performance_insights;
        if had != now {
            out.push(
                Diagnostic::warning(
                    "Setting differs from the last apply",
                    format!(
                        "performance_insights: RDS reports {now}, state has {had} from the last apply; the plan \
                         sets it again (or set performance_insights = {now} to keep what RDS has)."
                    ),
                )
                .at(AttributePath::attr("performance_insights")),
            );
        }
    }
    out
}

/// A plan-time warning text when RDS still has modifications pending (shown so they are not a surprise).
pub fn pending_warning(info: &DatabaseInfo) -> Option<String> {
    let d = info.details.as_ref()?;
    if d.pending_modifications.is_empty() && !d.pending_reboot {
        return None;
    }
    let mut parts: Vec<String> = d
        .pending_modifications
        .iter()
        .map(|(k, v)| format!("{k} -> {v}"))
        .collect();
    if d.pending_reboot {
        parts.push("parameter group changes waiting for a reboot".into());
    }
    Some(format!("RDS has pending modifications on {:?}: {}. They apply in the maintenance window (or at the next reboot); set apply_immediately = true to apply changes at once.", info.id, parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_malformed_timeouts_are_refused() {
        for bad in ["", "40", "m", "4x", "0s"] {
            let mut v = Value::Object(BTreeMap::new());
            v.set(
                "timeouts",
                Value::Object(BTreeMap::from([("delete".to_string(), Value::string(bad))])),
            );
            assert!(timeouts_from(&v).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bad_timeouts_name_the_field() {
        let mut v = Value::Object(BTreeMap::new());
        v.set(
            "timeouts",
            Value::Object(BTreeMap::from([(
                "create".to_string(),
                Value::string("soon"),
            )])),
        );
        let Err(d) = timeouts_from(&v) else {
            panic!("accepted")
        };
        assert!(
            format!("{d:?}").contains("timeouts.create = \\\"soon\\\""),
            "{d:?}"
        );
        v.set(
            "timeouts",
            Value::Object(BTreeMap::from([(
                "create".to_string(),
                Value::string("5m"),
            )])),
        );
        assert_eq!(
            timeouts_from(&v).ok().and_then(|t| t.create),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn null_plan_values_keep_the_base() {
        let planned = Value::Object(BTreeMap::from([
            ("allocated_storage_gb".to_string(), Value::int(50)),
            ("storage_type".to_string(), Value::Null),
        ]));
        let o = options_from(&planned, &InstanceSettings::default()).unwrap_or_default();
        assert_eq!(o.allocated_storage_gb, 50);
        assert_eq!(o.storage_type, "gp3");
        assert!(o.apply_immediately);
    }

    #[test]
    fn local_state_has_every_aws_attribute_null() {
        let m = state_values(None, None);
        assert_eq!(m.len(), aws_attributes().count());
        assert!(m.values().all(Value::is_null));
    }

    fn instance() -> DatabaseInfo {
        use crate::backend::{DatabaseSpec, DatabaseStatus, InstanceDetails};
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
            timeouts: OpTimeouts::default(),
        };
        DatabaseInfo {
            id: "orders".into(),
            spec,
            endpoint: "orders.x.us-east-1.rds.amazonaws.com".into(),
            port: 5432,
            status: DatabaseStatus::Available,
            engine_version_actual: "16.4".into(),
            connection_string: String::new(),
            master_user_secret: "arn:aws:secretsmanager:us-east-1:1:secret:x".into(),
            data_dir: None,
            master_password_rotated_at: None,
            created_at: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            details: Some(InstanceDetails {
                settings: InstanceSettings {
                    backup_window: Some("07:00-07:30".into()),
                    ..InstanceSettings::default()
                },
                arn: "arn:aws:rds:us-east-1:1:db:orders".into(),
                resource_id: "db-ABC".into(),
                pending_modifications: BTreeMap::from([(
                    "instance_class".to_string(),
                    "db.t4g.small".to_string(),
                )]),
                pending_reboot: true,
                unreported: vec![],
            }),
        }
    }

    #[test]
    fn pending_modifications_reach_state_and_a_warning() {
        let i = instance();
        let m = state_values(Some(&i), None);
        assert_eq!(m.get("pending_reboot"), Some(&Value::Bool(true)));
        assert_eq!(
            m.get("pending_modifications"),
            Some(&Value::Map(BTreeMap::from([(
                "instance_class".to_string(),
                Value::string("db.t4g.small")
            )])))
        );
        let w = pending_warning(&i).unwrap_or_default();
        assert!(
            w.contains("instance_class -> db.t4g.small")
                && w.contains("waiting for a reboot")
                && w.contains("apply_immediately"),
            "{w}"
        );
        let mut calm = i.clone();
        if let Some(d) = calm.details.as_mut() {
            d.pending_modifications.clear();
            d.pending_reboot = false;
        }
        assert_eq!(pending_warning(&calm), None);
    }

    #[test]
    fn windows_are_read_back() {
        let i = instance();
        assert_eq!(
            state_values(Some(&i), None).get("backup_window"),
            Some(&Value::string("07:00-07:30"))
        );
        let planned = Value::Object(BTreeMap::from([(
            "backup_window".to_string(),
            Value::string("07:00-07:30"),
        )]));
        assert_eq!(
            state_values(Some(&i), Some(&planned)).get("backup_window"),
            Some(&Value::string("07:00-07:30"))
        );
    }

    #[test]
    fn downgrades_and_shrinks_are_refused_at_plan() {
        let prior = Value::Object(BTreeMap::from([
            ("engine_version".to_string(), Value::string("16")),
            ("engine_version_actual".to_string(), Value::string("16.4")),
            ("allocated_storage_gb".to_string(), Value::int(40)),
        ]));
        let planned = Value::Object(BTreeMap::from([
            ("engine".to_string(), Value::string("postgres")),
            ("engine_version".to_string(), Value::string("15")),
            ("allocated_storage_gb".to_string(), Value::int(30)),
        ]));
        let d = plan_checks(&planned, &prior);
        let text = format!("{d:?}");
        assert_eq!(d.len(), 2, "{text}");
        assert!(
            text.contains("RDS cannot downgrade") && text.contains("storage only grows"),
            "{text}"
        );
        assert!(
            plan_checks(&planned, &Value::Null).is_empty(),
            "nothing to compare at create"
        );
    }
}
