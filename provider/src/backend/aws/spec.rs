//! What an RDS instance is asked to be beyond the backend-neutral [`DatabaseSpec`], and the checks our
//! own code makes before any API call (the RDS emulator accepts nearly anything, real RDS fails late).

use std::collections::BTreeMap;

pub use crate::backend::instance::InstanceSettings as AwsOptions;
pub use crate::backend::version::compare_major;
use crate::backend::{BackendError, DatabaseSpec};

/// Tag marking an instance (or parameter group) as created by dbplatform, so a retried create can adopt it.
pub const MANAGED_TAG_KEY: &str = "dbplatform:managed";
/// Value of [`MANAGED_TAG_KEY`].
pub const MANAGED_TAG_VALUE: &str = "true";
/// Tag carrying the database's tier, so an import recovers it.
pub const TIER_TAG_KEY: &str = "tier";

/// Default major versions when the configuration leaves `engine_version` null.
pub const DEFAULT_POSTGRES_MAJOR: &str = "16";
/// Default MySQL major version.
pub const DEFAULT_MYSQL_MAJOR: &str = "8.0";

/// A complete request for one RDS instance: the backend-neutral spec plus the RDS-only options.
#[derive(Debug, Clone, PartialEq)]
pub struct RdsInstanceSpec {
    pub spec: DatabaseSpec,
    pub aws: AwsOptions,
}

fn invalid(field: &str, message: String) -> BackendError {
    BackendError::Invalid {
        field: field.to_string(),
        message,
    }
}

/// RDS DB instance identifier rule: 1-63 letters, digits and hyphens, letter first, no "--", no trailing hyphen.
pub fn valid_instance_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// The major version a full or major version string belongs to: "16.4" -> "16", "8.0.39" -> "8.0".
pub fn major_of(engine: &str, version: &str) -> String {
    let mut parts = version.split('.');
    let first = parts.next().unwrap_or("").to_string();
    match engine {
        // MySQL majors have two components (5.7, 8.0, 8.4).
        "mysql" => match parts.next() {
            Some(second) => format!("{first}.{second}"),
            None => first,
        },
        // PostgreSQL 10+ majors are one number; 9.6 has two.
        _ if first == "9" => match parts.next() {
            Some(second) => format!("{first}.{second}"),
            None => first,
        },
        _ => first,
    }
}

/// The requested major version, or the engine's default.
pub fn requested_major(spec: &DatabaseSpec) -> String {
    match &spec.engine_version {
        Some(v) if !v.is_empty() => major_of(&spec.engine, v),
        _ if spec.engine == "mysql" => DEFAULT_MYSQL_MAJOR.to_string(),
        _ => DEFAULT_POSTGRES_MAJOR.to_string(),
    }
}

/// The major versions RDS offers for an engine (the emulator cannot list them: DescribeDBEngineVersions fails).
pub fn offered_majors(engine: &str) -> &'static [&'static str] {
    match engine {
        "postgres" => &["11", "12", "13", "14", "15", "16", "17"],
        "mysql" => &["5.7", "8.0", "8.4"],
        _ => &[],
    }
}

/// The storage range RDS allows for a storage type, in GiB (`None` for an unknown type).
pub fn storage_range(storage_type: &str) -> Option<(u32, u32)> {
    match storage_type {
        "gp2" | "gp3" => Some((20, 65_536)),
        "io1" | "io2" => Some((100, 65_536)),
        "standard" => Some((5, 3_072)),
        _ => None,
    }
}

/// Parameter group family for an engine and major version: postgres + 16 -> "postgres16", mysql + 8.0 -> "mysql8.0".
pub fn parameter_group_family(engine: &str, major: &str) -> Result<String, BackendError> {
    match engine {
        "postgres" | "mysql" => Ok(format!("{engine}{}", major_of(engine, major))),
        other => Err(invalid(
            "engine",
            format!("{other:?} is not supported; use \"postgres\" or \"mysql\""),
        )),
    }
}

/// Name of the parameter group the backend manages for a database that names none.
pub fn managed_parameter_group_name(instance: &str) -> String {
    format!("dbplatform-{instance}")
}

