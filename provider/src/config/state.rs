//! The configuration state every resource and data source shares: the current [`ProviderConfig`], what the last
//! validation learned about the tier catalogue, and what is built once per configuration (the compiled policy
//! engine, the database backend, the RDS client).

use std::sync::Arc;

use policy::model::TierCatalogue;
use tokio::sync::RwLock;

use super::backend::{aws_backend_for, backend_for, AwsBackendCache};
use super::settings::ProviderConfig;
use crate::backend::aws::AwsBackend;
use crate::backend::DatabaseBackend;
use crate::framework::Diagnostic;

/// What the last provider validation learned about the tier catalogue, for data source validation that runs
/// before configure (`terraform validate`).
#[derive(Debug, Clone)]
enum ValidatedTiers {
    /// No provider validation seen: assume the embedded catalogue.
    NotSeen,
    /// The provider configuration names this catalogue.
    Known(Arc<TierCatalogue>),
    /// `tiers_file` was unknown or failed to load: tier names cannot be checked yet.
    Undetermined,
}

/// Configuration shared by the provider and every resource and data source it serves.
#[derive(Debug)]
pub struct ProviderState {
    config: RwLock<Option<Arc<ProviderConfig>>>,
    validated_tiers: RwLock<ValidatedTiers>,
    engine: EngineCache,
    backend: BackendCache,
    aws: AwsBackendCache,
}

/// The database backend built for one configuration and shared by every later RPC: the local backend remembers
/// the PostgreSQL installations it found (probing them runs `postgres --version`, milliseconds each), which a
/// backend built per RPC would probe again for every planned resource.
#[derive(Default)]
struct BackendCache(std::sync::Mutex<Option<BuiltBackend>>);

/// A configuration and the backend built for it.
type BuiltBackend = (Arc<ProviderConfig>, Arc<dyn DatabaseBackend>);

impl std::fmt::Debug for BackendCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackendCache")
    }
}

/// The policy engine prepared for one configuration: compiled on the first plan after each configure and shared
/// by every later plan (a bundle takes milliseconds to compile, a plan may evaluate hundreds of resources).
#[derive(Default)]
struct EngineCache(tokio::sync::Mutex<Option<CachedEngine>>);

struct CachedEngine {
    config: Arc<ProviderConfig>,
    engine: Arc<policy::engine::PolicyEngine>,
}

impl std::fmt::Debug for EngineCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineCache")
    }
}

impl Default for ProviderState {
    fn default() -> Self {
        Self::new()
    }
}

impl ProviderState {
    /// An unconfigured state (every resource call fails with "provider not configured" until configure).
    pub fn new() -> Self {
        Self {
            config: RwLock::new(None),
            validated_tiers: RwLock::new(ValidatedTiers::NotSeen),
            engine: EngineCache::default(),
            backend: BackendCache::default(),
            aws: AwsBackendCache::default(),
        }
    }

    /// A state already holding `config`, for resource tests that skip ConfigureProvider.
    pub fn with_config(config: ProviderConfig) -> Self {
        Self {
            config: RwLock::new(Some(Arc::new(config))),
            validated_tiers: RwLock::new(ValidatedTiers::NotSeen),
            engine: EngineCache::default(),
            backend: BackendCache::default(),
            aws: AwsBackendCache::default(),
        }
    }

    /// The configuration, or an error diagnostic when ConfigureProvider has not succeeded.
    pub async fn config(&self) -> Result<Arc<ProviderConfig>, Diagnostic> {
        self.config.read().await.clone().ok_or_else(|| {
            Diagnostic::error(
                "provider not configured",
                "The dbplatform provider was used before Terraform configured it (or its configuration failed). \
                 Fix the errors reported for the provider block and run again.",
            )
        })
    }

    /// The configuration, when `settings` (e.g. `["backend", "local", "policy"]`) were all known at configure
    /// time; otherwise the diagnostic of [`ProviderConfig::require_known`], saying `why` they are needed.
    pub async fn known_config(
        &self,
        settings: &[&str],
        why: &str,
    ) -> Result<Arc<ProviderConfig>, Diagnostic> {
        let cfg = self.config().await?;
        cfg.require_known(settings, why)?;
        Ok(cfg)
    }

