//! Parameter rules of the golden path: the TLS and tier baselines every group carries, which parameters take
//! effect at once and which only after a reboot, the merged set a database gets, and valid group names. Pure
//! functions, shared by request validation ([`super::spec`]) and the parameter group calls.

use std::collections::BTreeMap;

use crate::backend::BackendError;

/// Parameters that only change after the instance reboots (static parameters); everything else is applied at once.
const STATIC_POSTGRES: &[&str] = &[
    "shared_buffers",
    "max_connections",
    "shared_preload_libraries",
    "max_worker_processes",
    "max_wal_senders",
    "max_replication_slots",
    "wal_buffers",
    "max_locks_per_transaction",
    "max_prepared_transactions",
    "track_activity_query_size",
    "huge_pages",
];
const STATIC_MYSQL: &[&str] = &[
    "innodb_buffer_pool_instances",
    "innodb_log_file_size",
    "innodb_log_buffer_size",
    "performance_schema",
    "innodb_read_io_threads",
    "innodb_write_io_threads",
    "lower_case_table_names",
    "innodb_ft_min_token_size",
    "skip_name_resolve",
];

/// How a parameter change reaches a running instance.
pub fn apply_method(engine: &str, parameter: &str) -> &'static str {
    let statics = if engine == "mysql" {
        STATIC_MYSQL
    } else {
        STATIC_POSTGRES
    };
    if statics.contains(&parameter) {
        "pending-reboot"
    } else {
        "immediate"
    }
}

/// The parameters that force TLS for an engine (and their required values).
pub fn tls_parameters(engine: &str, min_tls_version: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if engine == "mysql" {
        m.insert("require_secure_transport".into(), "1".into());
        let versions = if min_tls_version == "1.3" {
            "TLSv1.3"
        } else {
            "TLSv1.2,TLSv1.3"
        };
        m.insert("tls_version".into(), versions.into());
    } else {
        m.insert("rds.force_ssl".into(), "1".into());
        m.insert(
            "ssl_min_protocol_version".into(),
            format!("TLSv{min_tls_version}"),
        );
    }
    m
}

/// Tier baselines beyond TLS: logging the golden path wants on every database of a tier.
pub fn tier_baseline(engine: &str, tier: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let critical = tier == "tier-0" || tier == "tier-1";
    if engine == "mysql" {
        if critical {
            m.insert("slow_query_log".into(), "1".into());
            m.insert("long_query_time".into(), "2".into());
        }
    } else {
        m.insert(
            "log_min_duration_statement".into(),
            if critical { "1000" } else { "5000" }.into(),
        );
        if critical {
            m.insert("log_connections".into(), "1".into());
            m.insert("log_disconnections".into(), "1".into());
        }
    }
    m
}

/// Every parameter the group ends up with: tier baseline, then the user's, then TLS (which users cannot weaken).
pub fn effective_parameters(
    engine: &str,
    tier: &str,
    min_tls_version: &str,
    user: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, BackendError> {
    let tls = tls_parameters(engine, min_tls_version);
    for (k, v) in user {
        if let Some(required) = tls.get(k) {
            if v != required {
                return Err(BackendError::Invalid {
                    field: format!("parameters.{k}"),
                    message: format!(
                        "TLS is required on every dbplatform database, so {k} must be {required:?}; remove it from parameters"
                    ),
                });
            }
        }
    }
    let mut all = tier_baseline(engine, tier);
    all.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.extend(tls);
    Ok(all)
}

/// Valid parameter group names: 1-255 letters, digits and hyphens, letter first, no "--", no trailing hyphen.
pub fn valid_group_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_forced_and_cannot_be_weakened() {
        let user = BTreeMap::from([("work_mem".to_string(), "8192".to_string())]);
        let all = effective_parameters("postgres", "tier-2", "1.2", &user).unwrap_or_default();
        assert_eq!(all.get("rds.force_ssl").map(String::as_str), Some("1"));
        assert_eq!(
            all.get("ssl_min_protocol_version").map(String::as_str),
            Some("TLSv1.2")
        );
        assert_eq!(all.get("work_mem").map(String::as_str), Some("8192"));
        let weak = BTreeMap::from([("require_secure_transport".to_string(), "0".to_string())]);
        let Err(e) = effective_parameters("mysql", "tier-3", "1.2", &weak) else {
            panic!("TLS off accepted")
        };
        assert!(
            e.to_string()
                .starts_with("parameters.require_secure_transport: TLS is required"),
            "{e}"
        );
    }

    #[test]
    fn user_values_override_tier_baselines() {
        let user = BTreeMap::from([("log_min_duration_statement".to_string(), "250".to_string())]);
        let all = effective_parameters("postgres", "tier-1", "1.2", &user).unwrap_or_default();
        assert_eq!(
            all.get("log_min_duration_statement").map(String::as_str),
            Some("250")
        );
        assert_eq!(all.get("log_connections").map(String::as_str), Some("1"));
    }

    #[test]
    fn static_parameters_wait_for_a_reboot() {
        assert_eq!(apply_method("postgres", "shared_buffers"), "pending-reboot");
        assert_eq!(apply_method("postgres", "work_mem"), "immediate");
        assert_eq!(
            apply_method("mysql", "innodb_log_file_size"),
            "pending-reboot"
        );
    }
}
