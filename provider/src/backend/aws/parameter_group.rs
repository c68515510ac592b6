//! DB parameter groups: the engine family a group belongs to, the TLS and tier baselines every group carries,
//! which parameters take effect at once and which only after a reboot, and the RDS calls that keep a group's
//! user-set parameters equal to what Terraform asks for.

use std::collections::BTreeMap;

use aws_sdk_rds::types::{ApplyMethod, Parameter, Tag};

use super::error::ApiFailure;
use super::spec::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
use super::AwsBackend;
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

/// A parameter group as Terraform asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterGroupSpec {
    pub name: String,
    /// "postgres16", "mysql8.0".
    pub family: String,
    /// "postgres" or "mysql" (decides apply methods).
    pub engine: String,
    pub description: String,
    /// All parameters to set (already merged with baselines).
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// A parameter group as RDS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterGroupInfo {
    pub name: String,
    pub family: String,
    pub description: String,
    pub arn: String,
    /// Parameters set by a user (source "user"), i.e. everything dbplatform set.
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
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

fn to_parameters(engine: &str, params: &BTreeMap<String, String>) -> Vec<Parameter> {
    params
        .iter()
        .map(|(k, v)| {
            let method = if apply_method(engine, k) == "pending-reboot" {
                ApplyMethod::PendingReboot
            } else {
                ApplyMethod::Immediate
            };
            Parameter::builder()
                .parameter_name(k)
                .parameter_value(v)
                .apply_method(method)
                .build()
        })
        .collect()
}