    /// Replaces the configuration (ConfigureProvider; tests).
    pub async fn set_config(&self, config: ProviderConfig) {
        *self.config.write().await = Some(Arc::new(config));
    }

    /// The policy engine for `config` (the current configuration): loaded once per configuration and cached, so
    /// plans share one compiled bundle. Concurrent first plans wait for one load instead of each compiling.
    pub async fn policy_engine(
        &self,
        config: &Arc<ProviderConfig>,
    ) -> Result<Arc<policy::engine::PolicyEngine>, Diagnostic> {
        let mut cached = self.engine.0.lock().await;
        if let Some(c) = cached.as_ref() {
            if Arc::ptr_eq(&c.config, config) {
                return Ok(Arc::clone(&c.engine));
            }
        }
        let opts = policy::engine::EngineOptions {
            extra_dirs: config.policy.directories.clone(),
            tiers: config.tiers.clone(),
            exceptions_file: config.policy.exceptions_file.clone(),
            ..Default::default()
        };
        let loaded = tokio::task::spawn_blocking(move || policy::engine::PolicyEngine::load(&opts))
            .await
            .map_err(|e| {
                Diagnostic::error(
                    "Policy bundle failed to load",
                    format!("The guardrail loader stopped unexpectedly: {e}"),
                )
            })?
            .map_err(|e| {
                Diagnostic::error(
                    "Policy bundle failed to load",
                    format!(
                        "The guardrails could not be loaded: {e}. Fix the file named above (policy.directories, \
                         policy.exceptions_file, policy.tiers_file) and plan again."
                    ),
                )
            })?;
        let engine = Arc::new(loaded);
        *cached = Some(CachedEngine {
            config: Arc::clone(config),
            engine: Arc::clone(&engine),
        });
        Ok(engine)
    }

    /// The backend the current configuration selects, built once per configuration (the RDS client is reused
    /// while its settings stay the same, even across configurations).
    pub async fn database_backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
        let cfg = self.config().await?;
        let mut slot = self.backend.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((c, b)) = slot.as_ref() {
            if Arc::ptr_eq(c, &cfg) {
                return Ok(Arc::clone(b));
            }
        }
        let b = backend_for(&cfg, &self.aws)?;
        *slot = Some((cfg, Arc::clone(&b)));
        Ok(b)
    }

    /// The RDS backend for `cfg`'s `aws` block (parameter groups), sharing the client the databases use.
    pub fn aws_backend(&self, cfg: &ProviderConfig) -> Result<Arc<AwsBackend>, Diagnostic> {
        aws_backend_for(cfg, &self.aws)
    }

    /// Remembers the tier catalogue a provider validation found (`parsed` is `None` when it had errors), for
    /// [`ProviderState::tiers_for_validation`] before configure.
    pub async fn remember_validation(&self, parsed: Option<&ProviderConfig>) {
        *self.validated_tiers.write().await = match parsed {
            Some(c) if c.is_known("policy.tiers_file") => {
                ValidatedTiers::Known(Arc::new(c.tiers.clone()))
            }
            _ => ValidatedTiers::Undetermined,
        };
    }

    /// The catalogue to check tier names against during validation, which may run before configure.
    /// `None` when the catalogue cannot be known yet (its file is unknown or broken): skip the check then.
    pub async fn tiers_for_validation(&self) -> Option<Arc<TierCatalogue>> {
        if let Some(cfg) = self.config.read().await.as_ref() {
            if !cfg.is_known("policy.tiers_file") {
                return None;
            }
            return Some(Arc::new(cfg.tiers.clone()));
        }
        match &*self.validated_tiers.read().await {
            ValidatedTiers::NotSeen => Some(Arc::new(TierCatalogue::embedded())),
            ValidatedTiers::Known(c) => Some(Arc::clone(c)),
            ValidatedTiers::Undetermined => None,
        }
    }
}
