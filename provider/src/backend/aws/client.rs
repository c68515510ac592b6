//! The RDS client and its settings: [`AwsClientConfig`] (what `crate::config` builds from the provider's `aws`
//! block), the default waits, the clock, and [`AwsBackend`] itself with its constructors.

use super::spec::AwsOptions;
use super::spec::RdsInstanceSpec;
use super::waiter::WaitPolicy;
use crate::backend::DatabaseSpec;
use chrono::DateTime;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

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

/// Source of "now" (final snapshot names, backup timestamps); tests pass a fixed clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The AWS RDS implementation of [`DatabaseBackend`].
#[derive(Clone)]
pub struct AwsBackend {
    pub(super) client: aws_sdk_rds::Client,
    pub(super) timeouts: Timeouts,
    pub(super) clock: Clock,
    /// Fixed jitter seed for deterministic tests; `None` in production.
    pub(super) jitter_seed: Option<u64>,
    /// The credential chain the client signs with, kept to sign IAM database tokens (the SDK's config does not
    /// hand it back); `None` for a client built elsewhere ([`AwsBackend::from_client`]).
    pub(super) credentials: Option<aws_sdk_rds::config::SharedCredentialsProvider>,
}

impl std::fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsBackend")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
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
        let credentials = aws_sdk_rds::config::SharedCredentialsProvider::new(credentials);
        let mut conf = aws_sdk_rds::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .retry_config(retry)
            .timeout_config(timeouts)
            .credentials_provider(credentials.clone());
        if let Some(e) = &cfg.endpoint {
            conf = conf.endpoint_url(e);
        }
        let mut backend = Self::from_client(aws_sdk_rds::Client::from_conf(conf.build()));
        backend.credentials = Some(credentials);
        backend
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
            credentials: None,
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

    pub(super) fn request_from(&self, spec: &DatabaseSpec, aws: AwsOptions) -> RdsInstanceSpec {
        RdsInstanceSpec {
            spec: spec.clone(),
            aws,
        }
    }
}
