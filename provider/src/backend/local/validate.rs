//! The checks every spec must pass on the local backend, with messages naming the attribute and the fix.

use crate::backend::{BackendError, DatabaseSpec};

/// Settings the backend manages itself; setting them in `parameters` would break archiving, TLS or access.
pub(super) const MANAGED_PARAMETERS: &[&str] = &[
    "listen_addresses",
    "port",
    "unix_socket_directories",
    "archive_mode",
    "archive_command",
    "restore_command",
    "wal_level",
    "ssl",
    "ssl_cert_file",
    "ssl_key_file",
    "ssl_min_protocol_version",
    "password_encryption",
    "data_directory",
    "hba_file",
    "ident_file",
    "config_file",
];

/// The checks every spec must pass on this backend; messages name the attribute and the fix.
pub fn validate_spec(spec: &DatabaseSpec) -> Result<(), BackendError> {
    let invalid = |field: &str, message: String| {
        Err(BackendError::Invalid {
            field: field.into(),
            message,
        })
    };
    if !valid_identifier(&spec.name) {
        return invalid(
            "name",
            format!("{:?} is not a valid database name: use 1-63 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen and without \"--\"", spec.name),
        );
    }
    if spec.engine != "postgres" {
        return invalid(
            "engine",
            format!("the local backend runs PostgreSQL only, not {:?}; set engine = \"postgres\" or use the aws backend", spec.engine),
        );
    }
    if let Some(v) = &spec.engine_version {
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
            return invalid(
                "engine_version",
                format!("{v:?} is not a PostgreSQL major version; use e.g. \"15\""),
            );
        }
    }
    if spec.multi_az {
        return invalid(
            "multi_az",
            "the local backend runs one server per database and cannot be multi-AZ; set multi_az = false or use the aws backend".into(),
        );
    }
    if !valid_sql_name(&spec.db_name) {
        return invalid(
            "db_name",
            format!("{:?} is not a valid database name: 1-63 letters, digits and underscores, starting with a letter", spec.db_name),
        );
    }
    if spec.master_username == super::identity::ADMIN_ROLE {
        return invalid(
            "master_username",
            format!(
                "{:?} is the provider's own administrative role on the local backend; choose another name",
                spec.master_username
            ),
        );
    }
    if !valid_sql_name(&spec.master_username) || spec.master_username.starts_with("pg_") {
        return invalid(
            "master_username",
            format!(
                "{:?} is not a valid role name: 1-63 letters, digits and underscores, starting with a letter, not starting with pg_",
                spec.master_username
            ),
        );
    }
    for (k, v) in &spec.parameters {
        if k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        {
            return invalid(
                &format!("parameters.{k}"),
                "not a PostgreSQL setting name (lowercase letters, digits, _ and .)".into(),
            );
        }
        if MANAGED_PARAMETERS.contains(&k.as_str()) {
            return invalid(
                &format!("parameters.{k}"),
                format!("{k} is managed by dbplatform (archiving, TLS and access depend on it); remove it from parameters"),
            );
        }
        if v.contains('\n') {
            return invalid(
                &format!("parameters.{k}"),
                "values cannot contain line breaks".into(),
            );
        }
    }
    Ok(())
}

/// Database identifiers as RDS accepts them, so a name works on both backends.
pub(super) fn valid_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

pub(super) fn valid_sql_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}