impl AwsBackend {
    /// The group as it is now, `None` when it does not exist.
    pub async fn read_parameter_group(
        &self,
        name: &str,
    ) -> Result<Option<ParameterGroupInfo>, BackendError> {
        let out = match self
            .client()
            .describe_db_parameter_groups()
            .db_parameter_group_name(name)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "DBParameterGroupNotFound" {
                    return Ok(None);
                }
                return Err(f.into_backend(format!("reading DB parameter group {name:?}")));
            }
        };
        let Some(g) = out.db_parameter_groups().first() else {
            return Ok(None);
        };
        let arn = g.db_parameter_group_arn().unwrap_or_default().to_string();
        let parameters = self.user_parameters(name).await?;
        let tags = if arn.is_empty() {
            BTreeMap::new()
        } else {
            self.tags_of(&arn).await?
        };
        Ok(Some(ParameterGroupInfo {
            name: name.to_string(),
            family: g
                .db_parameter_group_family()
                .unwrap_or_default()
                .to_string(),
            description: g.description().unwrap_or_default().to_string(),
            arn,
            parameters,
            tags,
        }))
    }

    /// Parameters of a group set by a user (not engine defaults), following pagination.
    pub async fn user_parameters(
        &self,
        name: &str,
    ) -> Result<BTreeMap<String, String>, BackendError> {
        let mut out = BTreeMap::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client()
                .describe_db_parameters()
                .db_parameter_group_name(name)
                .source("user")
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e)
                        .into_backend(format!("reading parameters of DB parameter group {name:?}"))
                })?;
            for p in page.parameters() {
                let user_set = p.source().map(|s| s == "user").unwrap_or(true);
                if let (true, Some(k), Some(v)) =
                    (user_set, p.parameter_name(), p.parameter_value())
                {
                    out.insert(k.to_string(), v.to_string());
                }
            }
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Creates the group (or adopts one carrying our management tag) and makes its user parameters equal to
    /// `spec.parameters`: changed ones modified, removed ones reset to the engine default.
    pub async fn ensure_parameter_group(
        &self,
        spec: &ParameterGroupSpec,
    ) -> Result<ParameterGroupInfo, BackendError> {
        if !valid_group_name(&spec.name) {
            return Err(BackendError::Invalid {
                field: "name".into(),
                message: format!("{:?} is not a valid parameter group name: letters, digits and hyphens, starting with a letter, no \"--\", not ending with a hyphen", spec.name),
            });
        }
        let current = match self.read_parameter_group(&spec.name).await? {
            Some(g) => {
                if g.tags.get(MANAGED_TAG_KEY).map(String::as_str) != Some(MANAGED_TAG_VALUE) {
                    return Err(BackendError::AlreadyExists {
                        name: spec.name.clone(),
                        location: format!(
                            "RDS parameter group {} (not created by dbplatform)",
                            g.arn
                        ),
                    });
                }
                if g.family != spec.family {
                    return Err(BackendError::Invalid {
                        field: "family".into(),
                        message: format!(
                            "parameter group {:?} has family {} and cannot change to {}; it must be replaced",
                            spec.name, g.family, spec.family
                        ),
                    });
                }
                g
            }
            None => {
                let mut tags: Vec<Tag> = spec
                    .tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect();
                tags.push(
                    Tag::builder()
                        .key(MANAGED_TAG_KEY)
                        .value(MANAGED_TAG_VALUE)
                        .build(),
                );
                let res = self
                    .client()
                    .create_db_parameter_group()
                    .db_parameter_group_name(&spec.name)
                    .db_parameter_group_family(&spec.family)
                    .description(&spec.description)
                    .set_tags(Some(tags))
                    .send()
                    .await;
                if let Err(e) = res {
                    let f = ApiFailure::from_sdk(&e);
                    // A retried create whose first attempt went through: carry on with the group that exists.
                    if f.code != "DBParameterGroupAlreadyExists" {
                        return Err(
                            f.into_backend(format!("creating DB parameter group {:?}", spec.name))
                        );
                    }
                }
                match self.read_parameter_group(&spec.name).await? {
                    Some(g) => g,
                    None => {
                        return Err(BackendError::Command {
                            what: format!("creating DB parameter group {:?}", spec.name),
                            status: "not found after create".into(),
                            output: "RDS reported success but the group cannot be described; run terraform apply again".into(),
                        })
                    }
                }
            }
        };
        let changed: BTreeMap<String, String> = spec
            .parameters
            .iter()
            .filter(|(k, v)| current.parameters.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let removed: BTreeMap<String, String> = current
            .parameters
            .iter()
            .filter(|(k, _)| !spec.parameters.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let changed_list = to_parameters(&spec.engine, &changed);
        for chunk in changed_list.chunks(20) {
            self.client()
                .modify_db_parameter_group()
                .db_parameter_group_name(&spec.name)
                .set_parameters(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e).into_backend(format!(
                        "setting parameters of DB parameter group {:?}",
                        spec.name
                    ))
                })?;
        }
        let removed_list = to_parameters(&spec.engine, &removed);
        for chunk in removed_list.chunks(20) {
            self.client()
                .reset_db_parameter_group()
                .db_parameter_group_name(&spec.name)
                .set_parameters(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e).into_backend(format!(
                        "resetting parameters of DB parameter group {:?}",
                        spec.name
                    ))
                })?;
        }
        // Tags: bring the user's tags in line (ours stay).
        let mut want = spec.tags.clone();
        want.insert(MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into());
        self.sync_tags(&current.arn, &current.tags, &want).await?;
        self.read_parameter_group(&spec.name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: spec.name.clone(),
            })
    }

    /// Deletes a group; a group that is already gone is fine.
    pub async fn delete_parameter_group(&self, name: &str) -> Result<(), BackendError> {
        match self
            .client()
            .delete_db_parameter_group()
            .db_parameter_group_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "DBParameterGroupNotFound" {
                    return Ok(());
                }
                if f.code == "InvalidDBParameterGroupState" {
                    return Err(BackendError::Command {
                        what: format!("deleting DB parameter group {name:?}"),
                        status: f.code,
                        output: format!(
                            "{}; it is still attached to a database: point that database's parameter_group_name elsewhere first",
                            f.message
                        ),
                    });
                }
                Err(f.into_backend(format!("deleting DB parameter group {name:?}")))
            }
        }
    }
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
