//! The AWS RDS backend: `dbplatform_database` as an RDS DB instance.
//!
//! One `aws_sdk_rds::Client` per provider configuration (built by [`AwsBackend::new`], cached in the provider
//! state by `crate::config`); the SDK's standard retry mode retries throttling, 5xx and broken connections per
//! call, and [`waiter`] polls for state changes with its own backoff and deadline. The master password is always RDS-managed (Secrets Manager), so no
//! password ever reaches Terraform state. Every instance carries a management tag; a create that meets an
//! instance of the same name with that tag adopts it (a retried create whose first attempt went through), and
//! a create whose wait fails still reports the instance ([`CreateFailure`]) so it is recorded, never orphaned.

pub mod error;
pub mod parameter_group;
pub mod spec;
pub mod waiter;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_rds::types::{CloudwatchLogsExportConfiguration, DbInstance, Tag};
use chrono::{DateTime, Utc};

use self::error::ApiFailure;
use self::parameter_group::{effective_parameters, ParameterGroupSpec};
use self::spec::{
    compare_major, instance_tags, major_of, managed_parameter_group_name, parameter_group_family,
    requested_major, split_tags, AwsOptions, RdsInstanceSpec,
};
use self::waiter::{wait_for, Poll, WaitError, WaitPolicy};
use crate::backend::{
    BackendError, BackupInfo, Capabilities, ConnectionInfo, CreateError, DatabaseBackend,
    DatabaseInfo, DatabaseSpec, DatabaseStatus, DeleteOptions, DeleteOutcome, InstanceDetails,
    IntegrityReport, RestoreTarget, RestoredInstance, UpdateOutcome,
};

/// How to reach RDS; `crate::config` builds it from the provider's `aws { region, endpoint, profile,
/// max_retries }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsClientConfig {
    pub region: String,
    /// Custom endpoint (the moto emulator in tests); `None` uses the regional AWS endpoint.
    pub endpoint: Option<String>,
    /// Shared-config profile; `None` uses the default credential chain (environment first).
    pub profile: Option<String>,
    /// Retries per API call after the first attempt (throttling, 5xx, timeouts, dropped connections).
    pub max_retries: u32,
    /// Time one HTTP attempt may take before it is abandoned and retried.
    pub attempt_timeout: Duration,
    /// First retry delay of the SDK's exponential backoff.
    pub initial_retry_backoff: Duration,
}

impl AwsClientConfig {
    /// Settings for a region with the defaults (3 retries, 30 s per attempt).
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            endpoint: None,
            profile: None,
            max_retries: 3,
            attempt_timeout: Duration::from_secs(30),
            initial_retry_backoff: Duration::from_secs(1),
        }
    }
}

/// Waits for the three kinds of operation (the resource's `timeouts` block overrides these per call).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    pub create: WaitPolicy,
    pub update: WaitPolicy,
    pub delete: WaitPolicy,
}

impl Default for Timeouts {
    fn default() -> Self {
        let base = WaitPolicy::default();
        Self {
            create: base.with_timeout(Duration::from_secs(40 * 60)),
            update: base.with_timeout(Duration::from_secs(80 * 60)),
            delete: base.with_timeout(Duration::from_secs(60 * 60)),
        }
    }
}

/// An RDS instance as it is now: the backend-neutral view plus what only RDS has.
#[derive(Debug, Clone, PartialEq)]
pub struct RdsInstance {
    pub info: DatabaseInfo,
    /// RDS-only settings as observed (windows and KMS key as RDS chose them when not requested).
    pub aws: AwsOptions,
    pub arn: String,
    /// `DbiResourceId`, stable across renames.
    pub resource_id: String,
    /// RDS status text ("available", "backing-up", "modifying", ...).
    pub rds_status: String,
    pub storage_encrypted: bool,
    /// Modifications waiting for the maintenance window or a reboot (field -> new value).
    pub pending_modifications: BTreeMap<String, String>,
    /// A parameter group change waits for a reboot.
    pub pending_reboot: bool,
    /// The instance carries dbplatform's management tag.
    pub managed: bool,
}

/// A create that did not finish: the error, and what may exist. When `id` is set the instance exists or may
/// exist (the create call went through, or its outcome is unknown): save state with that id so Terraform marks
/// it tainted and the next refresh settles it; never drop it. `instance` is its description when one could be read.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct CreateFailure {
    pub id: Option<String>,
    pub instance: Option<Box<RdsInstance>>,
    pub error: BackendError,
}

impl RdsInstance {
    /// The neutral view with what only RDS reports in [`DatabaseInfo::details`].
    pub fn into_info(self) -> DatabaseInfo {
        DatabaseInfo {
            details: Some(InstanceDetails {
                settings: self.aws,
                arn: self.arn,
                resource_id: self.resource_id,
                pending_modifications: self.pending_modifications,
                pending_reboot: self.pending_reboot,
            }),
            ..self.info
        }
    }
}

impl From<BackendError> for CreateFailure {
    fn from(error: BackendError) -> Self {
        Self {
            id: None,
            instance: None,
            error,
        }
    }
}