fn valid_window(s: &str, with_day: bool) -> bool {
    let part = |p: &str| -> bool {
        let (day, time) = if with_day {
            match p.split_once(':') {
                Some((d, t)) => (Some(d), t),
                None => return false,
            }
        } else {
            (None, p)
        };
        if let Some(d) = day {
            if !["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .contains(&d.to_ascii_lowercase().as_str())
            {
                return false;
            }
        }
        match time.split_once(':') {
            Some((h, m)) => {
                h.len() == 2
                    && m.len() == 2
                    && h.parse::<u32>().map(|h| h < 24).unwrap_or(false)
                    && m.parse::<u32>().map(|m| m < 60).unwrap_or(false)
            }
            None => false,
        }
    };
    match s.split_once('-') {
        Some((a, b)) => part(a) && part(b),
        None => false,
    }
}

fn valid_sql_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

const RESERVED_DB_USERS: &[&str] = &[
    "admin",
    "rdsadmin",
    "postgres_rds",
    "rdsrepladmin",
    "root",
    "mysql.sys",
];

/// Checks a request against RDS rules our code knows, naming the attribute and the fix; the first problem. Runs
/// before any API call.
pub fn validate(req: &RdsInstanceSpec) -> Result<(), BackendError> {
    match validate_all(req).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every problem of a request (a plan reports them all in one round), each naming the attribute and the fix.
pub fn validate_all(req: &RdsInstanceSpec) -> Vec<BackendError> {
    let mut errs = Vec::new();
    let spec = &req.spec;
    let o = &req.aws;
    if !valid_instance_identifier(&spec.name) {
        errs.push(invalid(
            "name",
            format!(
                "{:?} is not a valid RDS instance identifier: use 1-63 letters, digits and hyphens, starting with a letter, not ending with a hyphen and without \"--\"",
                spec.name
            ),
        ));
    }
    let lengine = spec.engine.as_str();
    if lengine != "postgres" && lengine != "mysql" {
        errs.push(invalid(
            "engine",
            format!(
                "{:?} is not supported; use \"postgres\" or \"mysql\"",
                spec.engine
            ),
        ));
    }
    if let Some(v) = &spec.engine_version {
        let ok = !v.is_empty()
            && v.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            let example = if lengine == "mysql" {
                "\"8.0\""
            } else {
                "\"16\""
            };
            errs.push(invalid(
                "engine_version",
                format!("{v:?} is not a {lengine} version; use a major version such as {example}"),
            ));
        }
        if ok && major_of(lengine, v) != *v {
            errs.push(invalid(
                "engine_version",
                format!(
                    "{v:?} names a minor version; set the major version {:?} (the running minor version is reported in engine_version_actual and upgraded automatically)",
                    major_of(lengine, v)
                ),
            ));
        } else if ok {
            let offered = offered_majors(lengine);
            if !offered.is_empty() && !offered.contains(&v.as_str()) {
                errs.push(invalid(
                    "engine_version",
                    format!(
                        "{lengine} {v} is not offered by RDS; use one of {}",
                        offered.join(", ")
                    ),
                ));
            }
        }
    }
    if !spec.instance_class.starts_with("db.") || spec.instance_class.split('.').count() != 3 {
        errs.push(invalid(
            "instance_class",
            format!(
                "{:?} is not an RDS instance class; use a class such as \"db.t4g.micro\" or \"db.m6g.large\"",
                spec.instance_class
            ),
        ));
    }
    if !valid_sql_name(&spec.db_name) || (lengine == "mysql" && spec.db_name.len() > 64) {
        errs.push(invalid(
            "db_name",
            format!(
                "{:?} is not a valid database name: 1-63 letters, digits and underscores, starting with a letter",
                spec.db_name
            ),
        ));
    }
    let max_user = if lengine == "mysql" { 16 } else { 63 };
    if !valid_sql_name(&spec.master_username) || spec.master_username.len() > max_user {
        errs.push(invalid(
            "master_username",
            format!(
                "{:?} is not a valid master user name for {lengine}: 1-{max_user} letters, digits and underscores, starting with a letter",
                spec.master_username
            ),
        ));
    }
    if RESERVED_DB_USERS.contains(&spec.master_username.to_ascii_lowercase().as_str())
        || (lengine == "postgres"
            && (spec.master_username.starts_with("pg_") || spec.master_username.starts_with("rds")))
    {
        errs.push(invalid(
            "master_username",
            format!(
                "{:?} is reserved by RDS; choose another name such as \"dbadmin\"",
                spec.master_username
            ),
        ));
    }
    if spec.backup_retention_days > 35 {
        errs.push(invalid(
            "backup_retention_days",
            format!(
                "{} is above the RDS maximum of 35 days",
                spec.backup_retention_days
            ),
        ));
    }
    if spec.point_in_time_recovery && spec.backup_retention_days == 0 {
        errs.push(invalid(
            "backup_retention_days",
            "point-in-time recovery needs automated backups; set backup_retention_days to 1 or more".into(),
        ));
    }
    let (min_storage, max_storage) = match o.storage_type.as_str() {
        "gp2" | "gp3" => (20, 65_536),
        "io1" | "io2" => (100, 65_536),
        "standard" => (5, 3_072),
        other => {
            errs.push(invalid(
                "storage_type",
                format!("{other:?} is not an RDS storage type; use \"gp3\", \"gp2\", \"io1\", \"io2\" or \"standard\""),
            ));
            (0, u32::MAX)
        }
    };
    if o.allocated_storage_gb < min_storage || o.allocated_storage_gb > max_storage {
        errs.push(invalid(
            "allocated_storage_gb",
            format!(
                "{} GiB is outside {min_storage}-{max_storage} GiB allowed for {} storage",
                o.allocated_storage_gb, o.storage_type
            ),
        ));
    }
    if let Some(max) = o.max_allocated_storage_gb {
        if max <= o.allocated_storage_gb || max > max_storage {
            errs.push(invalid(
                "max_allocated_storage_gb",
                format!(
                    "{max} GiB must be above allocated_storage_gb ({}) and at most {max_storage}; leave it null to turn storage autoscaling off",
                    o.allocated_storage_gb
                ),
            ));
        }
    }
    if o.kms_key_id.is_some() && !o.storage_encrypted {
        errs.push(invalid(
            "kms_key_id",
            "a KMS key needs encrypted storage; remove kms_key_id or keep storage encrypted".into(),
        ));
    }
    if let Some(w) = &o.backup_window {
        if !valid_window(w, false) {
            errs.push(invalid(
                "backup_window",
                format!(
                    "{w:?} is not a window; use \"hh24:mi-hh24:mi\" in UTC, e.g. \"03:00-04:00\""
                ),
            ));
        }
    }
    if let Some(w) = &o.maintenance_window {
        if !valid_window(w, true) {
            errs.push(invalid(
                "maintenance_window",
                format!("{w:?} is not a window; use \"ddd:hh24:mi-ddd:hh24:mi\" in UTC, e.g. \"sun:05:00-sun:06:00\""),
            ));
        }
    }
    for id in &o.vpc_security_group_ids {
        if !id.starts_with("sg-") {
            errs.push(invalid(
                "vpc_security_group_ids",
                format!("{id:?} is not a security group id (sg-...)"),
            ));
        }
    }
    if ![0, 1, 5, 10, 15, 30, 60].contains(&o.monitoring_interval_seconds) {
        errs.push(invalid(
            "monitoring_interval_seconds",
            format!(
                "{} is not allowed; use 0 (off), 1, 5, 10, 15, 30 or 60",
                o.monitoring_interval_seconds
            ),
        ));
    }
    if o.monitoring_interval_seconds > 0 && o.monitoring_role_arn.is_none() {
        errs.push(invalid(
            "monitoring_role_arn",
            "enhanced monitoring (monitoring_interval_seconds > 0) needs an IAM role; set monitoring_role_arn or monitoring_interval_seconds = 0".into(),
        ));
    }
    let allowed_logs: &[&str] = if lengine == "postgres" {
        &["postgresql", "upgrade", "iam-db-auth-error"]
    } else {
        &[
            "audit",
            "error",
            "general",
            "slowquery",
            "iam-db-auth-error",
        ]
    };
    for l in &o.log_exports {
        if !allowed_logs.contains(&l.as_str()) {
            errs.push(invalid(
                "log_exports",
                format!(
                    "{l:?} is not a {lengine} log; use {}",
                    allowed_logs.join(", ")
                ),
            ));
        }
    }
    for (k, v) in &spec.tags {
        if (k == TIER_TAG_KEY && *v != spec.tier)
            || k.starts_with("dbplatform:")
            || k.to_ascii_lowercase().starts_with("aws:")
        {
            errs.push(invalid(
                &format!("tags.{k}"),
                format!("{k:?} is reserved (set by dbplatform or AWS); remove it from tags"),
            ));
        }
        if k.len() > 128 || v.len() > 256 {
            errs.push(invalid(
                &format!("tags.{k}"),
                "tag keys are at most 128 and values at most 256 characters".into(),
            ));
        }
    }
    let tls_min = if spec.min_tls_version.is_empty() {
        "1.2"
    } else {
        spec.min_tls_version.as_str()
    };
    if !["1.2", "1.3"].contains(&tls_min) {
        errs.push(invalid(
            "min_tls_version",
            format!("{tls_min:?} is not supported; use \"1.2\" or \"1.3\""),
        ));
    }
    if let Err(e) =
        super::parameters::effective_parameters(lengine, &spec.tier, tls_min, &spec.parameters)
    {
        errs.push(e);
    }
    if o.parameter_group_name.is_some() && !spec.parameters.is_empty() {
        errs.push(invalid(
            "parameters",
            "set engine parameters in the dbplatform_parameter_group named by parameter_group_name, not on the database".into(),
        ));
    }
    errs
}

/// Tags an instance carries: the user's (already merged with provider default_tags), the tier, the management tag.
pub fn instance_tags(spec: &DatabaseSpec) -> BTreeMap<String, String> {
    let mut tags = spec.tags.clone();
    tags.insert(TIER_TAG_KEY.into(), spec.tier.clone());
    tags.insert(MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into());
    tags
}

/// Splits tags read from AWS into (tier, managed?, tags). The `tier` tag stays in the tags (the resource puts it
/// in `tags_all` too); only the management tag, which no configuration ever sets, is removed.
pub fn split_tags(
    mut tags: BTreeMap<String, String>,
) -> (Option<String>, bool, BTreeMap<String, String>) {
    let tier = tags.get(TIER_TAG_KEY).cloned();
    let managed = tags.remove(MANAGED_TAG_KEY).as_deref() == Some(MANAGED_TAG_VALUE);
    (tier, managed, tags)
}

/// The CloudWatch log exports every dbplatform database on RDS has (DBP-LOG-001): postgresql for PostgreSQL,
/// error and slowquery for MySQL. Empty on other backends.
pub fn required_log_exports(backend: &str, engine: &str) -> Vec<String> {
    match (backend, engine) {
        ("aws", "mysql") => vec!["error".into(), "slowquery".into()],
        ("aws", _) => vec!["postgresql".into()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec(engine: &str) -> RdsInstanceSpec {
        RdsInstanceSpec {
            spec: DatabaseSpec {
                name: "orders-db".into(),
                engine: engine.into(),
                engine_version: None,
                tier: "tier-3".into(),
                instance_class: "db.t4g.micro".into(),
                db_name: "orders".into(),
                master_username: "dbadmin".into(),
                multi_az: false,
                backup_retention_days: 1,
                point_in_time_recovery: false,
                deletion_protection: false,
                tls_required: true,
                min_tls_version: "1.2".into(),
                parameters: BTreeMap::new(),
                tags: BTreeMap::new(),
                instance: None,
                timeouts: Default::default(),
            },
            aws: AwsOptions::default(),
        }
    }

    fn err_field(r: Result<(), BackendError>) -> String {
        match r {
            Err(BackendError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn identifiers_follow_rds_rules() {
        for ok in ["a", "orders-db", "A1-b2", &"a".repeat(63)] {
            assert!(valid_instance_identifier(ok), "{ok}");
        }
        for bad in ["", "1abc", "a--b", "a-", "a_b", &"a".repeat(64), "ab.c"] {
            assert!(!valid_instance_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn valid_spec_passes_and_bad_fields_are_named() {
        assert!(validate(&spec("postgres")).is_ok());
        assert!(validate(&spec("mysql")).is_ok());
        let mut s = spec("postgres");
        s.spec.name = "bad--name".into();
        assert_eq!(err_field(validate(&s)), "name");
        let mut s = spec("postgres");
        s.spec.engine = "oracle".into();
        assert_eq!(err_field(validate(&s)), "engine");
        let mut s = spec("postgres");
        s.spec.engine_version = Some("16.4".into());
        let Err(e) = validate(&s) else {
            panic!("minor version accepted")
        };
        assert!(e.to_string().contains("engine_version_actual"), "{e}");
        let mut s = spec("postgres");
        s.aws.allocated_storage_gb = 5;
        assert_eq!(err_field(validate(&s)), "allocated_storage_gb");
        let mut s = spec("postgres");
        s.aws.max_allocated_storage_gb = Some(20);
        assert_eq!(err_field(validate(&s)), "max_allocated_storage_gb");
        let mut s = spec("postgres");
        s.spec.instance_class = "m5.large".into();
        assert_eq!(err_field(validate(&s)), "instance_class");
        let mut s = spec("mysql");
        s.spec.master_username = "a_very_long_mysql_user".into();
        assert_eq!(err_field(validate(&s)), "master_username");
        let mut s = spec("postgres");
        s.aws.monitoring_interval_seconds = 30;
        assert_eq!(err_field(validate(&s)), "monitoring_role_arn");
        let mut s = spec("postgres");
        s.aws.backup_window = Some("3:00-4:00".into());
        assert_eq!(err_field(validate(&s)), "backup_window");
        let mut s = spec("postgres");
        s.aws.maintenance_window = Some("sun:05:00-sun:06:00".into());
        assert!(validate(&s).is_ok());
        let mut s = spec("postgres");
        s.aws.log_exports = vec!["slowquery".into()];
        assert_eq!(err_field(validate(&s)), "log_exports");
        let mut s = spec("postgres");
        s.spec.tags.insert("tier".into(), "x".into());
        assert_eq!(err_field(validate(&s)), "tags.tier");
        s.spec.tags.insert("tier".into(), "tier-3".into());
        assert!(
            validate(&s).is_ok(),
            "the tier tag with the tier's own name is fine"
        );
    }

    #[test]
    fn majors_and_families() {
        assert_eq!(major_of("postgres", "16.4"), "16");
        assert_eq!(major_of("postgres", "9.6.22"), "9.6");
        assert_eq!(major_of("mysql", "8.0.39"), "8.0");
        assert_eq!(
            parameter_group_family("postgres", "16").ok().as_deref(),
            Some("postgres16")
        );
        assert_eq!(
            parameter_group_family("mysql", "8.0.35").ok().as_deref(),
            Some("mysql8.0")
        );
        assert!(compare_major("8.0", "8.4").is_lt());
        assert!(compare_major("9.6", "16").is_lt());
        assert!(compare_major("16", "15").is_gt());
    }

    #[test]
    fn tags_round_trip_without_our_own() {
        let mut s = spec("postgres").spec;
        s.tags.insert("team".into(), "payments".into());
        let all = instance_tags(&s);
        assert_eq!(all.get(MANAGED_TAG_KEY).map(String::as_str), Some("true"));
        assert_eq!(all.get("tier").map(String::as_str), Some("tier-3"));
        let (tier, managed, user) = split_tags(all);
        assert_eq!(tier.as_deref(), Some("tier-3"));
        assert!(managed);
        let mut want = s.tags.clone();
        want.insert("tier".into(), "tier-3".into());
        assert_eq!(user, want);
    }
}
