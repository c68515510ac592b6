//! Reading RDS: describing an instance and turning it into our view (status, settings, tags, pending changes,
//! the parameter group's TLS and parameters), and polling until an instance is ready or gone.

use super::client::AwsBackend;
use super::error::ApiFailure;
use super::instance::RdsInstance;
use super::parameters::effective_parameters;
use super::spec::major_of;
use super::spec::managed_parameter_group_name;
use super::spec::split_tags;
use super::spec::AwsOptions;
use super::waiter::wait_for;
use super::waiter::Poll;
use super::waiter::WaitError;
use super::waiter::WaitPolicy;
use crate::backend::{BackendError, DatabaseInfo, DatabaseSpec, DatabaseStatus};
use aws_sdk_rds::types::DbInstance;
use aws_sdk_rds::types::Tag;
use chrono::DateTime;
use chrono::Utc;
use std::collections::BTreeMap;

/// RDS tags as a map (a tag without a key is dropped; one without a value maps to ""): one reading of the
/// `TagList` for instances, replicas and `ListTagsForResource`.
pub(super) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

pub(super) fn to_chrono(t: Option<&aws_sdk_rds::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

pub(super) fn rds_status_to_status(s: &str) -> DatabaseStatus {
    match s {
        "available" | "storage-optimization" | "backing-up" => DatabaseStatus::Available,
        "stopped" => DatabaseStatus::Stopped,
        "creating" => DatabaseStatus::Creating,
        s if s == "failed"
            || s.starts_with("incompatible")
            || s.starts_with("inaccessible")
            || s == "storage-full" =>
        {
            DatabaseStatus::Failed
        }
        _ => DatabaseStatus::Modifying,
    }
}

/// Statuses in which an instance serves traffic and accepts modifications.
pub(super) fn is_ready(s: &str) -> bool {
    matches!(s, "available" | "storage-optimization")
}

pub(super) fn is_terminal_failure(s: &str) -> bool {
    rds_status_to_status(s) == DatabaseStatus::Failed
}

/// libpq / MySQL URI without a password.
pub fn connection_uri(engine: &str, user: &str, host: &str, port: u16, db: &str) -> String {
    if engine == "mysql" {
        format!("mysql://{user}@{host}:{port}/{db}?ssl-mode=REQUIRED")
    } else {
        format!("postgresql://{user}@{host}:{port}/{db}?sslmode=require")
    }
}

pub(super) fn pending_map(db: &DbInstance) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(p) = db.pending_modified_values() {
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("instance_class", p.db_instance_class().map(str::to_string));
        put(
            "allocated_storage_gb",
            p.allocated_storage().map(|v| v.to_string()),
        );
        put("multi_az", p.multi_az().map(|v| v.to_string()));
        put("engine_version", p.engine_version().map(str::to_string));
        put(
            "backup_retention_days",
            p.backup_retention_period().map(|v| v.to_string()),
        );
        put("storage_type", p.storage_type().map(str::to_string));
        put(
            "ca_certificate_identifier",
            p.ca_certificate_identifier().map(str::to_string),
        );
        put(
            "db_subnet_group_name",
            p.db_subnet_group_name().map(str::to_string),
        );
        put(
            "iam_database_authentication",
            p.iam_database_authentication_enabled()
                .map(|v| v.to_string()),
        );
        put(
            "master_user_password",
            p.master_user_password().map(|_| "(changing)".to_string()),
        );
    }
    m
}

/// Settings RDS accepted but applies later (maintenance window, reboot) are reported as the instance's settings,
/// so state matches the configuration and the plan shows no perpetual diff; `pending_modifications` and a
/// warning say they are not in effect yet.
pub(super) fn overlay_pending(
    db: &DbInstance,
    mut spec: DatabaseSpec,
    mut aws: AwsOptions,
) -> (DatabaseSpec, AwsOptions) {
    let Some(p) = db.pending_modified_values() else {
        return (spec, aws);
    };
    if let Some(c) = p.db_instance_class() {
        spec.instance_class = c.to_string();
    }
    if let Some(m) = p.multi_az() {
        spec.multi_az = m;
    }
    if let Some(r) = p.backup_retention_period() {
        spec.backup_retention_days = r.max(0) as u32;
        spec.point_in_time_recovery = r > 0;
    }
    if let Some(v) = p.engine_version() {
        spec.engine_version = Some(major_of(&spec.engine, v));
    }
    if let Some(a) = p.allocated_storage() {
        aws.allocated_storage_gb = a.max(0) as u32;
    }
    if let Some(t) = p.storage_type() {
        aws.storage_type = t.to_string();
    }
    if let Some(i) = p.iam_database_authentication_enabled() {
        aws.iam_database_authentication = i;
    }
    if let Some(g) = p.db_subnet_group_name() {
        aws.db_subnet_group_name = Some(g.to_string());
    }
    (spec, aws)
}