/// Source of "now" (final snapshot names, backup timestamps); tests pass a fixed clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The AWS RDS implementation of [`DatabaseBackend`].
#[derive(Clone)]
pub struct AwsBackend {
    client: aws_sdk_rds::Client,
    timeouts: Timeouts,
    clock: Clock,
    /// Fixed jitter seed for deterministic tests; `None` in production.
    jitter_seed: Option<u64>,
}

impl std::fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsBackend")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

fn to_chrono(t: Option<&aws_sdk_rds::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn rds_status_to_status(s: &str) -> DatabaseStatus {
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
fn is_ready(s: &str) -> bool {
    matches!(s, "available" | "storage-optimization")
}

fn is_terminal_failure(s: &str) -> bool {
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

/// `name-final-YYYYMMDD-HHMMSS`, the default final snapshot identifier.
pub fn default_final_snapshot_id(name: &str, now: DateTime<Utc>) -> String {
    format!("{name}-final-{}", now.format("%Y%m%d-%H%M%S"))
}

fn pending_map(db: &DbInstance) -> BTreeMap<String, String> {
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
fn overlay_pending(
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
    /// Builds the RDS client for a configuration, synchronously (no I/O: credentials resolve on first call).
    /// Credentials: environment, then the shared profile (`profile` or AWS_PROFILE), web identity, ECS, EC2 IMDS.
    pub fn new(cfg: &AwsClientConfig) -> Self {
        use aws_config::meta::credentials::CredentialsProviderChain;
        use aws_config::retry::RetryConfig;
        use aws_config::timeout::TimeoutConfig;
        use aws_config::{BehaviorVersion, Region};
        let retry = RetryConfig::standard()
            .with_max_attempts(cfg.max_retries.saturating_add(1))
            .with_initial_backoff(cfg.initial_retry_backoff)
            .with_max_backoff(Duration::from_secs(20));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(cfg.attempt_timeout)
            .build();
        let mut profile = aws_config::profile::ProfileFileCredentialsProvider::builder();
        if let Some(p) = &cfg.profile {
            profile = profile.profile_name(p);
        }
        let credentials = CredentialsProviderChain::first_try(
            "Environment",
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .or_else("Profile", profile.build())
        .or_else(
            "WebIdentityToken",
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder().build(),
        )
        .or_else(
            "EcsContainer",
            aws_config::ecs::EcsCredentialsProvider::builder().build(),
        )
        .or_else(
            "Ec2InstanceMetadata",
            aws_config::imds::credentials::ImdsCredentialsProvider::builder().build(),
        );
        let mut conf = aws_sdk_rds::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .retry_config(retry)
            .timeout_config(timeouts)
            .credentials_provider(credentials);
        if let Some(e) = &cfg.endpoint {
            conf = conf.endpoint_url(e);
        }
        Self::from_client(aws_sdk_rds::Client::from_conf(conf.build()))
    }

    /// Same as [`AwsBackend::new`], for callers already in async code.
    pub async fn connect(cfg: &AwsClientConfig) -> Self {
        Self::new(cfg)
    }

    /// Wraps an existing client (tests build one pointing at a fault-injecting proxy).
    pub fn from_client(client: aws_sdk_rds::Client) -> Self {
        Self {
            client,
            timeouts: Timeouts::default(),
            clock: Arc::new(Utc::now),
            jitter_seed: None,
        }
    }

    /// Replaces the default waits.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Fixes the waiter's jitter.
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// The underlying client (parameter groups, tests).
    pub fn client(&self) -> &aws_sdk_rds::Client {
        &self.client
    }

    /// The waits in use.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The raw RDS description, `None` when no instance has that identifier.
    async fn describe_raw(&self, name: &str) -> Result<Option<DbInstance>, ApiFailure> {
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
        Ok(out
            .tag_list()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect())
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
    async fn observe(&self, db: &DbInstance) -> Result<RdsInstance, BackendError> {
        let name = db.db_instance_identifier().unwrap_or_default().to_string();
        let engine = db.engine().unwrap_or_default().to_string();
        let version = db.engine_version().unwrap_or_default().to_string();
        let tags: BTreeMap<String, String> = db
            .tag_list()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect();
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
            created_at: to_chrono(db.instance_create_time()).unwrap_or_else(|| (self.clock)()),
            details: None,
        };
        Ok(RdsInstance {
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
    async fn wait_ready(&self, name: &str, policy: &WaitPolicy) -> Result<DbInstance, WaitError> {
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
    async fn wait_gone(&self, name: &str, policy: &WaitPolicy) -> Result<(), WaitError> {
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

    /// Creates or updates the per-database parameter group when the request names none.
    async fn ensure_own_parameter_group(
        &self,
        req: &RdsInstanceSpec,
    ) -> Result<Option<String>, BackendError> {
        if let Some(name) = &req.aws.parameter_group_name {
            return Ok(Some(name.clone()));
        }
        let spec = &req.spec;
        let family = parameter_group_family(&spec.engine, &requested_major(spec))?;
        let tls_min = if spec.min_tls_version.is_empty() {
            "1.2"
        } else {
            spec.min_tls_version.as_str()
        };
        let parameters = effective_parameters(&spec.engine, &spec.tier, tls_min, &spec.parameters)?;
        let group = ParameterGroupSpec {
            name: managed_parameter_group_name(&spec.name),
            family,
            engine: spec.engine.clone(),
            description: format!(
                "dbplatform parameters for database {} ({})",
                spec.name, spec.tier
            ),
            parameters,
            tags: BTreeMap::from([("dbplatform:database".to_string(), spec.name.clone())]),
        };
        Ok(Some(self.ensure_parameter_group(&group).await?.name))
    }

    /// Creates an instance with an RDS-managed master password, tags and our management tag, and waits until it
    /// is available (or `timeout`). An instance of the same name carrying our tag is adopted.
    pub async fn create_instance(
        &self,
        req: &RdsInstanceSpec,
        timeout: Option<Duration>,
    ) -> Result<RdsInstance, CreateFailure> {
        spec::validate(req)?;
        let spec = &req.spec;
        let o = &req.aws;
        let name = spec.name.as_str();
        let policy = timeout
            .map(|t| self.timeouts.create.with_timeout(t))
            .unwrap_or(self.timeouts.create);
        let existing = self.describe_instance(name).await?;
        let mut adopted = false;
        match existing {
            Some(inst) if inst.managed => {
                tracing::info!(
                    instance = name,
                    "adopting an instance carrying the dbplatform management tag"
                );
                adopted = true;
            }
            Some(inst) => {
                return Err(BackendError::AlreadyExists {
                    name: name.to_string(),
                    location: format!("RDS instance {}", inst.arn),
                }
                .into())
            }
            None => {}
        }
        if !adopted {
            let group = self.ensure_own_parameter_group(req).await?;
            let tags: Vec<Tag> = instance_tags(spec)
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect();
            let mut call = self
                .client
                .create_db_instance()
                .db_instance_identifier(name)
                .engine(&spec.engine)
                .engine_version(requested_major(spec))
                .db_instance_class(&spec.instance_class)
                .allocated_storage(o.allocated_storage_gb as i32)
                .storage_type(&o.storage_type)
                .storage_encrypted(o.storage_encrypted)
                .db_name(&spec.db_name)
                .master_username(&spec.master_username)
                .manage_master_user_password(true)
                .multi_az(spec.multi_az)
                .backup_retention_period(spec.backup_retention_days as i32)
                .deletion_protection(spec.deletion_protection)
                .enable_iam_database_authentication(o.iam_database_authentication)
                .enable_performance_insights(o.performance_insights)
                .monitoring_interval(o.monitoring_interval_seconds as i32)
                .auto_minor_version_upgrade(true)
                .copy_tags_to_snapshot(true)
                .publicly_accessible(false)
                .set_max_allocated_storage(o.max_allocated_storage_gb.map(|v| v as i32))
                .set_kms_key_id(o.kms_key_id.clone())
                .set_preferred_backup_window(o.backup_window.clone())
                .set_preferred_maintenance_window(o.maintenance_window.clone())
                .set_db_subnet_group_name(o.db_subnet_group_name.clone())
                .set_db_parameter_group_name(group)
                .set_monitoring_role_arn(o.monitoring_role_arn.clone())
                .set_tags(Some(tags));
            if !o.vpc_security_group_ids.is_empty() {
                call = call.set_vpc_security_group_ids(Some(o.vpc_security_group_ids.clone()));
            }
            if !o.log_exports.is_empty() {
                call = call.set_enable_cloudwatch_logs_exports(Some(o.log_exports.clone()));
            }
            if let Err(e) = call.send().await {
                let f = ApiFailure::from_sdk(&e);
                // The call may have gone through even though we saw an error (a dropped response, then a retry
                // that hit DBInstanceAlreadyExists): if an instance with our tag is there now, it is ours.
                match self.describe_instance(name).await {
                    Ok(Some(inst)) if inst.managed => {
                        tracing::info!(instance = name, code = %f.code, "create reported an error but our instance exists; adopting it");
                    }
                    Ok(Some(inst)) => {
                        return Err(BackendError::AlreadyExists {
                            name: name.to_string(),
                            location: format!("RDS instance {}", inst.arn),
                        }
                        .into())
                    }
                    Ok(None) => {
                        return Err(f
                            .into_backend(format!("creating RDS instance {name:?}"))
                            .into())
                    }
                    // Cannot tell whether the create went through: keep the id so nothing is orphaned.
                    Err(_) => {
                        return Err(CreateFailure {
                            id: f.transient.then(|| name.to_string()),
                            instance: None,
                            error: f.into_backend(format!("creating RDS instance {name:?}")),
                        })
                    }
                }
            }
        }
        match self.wait_ready(name, &policy).await {
            Ok(db) => self.observe(&db).await.map_err(|error| CreateFailure {
                id: Some(name.to_string()),
                instance: None,
                error,
            }),
            Err(w) => {
                let instance = self
                    .describe_instance(name)
                    .await
                    .ok()
                    .flatten()
                    .map(Box::new);
                let error = BackendError::Command {
                    what: format!("waiting for RDS instance {name:?} to become available"),
                    status: "not available".into(),
                    output: format!(
                        "{w}; the instance exists and is kept in state (tainted), so the next apply replaces or keeps it; raise timeouts.create if it is still creating"
                    ),
                };
                Err(CreateFailure {
                    id: Some(name.to_string()),
                    instance,
                    error,
                })
            }
        }
    }

    /// Modifies an instance in place to match `req` (only what differs is sent), syncs tags and the managed
    /// parameter group, and waits until it is available again when the change applies immediately.
    pub async fn modify_instance(
        &self,
        req: &RdsInstanceSpec,
        timeout: Option<Duration>,
    ) -> Result<RdsInstance, BackendError> {
        spec::validate(req)?;
        let spec = &req.spec;
        let o = &req.aws;
        let name = spec.name.as_str();
        let policy = timeout
            .map(|t| self.timeouts.update.with_timeout(t))
            .unwrap_or(self.timeouts.update);
        let cur = self
            .describe_instance(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })?;
        let c = &cur.info.spec;
        let replace = |field: &str, from: &str, to: &str| {
            BackendError::Invalid {
            field: field.to_string(),
            message: format!("RDS cannot change {field} of an existing instance ({from:?} -> {to:?}); this change needs the database replaced (plan shows -/+)"),
        }
        };
        if c.engine != spec.engine {
            return Err(replace("engine", &c.engine, &spec.engine));
        }
        if c.db_name != spec.db_name {
            return Err(replace("db_name", &c.db_name, &spec.db_name));
        }
        if c.master_username != spec.master_username {
            return Err(replace(
                "master_username",
                &c.master_username,
                &spec.master_username,
            ));
        }
        if cur.storage_encrypted != o.storage_encrypted {
            return Err(replace(
                "storage_encrypted",
                &cur.storage_encrypted.to_string(),
                &o.storage_encrypted.to_string(),
            ));
        }
        if let Some(k) = &o.kms_key_id {
            if cur.aws.kms_key_id.as_deref() != Some(k.as_str()) {
                return Err(replace(
                    "kms_key_id",
                    cur.aws.kms_key_id.as_deref().unwrap_or(""),
                    k,
                ));
            }
        }
        let want_major = requested_major(spec);
        let have_major = c.engine_version.clone().unwrap_or_default();
        let mut call = self
            .client
            .modify_db_instance()
            .db_instance_identifier(name)
            .apply_immediately(o.apply_immediately);
        let mut changed = false;
        match compare_major(&want_major, &have_major) {
            std::cmp::Ordering::Less => {
                return Err(BackendError::Invalid {
                    field: "engine_version".into(),
                    message: format!(
                        "{name:?} runs {} {} and RDS cannot downgrade to {want_major}; keep engine_version = {have_major:?}, or restore a snapshot into a new database",
                        spec.engine, cur.info.engine_version_actual
                    ),
                })
            }
            std::cmp::Ordering::Greater => {
                call = call.engine_version(&want_major).allow_major_version_upgrade(true);
                changed = true;
            }
            std::cmp::Ordering::Equal => {}
        }
        if c.instance_class != spec.instance_class {
            call = call.db_instance_class(&spec.instance_class);
            changed = true;
        }
        if c.multi_az != spec.multi_az {
            call = call.multi_az(spec.multi_az);
            changed = true;
        }
        if c.backup_retention_days != spec.backup_retention_days {
            call = call.backup_retention_period(spec.backup_retention_days as i32);
            changed = true;
        }
        if c.deletion_protection != spec.deletion_protection {
            call = call.deletion_protection(spec.deletion_protection);
            changed = true;
        }
        if cur.aws.allocated_storage_gb != o.allocated_storage_gb {
            if o.allocated_storage_gb < cur.aws.allocated_storage_gb {
                return Err(BackendError::Invalid {
                    field: "allocated_storage_gb".into(),
                    message: format!(
                        "RDS storage cannot shrink ({} -> {} GiB); keep {} or restore a snapshot into a new, smaller database",
                        cur.aws.allocated_storage_gb, o.allocated_storage_gb, cur.aws.allocated_storage_gb
                    ),
                });
            }
            call = call.allocated_storage(o.allocated_storage_gb as i32);
            changed = true;
        }
        if cur.aws.max_allocated_storage_gb != o.max_allocated_storage_gb {
            // RDS turns autoscaling off when the ceiling equals the allocated storage.
            call = call.max_allocated_storage(
                o.max_allocated_storage_gb.unwrap_or(o.allocated_storage_gb) as i32,
            );
            changed = true;
        }
        if cur.aws.storage_type != o.storage_type {
            call = call.storage_type(&o.storage_type);
            changed = true;
        }
        if o.backup_window.is_some() && cur.aws.backup_window != o.backup_window {
            call = call.set_preferred_backup_window(o.backup_window.clone());
            changed = true;
        }
        if o.maintenance_window.is_some() && cur.aws.maintenance_window != o.maintenance_window {
            call = call.set_preferred_maintenance_window(o.maintenance_window.clone());
            changed = true;
        }
        if o.db_subnet_group_name.is_some()
            && cur.aws.db_subnet_group_name != o.db_subnet_group_name
        {
            call = call.set_db_subnet_group_name(o.db_subnet_group_name.clone());
            changed = true;
        }
        if !o.vpc_security_group_ids.is_empty()
            && cur.aws.vpc_security_group_ids != o.vpc_security_group_ids
        {
            call = call.set_vpc_security_group_ids(Some(o.vpc_security_group_ids.clone()));
            changed = true;
        }
        if cur.aws.iam_database_authentication != o.iam_database_authentication {
            call = call.enable_iam_database_authentication(o.iam_database_authentication);
            changed = true;
        }
        if cur.aws.performance_insights != o.performance_insights {
            call = call.enable_performance_insights(o.performance_insights);
            changed = true;
        }
        if cur.aws.monitoring_interval_seconds != o.monitoring_interval_seconds
            || cur.aws.monitoring_role_arn != o.monitoring_role_arn
        {
            call = call
                .monitoring_interval(o.monitoring_interval_seconds as i32)
                .set_monitoring_role_arn(o.monitoring_role_arn.clone());
            changed = true;
        }
        let mut have_logs = cur.aws.log_exports.clone();
        have_logs.sort();
        let mut want_logs = o.log_exports.clone();
        want_logs.sort();
        if have_logs != want_logs {
            let enable: Vec<String> = want_logs
                .iter()
                .filter(|l| !have_logs.contains(l))
                .cloned()
                .collect();
            let disable: Vec<String> = have_logs
                .iter()
                .filter(|l| !want_logs.contains(l))
                .cloned()
                .collect();
            call = call.cloudwatch_logs_export_configuration(
                CloudwatchLogsExportConfiguration::builder()
                    .set_enable_log_types(Some(enable))
                    .set_disable_log_types(Some(disable))
                    .build(),
            );
            changed = true;
        }
        // Parameters: a managed group is brought up to date in place; a named group is switched to.
        let group_name = if o.parameter_group_name.is_none() && want_major == have_major {
            self.ensure_own_parameter_group(req).await?
        } else if o.parameter_group_name.is_none() {
            // A major upgrade needs a group of the new family; the managed group is recreated under the same name
            // only after the upgrade, so keep the engine default group for the upgrade itself.
            None
        } else {
            o.parameter_group_name.clone()
        };
        let current_group = cur
            .aws
            .parameter_group_name
            .clone()
            .unwrap_or_else(|| managed_parameter_group_name(name));
        if let Some(g) = &group_name {
            if *g != current_group {
                call = call.db_parameter_group_name(g);
                changed = true;
            }
        }
        if changed {
            call.send().await.map_err(|e| {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "InvalidDBInstanceState" {
                    BackendError::Command {
                        what: format!("modifying RDS instance {name:?}"),
                        status: f.code,
                        output: format!(
                            "{} (status {:?}); wait until it is available and run terraform apply again",
                            f.message, cur.rds_status
                        ),
                    }
                } else {
                    f.into_backend(format!("modifying RDS instance {name:?}"))
                }
            })?;
        }
        let mut want_tags = instance_tags(spec);
        let mut have_tags = cur.info.spec.tags.clone();
        if cur.managed {
            have_tags.insert(spec::MANAGED_TAG_KEY.into(), spec::MANAGED_TAG_VALUE.into());
        }
        want_tags.insert(spec::MANAGED_TAG_KEY.into(), spec::MANAGED_TAG_VALUE.into());
        self.sync_tags(&cur.arn, &have_tags, &want_tags).await?;
        if changed && o.apply_immediately {
            // RDS flips to "modifying" shortly after the call; a first poll may still see "available".
            self.wait_ready(name, &policy).await.map_err(|w| BackendError::Command {
                what: format!("waiting for RDS instance {name:?} to finish modifying"),
                status: "not available".into(),
                output: format!(
                    "{w}; the change was accepted by RDS and continues; run terraform apply again later, or raise timeouts.update"
                ),
            })?;
        }
        self.describe_instance(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })
    }

    /// Deletes an instance: refuses under deletion protection, takes a final snapshot unless skipped, waits until
    /// it is gone, then removes the managed parameter group. An instance that is already gone is fine.
    pub async fn delete_instance(
        &self,
        name: &str,
        opts: &DeleteOptions,
        timeout: Option<Duration>,
    ) -> Result<DeleteOutcome, BackendError> {
        let policy = timeout
            .map(|t| self.timeouts.delete.with_timeout(t))
            .unwrap_or(self.timeouts.delete);
        let Some(cur) = self.describe_instance(name).await? else {
            return Ok(DeleteOutcome { final_backup: None });
        };
        if cur.info.spec.deletion_protection {
            return Err(BackendError::DeletionProtected {
                name: name.to_string(),
            });
        }
        let snapshot_id = if opts.skip_final_backup {
            None
        } else {
            Some(
                opts.final_backup_name
                    .clone()
                    .unwrap_or_else(|| default_final_snapshot_id(name, (self.clock)())),
            )
        };
        if let Some(id) = &snapshot_id {
            if !parameter_group::valid_group_name(id) {
                return Err(BackendError::Invalid {
                    field: "final_snapshot_identifier".into(),
                    message: format!("{id:?} is not a valid snapshot identifier: letters, digits and hyphens, starting with a letter, no \"--\", not ending with a hyphen"),
                });
            }
        }
        let started = (self.clock)();
        let res = self
            .client
            .delete_db_instance()
            .db_instance_identifier(name)
            .skip_final_snapshot(snapshot_id.is_none())
            .set_final_db_snapshot_identifier(snapshot_id.clone())
            .send()
            .await;
        if let Err(e) = res {
            let f = ApiFailure::from_sdk(&e);
            match f.code.as_str() {
                "DBInstanceNotFound" => {}
                "InvalidDBInstanceState"
                    if f.message
                        .to_ascii_lowercase()
                        .contains("deletion protection") =>
                {
                    return Err(BackendError::DeletionProtected {
                        name: name.to_string(),
                    })
                }
                "InvalidDBInstanceState"
                    if f.message
                        .to_ascii_lowercase()
                        .contains("already being deleted") => {}
                _ => return Err(f.into_backend(format!("deleting RDS instance {name:?}"))),
            }
        }
        self.wait_gone(name, &policy).await.map_err(|w| BackendError::Command {
            what: format!("waiting for RDS instance {name:?} to be deleted"),
            status: "still present".into(),
            output: format!("{w}; deletion continues in RDS; run terraform destroy again later, or raise timeouts.delete"),
        })?;
        if cur.aws.parameter_group_name.is_none() {
            if let Err(e) = self
                .delete_parameter_group(&managed_parameter_group_name(name))
                .await
            {
                tracing::warn!(
                    instance = name,
                    "could not delete the managed parameter group: {e}"
                );
            }
        }
        let final_backup = match snapshot_id {
            None => None,
            Some(id) => Some(self.snapshot_info(&id).await?.unwrap_or(BackupInfo {
                location: id.clone(),
                id,
                started_at: started,
                finished_at: (self.clock)(),
                start_wal: None,
            })),
        };
        Ok(DeleteOutcome { final_backup })
    }

    /// One snapshot by identifier.
    pub async fn snapshot_info(&self, id: &str) -> Result<Option<BackupInfo>, BackendError> {
        match self
            .client
            .describe_db_snapshots()
            .db_snapshot_identifier(id)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_snapshots().first().map(|s| self.backup_of(s))),
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "DBSnapshotNotFound" {
                    Ok(None)
                } else {
                    Err(f.into_backend(format!("reading DB snapshot {id:?}")))
                }
            }
        }
    }

    fn backup_of(&self, s: &aws_sdk_rds::types::DbSnapshot) -> BackupInfo {
        let created = to_chrono(s.snapshot_create_time()).unwrap_or_else(|| (self.clock)());
        BackupInfo {
            id: s.db_snapshot_identifier().unwrap_or_default().to_string(),
            location: s.db_snapshot_arn().unwrap_or_default().to_string(),
            started_at: created,
            finished_at: created,
            start_wal: None,
        }
    }

    fn request_from(&self, spec: &DatabaseSpec, aws: AwsOptions) -> RdsInstanceSpec {
        RdsInstanceSpec {
            spec: spec.clone(),
            aws,
        }
    }
}

fn unsupported_restore() -> BackendError {
    BackendError::Unsupported(
        "restore tests on the aws backend are not supported yet (they need the master password from Secrets Manager); use backend = \"local\" for restore tests".into(),
    )
}

#[async_trait]
impl DatabaseBackend for AwsBackend {
    fn kind(&self) -> &'static str {
        "aws"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            instance_settings: true,
        }
    }

    fn log_exports(&self, engine: &str) -> Vec<String> {
        spec::required_log_exports("aws", engine)
    }

    /// The neutral settings first (with default instance settings), then the requested instance settings.
    fn validate_spec(&self, spec: &DatabaseSpec) -> Result<(), BackendError> {
        spec::validate(&self.request_from(spec, AwsOptions::default()))?;
        match &spec.instance {
            Some(settings) => spec::validate(&self.request_from(spec, settings.clone())),
            None => Ok(()),
        }
    }

    fn restart_required(&self, current: &DatabaseSpec, desired: &DatabaseSpec) -> Vec<String> {
        let mut out = Vec::new();
        if current.instance_class != desired.instance_class {
            out.push(format!(
                "instance_class ({} -> {}): the instance restarts during the change",
                current.instance_class, desired.instance_class
            ));
        }
        if current.engine_version != desired.engine_version {
            out.push("engine_version: a major version upgrade restarts the instance".into());
        }
        for (k, v) in &desired.parameters {
            if current.parameters.get(k) != Some(v)
                && parameter_group::apply_method(&desired.engine, k) == "pending-reboot"
            {
                out.push(format!(
                    "parameters.{k}: a static parameter, applied at the next reboot (pending_reboot = true until then)"
                ));
            }
        }
        out
    }

    async fn create(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, BackendError> {
        self.create_tracked(spec).await.map_err(|f| f.error)
    }

    /// With `spec.instance` set, exactly those settings and `spec.timeouts.create`; without, the tier's defaults.
    async fn create_tracked(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, CreateError> {
        let aws = match &spec.instance {
            Some(settings) => settings.clone(),
            None => {
                let tier = policy::model::tiers::TierCatalogue::embedded()
                    .get(&spec.tier)
                    .cloned();
                let mut aws = AwsOptions::for_tier(tier.as_ref());
                // Enhanced monitoring needs an IAM role the tier defaults cannot name.
                aws.monitoring_interval_seconds = 0;
                aws.log_exports = spec::required_log_exports("aws", &spec.engine);
                aws
            }
        };
        self.create_instance(&self.request_from(spec, aws), spec.timeouts.create)
            .await
            .map(RdsInstance::into_info)
            .map_err(|f| CreateError {
                id: f.id,
                instance: f.instance.map(|i| Box::new(i.into_info())),
                error: f.error,
            })
    }

    async fn read(&self, name: &str) -> Result<Option<DatabaseInfo>, BackendError> {
        Ok(self
            .describe_instance(name)
            .await?
            .map(RdsInstance::into_info))
    }

    async fn update(
        &self,
        name: &str,
        desired: &DatabaseSpec,
    ) -> Result<UpdateOutcome, BackendError> {
        if let Some(settings) = &desired.instance {
            // The resource's update: exactly these settings, as RDS applies them (a static parameter waits for
            // a reboot, reported as pending_reboot); a stopped instance is not started.
            let after = self
                .modify_instance(
                    &self.request_from(desired, settings.clone()),
                    desired.timeouts.update,
                )
                .await?;
            return Ok(UpdateOutcome {
                info: after.into_info(),
                restarted: false,
                started: false,
            });
        }
        let cur = self
            .describe_instance(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })?;
        let was_stopped = cur.info.status == DatabaseStatus::Stopped;
        if was_stopped {
            self.start(name).await?;
        }
        let restarted = !self.restart_required(&cur.info.spec, desired).is_empty();
        let mut aws = cur.aws.clone();
        aws.apply_immediately = true;
        let after = self
            .modify_instance(&self.request_from(desired, aws), None)
            .await?;
        Ok(UpdateOutcome {
            info: after.into_info(),
            restarted,
            started: was_stopped,
        })
    }

    async fn delete(
        &self,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, BackendError> {
        self.delete_instance(name, opts, opts.timeout).await
    }

    async fn start(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        if let Err(e) = self
            .client
            .start_db_instance()
            .db_instance_identifier(name)
            .send()
            .await
        {
            let f = ApiFailure::from_sdk(&e);
            if f.code != "InvalidDBInstanceState" {
                return Err(f.into_backend(format!("starting RDS instance {name:?}")));
            }
        }
        let db = self
            .wait_ready(name, &self.timeouts.update)
            .await
            .map_err(|w| BackendError::Command {
                what: format!("waiting for RDS instance {name:?} to start"),
                status: "not available".into(),
                output: w.to_string(),
            })?;
        Ok(self.observe(&db).await?.info)
    }

    async fn stop(&self, name: &str) -> Result<(), BackendError> {
        self.client
            .stop_db_instance()
            .db_instance_identifier(name)
            .send()
            .await
            .map_err(|e| {
                ApiFailure::from_sdk(&e).into_backend(format!("stopping RDS instance {name:?}"))
            })?;
        let policy = self.timeouts.update;
        wait_for(&policy, self.jitter_seed, || async {
            match self.describe_raw(name).await? {
                None => Ok(Poll::Failed(format!(
                    "RDS instance {name:?} disappeared while stopping"
                ))),
                Some(db) if db.db_instance_status() == Some("stopped") => Ok(Poll::Done(())),
                Some(db) => Ok(Poll::Pending(
                    db.db_instance_status().unwrap_or("unknown").to_string(),
                )),
            }
        })
        .await
        .map_err(|w| BackendError::Command {
            what: format!("waiting for RDS instance {name:?} to stop"),
            status: "not stopped".into(),
            output: w.to_string(),
        })
    }

    async fn backup(&self, name: &str) -> Result<BackupInfo, BackendError> {
        let now = (self.clock)();
        let id = format!("{name}-backup-{}", now.format("%Y%m%d-%H%M%S"));
        self.client
            .create_db_snapshot()
            .db_instance_identifier(name)
            .db_snapshot_identifier(&id)
            .send()
            .await
            .map_err(|e| {
                ApiFailure::from_sdk(&e)
                    .into_backend(format!("creating DB snapshot {id:?} of {name:?}"))
            })?;
        let info = wait_for(&self.timeouts.update, self.jitter_seed, || async {
            let out = self
                .client
                .describe_db_snapshots()
                .db_snapshot_identifier(&id)
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e))?;
            match out.db_snapshots().first() {
                Some(s) if s.status() == Some("available") => Ok(Poll::Done(self.backup_of(s))),
                Some(s) => Ok(Poll::Pending(s.status().unwrap_or("unknown").to_string())),
                None => Ok(Poll::Pending("not found yet".into())),
            }
        })
        .await
        .map_err(|w| BackendError::Command {
            what: format!("waiting for DB snapshot {id:?}"),
            status: "not available".into(),
            output: w.to_string(),
        })?;
        // Prune our own manual backups older than the retention period (RDS prunes its automated ones).
        if let Some(cur) = self.describe_instance(name).await? {
            let keep_days = i64::from(cur.info.spec.backup_retention_days.max(1));
            for b in self.list_backups(name).await? {
                if b.id.starts_with(&format!("{name}-backup-"))
                    && b.id != info.id
                    && (now - b.finished_at).num_days() >= keep_days
                {
                    if let Err(e) = self
                        .client
                        .delete_db_snapshot()
                        .db_snapshot_identifier(&b.id)
                        .send()
                        .await
                    {
                        tracing::warn!(snapshot = %b.id, "could not prune an old backup: {}", ApiFailure::from_sdk(&e).message);
                    }
                }
            }
        }
        Ok(info)
    }

    async fn list_backups(&self, name: &str) -> Result<Vec<BackupInfo>, BackendError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_db_snapshots()
                .db_instance_identifier(name)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e)
                        .into_backend(format!("listing DB snapshots of {name:?}"))
                })?;
            out.extend(
                page.db_snapshots()
                    .iter()
                    .filter(|s| s.status() == Some("available"))
                    .map(|s| self.backup_of(s)),
            );
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        out.sort_by_key(|b| b.finished_at);
        Ok(out)
    }

    async fn connection(&self, _name: &str) -> Result<ConnectionInfo, BackendError> {
        Err(unsupported_restore())
    }

    async fn restore(
        &self,
        _name: &str,
        _target: RestoreTarget,
    ) -> Result<RestoredInstance, BackendError> {
        Err(unsupported_restore())
    }

    async fn check_integrity(
        &self,
        _restored: &RestoredInstance,
    ) -> Result<IntegrityReport, BackendError> {
        Err(unsupported_restore())
    }

    async fn discard_restored(&self, _restored: &RestoredInstance) -> Result<(), BackendError> {
        Err(unsupported_restore())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_lifecycle() {
        assert_eq!(rds_status_to_status("available"), DatabaseStatus::Available);
        assert_eq!(
            rds_status_to_status("backing-up"),
            DatabaseStatus::Available
        );
        assert_eq!(rds_status_to_status("modifying"), DatabaseStatus::Modifying);
        assert_eq!(
            rds_status_to_status("incompatible-parameters"),
            DatabaseStatus::Failed
        );
        assert!(is_ready("storage-optimization"));
        assert!(!is_ready("backing-up"));
    }

    #[test]
    fn final_snapshot_names_derive_from_name_and_time() {
        let t = DateTime::from_timestamp(1_764_090_000, 0).unwrap_or_default();
        assert_eq!(
            default_final_snapshot_id("orders-db", t),
            "orders-db-final-20251125-170000"
        );
        assert!(spec::valid_instance_identifier(&default_final_snapshot_id(
            "orders-db",
            t
        )));
    }

    #[test]
    fn uris_carry_no_password_and_require_tls() {
        assert_eq!(
            connection_uri("postgres", "dbadmin", "h", 5432, "app"),
            "postgresql://dbadmin@h:5432/app?sslmode=require"
        );
        assert_eq!(
            connection_uri("mysql", "dbadmin", "h", 3306, "app"),
            "mysql://dbadmin@h:3306/app?ssl-mode=REQUIRED"
        );
    }

    #[test]
    fn pending_values_are_reported_as_the_settings() {
        use aws_sdk_rds::types::PendingModifiedValues;
        let db = DbInstance::builder()
            .db_instance_identifier("orders")
            .engine("postgres")
            .engine_version("16.4")
            .db_instance_class("db.t4g.micro")
            .allocated_storage(20)
            .pending_modified_values(
                PendingModifiedValues::builder()
                    .db_instance_class("db.t4g.small")
                    .allocated_storage(40)
                    .backup_retention_period(7)
                    .build(),
            )
            .build();
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
            timeouts: Default::default(),
        };
        let (spec, aws) = overlay_pending(&db, spec, AwsOptions::default());
        assert_eq!(spec.instance_class, "db.t4g.small");
        assert_eq!(spec.backup_retention_days, 7);
        assert_eq!(aws.allocated_storage_gb, 40);
        let pending = pending_map(&db);
        assert_eq!(
            pending.get("instance_class").map(String::as_str),
            Some("db.t4g.small")
        );
        assert_eq!(
            pending.get("allocated_storage_gb").map(String::as_str),
            Some("40")
        );
    }
}