impl AwsBackend {
    /// The raw RDS description, `None` when no instance has that identifier.
    pub(super) async fn describe_raw(&self, name: &str) -> Result<Option<DbInstance>, ApiFailure> {
        match self
            .client
            .describe_db_instances()
            .db_instance_identifier(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_instances().first().cloned()),
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "DBInstanceNotFound" || f.code == "DBInstanceNotFoundFault" {
                    Ok(None)
                } else {
                    Err(f)
                }
            }
        }
    }

    pub(crate) async fn tags_of(
        &self,
        arn: &str,
    ) -> Result<BTreeMap<String, String>, BackendError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk(&e).into_backend(format!("listing tags of {arn}")))?;
        Ok(tag_map(out.tag_list()))
    }

    /// Adds and removes tags so `arn` carries exactly `want`.
    pub(crate) async fn sync_tags(
        &self,
        arn: &str,
        have: &BTreeMap<String, String>,
        want: &BTreeMap<String, String>,
    ) -> Result<(), BackendError> {
        let add: Vec<Tag> = want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let remove: Vec<String> = have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect();
        if !add.is_empty() {
            self.client
                .add_tags_to_resource()
                .resource_name(arn)
                .set_tags(Some(add))
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_backend(format!("tagging {arn}")))?;
        }
        if !remove.is_empty() {
            self.client
                .remove_tags_from_resource()
                .resource_name(arn)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e).into_backend(format!("removing tags from {arn}"))
                })?;
        }
        Ok(())
    }

    /// Turns an RDS description into our view, reading the attached parameter group for TLS and parameters.
    pub(super) async fn observe(&self, db: &DbInstance) -> Result<RdsInstance, BackendError> {
        let name = db.db_instance_identifier().unwrap_or_default().to_string();
        let engine = db.engine().unwrap_or_default().to_string();
        let version = db.engine_version().unwrap_or_default().to_string();
        let tags: BTreeMap<String, String> = tag_map(db.tag_list());
        let (tier, managed, user_tags) = split_tags(tags);
        let group = db.db_parameter_groups().first();
        let group_name = group
            .and_then(|g| g.db_parameter_group_name())
            .unwrap_or_default()
            .to_string();
        let pending_reboot = db
            .db_parameter_groups()
            .iter()
            .any(|g| g.parameter_apply_status() == Some("pending-reboot"));
        let own_group = group_name == managed_parameter_group_name(&name);
        // TLS and parameters live in the parameter group; default.* groups hold no user parameters.
        let group_params = if group_name.is_empty() || group_name.starts_with("default.") {
            BTreeMap::new()
        } else {
            self.user_parameters(&group_name).await?
        };
        let (tls_required, min_tls_version) = if engine == "mysql" {
            let on = matches!(
                group_params
                    .get("require_secure_transport")
                    .map(String::as_str),
                Some("1") | Some("ON") | Some("on")
            );
            let min = group_params
                .get("tls_version")
                .and_then(|v| {
                    v.split(',')
                        .filter_map(|s| s.trim().strip_prefix("TLSv"))
                        .min()
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "1.2".into());
            (on, min)
        } else {
            let on = group_params.get("rds.force_ssl").map(String::as_str) == Some("1");
            let min = group_params
                .get("ssl_min_protocol_version")
                .and_then(|v| v.strip_prefix("TLSv"))
                .map(str::to_string)
                .unwrap_or_else(|| "1.2".into());
            (on, min)
        };
        let parameters = if own_group {
            let tier_name = tier.clone().unwrap_or_default();
            let baseline =
                effective_parameters(&engine, &tier_name, &min_tls_version, &BTreeMap::new())
                    .unwrap_or_default();
            // Only what the user asked for: drop baseline entries still at their baseline value.
            group_params
                .into_iter()
                .filter(|(k, v)| baseline.get(k) != Some(v))
                .collect()
        } else {
            BTreeMap::new()
        };
        let retention = db.backup_retention_period().unwrap_or(0).max(0) as u32;
        let address = db
            .endpoint()
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_string();
        let port = db
            .endpoint()
            .and_then(|e| e.port())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0);
        let spec = DatabaseSpec {
            name: name.clone(),
            engine: engine.clone(),
            engine_version: if version.is_empty() {
                None
            } else {
                Some(major_of(&engine, &version))
            },
            tier: tier.unwrap_or_default(),
            instance_class: db.db_instance_class().unwrap_or_default().to_string(),
            db_name: db.db_name().unwrap_or_default().to_string(),
            master_username: db.master_username().unwrap_or_default().to_string(),
            multi_az: db.multi_az().unwrap_or(false),
            backup_retention_days: retention,
            point_in_time_recovery: retention > 0,
            deletion_protection: db.deletion_protection().unwrap_or(false),
            tls_required,
            min_tls_version,
            parameters,
            tags: user_tags,
            instance: None,
            timeouts: Default::default(),
        };
        let rds_status = db.db_instance_status().unwrap_or("unknown").to_string();
        let aws = AwsOptions {
            allocated_storage_gb: db.allocated_storage().unwrap_or(0).max(0) as u32,
            max_allocated_storage_gb: db
                .max_allocated_storage()
                .and_then(|v| u32::try_from(v).ok()),
            storage_type: db.storage_type().unwrap_or("gp2").to_string(),
            storage_encrypted: db.storage_encrypted().unwrap_or(false),
            kms_key_id: db.kms_key_id().map(str::to_string),
            backup_window: db.preferred_backup_window().map(str::to_string),
            maintenance_window: db.preferred_maintenance_window().map(str::to_string),
            db_subnet_group_name: db
                .db_subnet_group()
                .and_then(|g| g.db_subnet_group_name())
                .map(str::to_string),
            vpc_security_group_ids: db
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                .collect(),
            parameter_group_name: if own_group || group_name.is_empty() {
                None
            } else {
                Some(group_name)
            },
            iam_database_authentication: db.iam_database_authentication_enabled().unwrap_or(false),
            performance_insights: db.performance_insights_enabled().unwrap_or(false),
            monitoring_interval_seconds: db.monitoring_interval().unwrap_or(0).max(0) as u32,
            monitoring_role_arn: db.monitoring_role_arn().map(str::to_string),
            log_exports: db.enabled_cloudwatch_logs_exports().to_vec(),
            apply_immediately: true,
            backup_replication: self.observe_backup_replication(db).await?,
        };
        let (spec, aws) = overlay_pending(db, spec, aws);
        let info = DatabaseInfo {
            id: name.clone(),
            connection_string: connection_uri(
                &engine,
                &spec.master_username,
                &address,
                port,
                &spec.db_name,
            ),
            spec,
            endpoint: address,
            port,
            status: rds_status_to_status(&rds_status),
            engine_version_actual: version,
            master_user_secret: db
                .master_user_secret()
                .and_then(|s| s.secret_arn())
                .unwrap_or_default()
                .to_string(),
            data_dir: None,
            master_password_rotated_at: None,
            created_at: to_chrono(db.instance_create_time()).unwrap_or_else(|| (self.clock)()),
            details: None,
        };
        let unreported = db
            .performance_insights_enabled()
            .is_none()
            .then(|| "performance_insights".to_string())
            .into_iter()
            .collect();
        Ok(RdsInstance {
            unreported,
            info,
            storage_encrypted: aws.storage_encrypted,
            aws,
            arn: db.db_instance_arn().unwrap_or_default().to_string(),
            resource_id: db.dbi_resource_id().unwrap_or_default().to_string(),
            rds_status,
            pending_modifications: pending_map(db),
            pending_reboot,
            managed,
        })
    }

    /// The instance as it is now, `None` when it no longer exists.
    pub async fn describe_instance(&self, name: &str) -> Result<Option<RdsInstance>, BackendError> {
        match self.describe_raw(name).await {
            Ok(Some(db)) => Ok(Some(self.observe(&db).await?)),
            Ok(None) => Ok(None),
            Err(f) => Err(f.into_backend(format!("reading RDS instance {name:?}"))),
        }
    }

    /// Polls until the instance is ready (available), failing early on a terminal status.
    pub(super) async fn wait_ready(
        &self,
        name: &str,
        policy: &WaitPolicy,
    ) -> Result<DbInstance, WaitError> {
        wait_for(policy, self.jitter_seed, || async {
            match self.describe_raw(name).await? {
                None => Ok(Poll::Pending("not found yet".into())),
                Some(db) => {
                    let s = db.db_instance_status().unwrap_or("unknown").to_string();
                    if is_ready(&s) {
                        Ok(Poll::Done(db))
                    } else if is_terminal_failure(&s) {
                        Ok(Poll::Failed(format!(
                            "the instance is in status {s:?}; see its events in the RDS console"
                        )))
                    } else {
                        Ok(Poll::Pending(s))
                    }
                }
            }
        })
        .await
    }

    /// Polls until no instance has that identifier.
    pub(super) async fn wait_gone(&self, name: &str, policy: &WaitPolicy) -> Result<(), WaitError> {
        wait_for(policy, self.jitter_seed, || async {
            match self.describe_raw(name).await? {
                None => Ok(Poll::Done(())),
                Some(db) => Ok(Poll::Pending(
                    db.db_instance_status().unwrap_or("unknown").to_string(),
                )),
            }
        })
        .await
    }
}
