//! What database resources need from the configured provider: the backend, the tier catalogue, default tags,
//! the plan-time policy check and the audit log.
//!
//! Resources depend on this small trait rather than on the provider's configuration type, so they can be tested
//! with [`StaticEnv`] and the provider decides how its configuration turns into a backend.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use policy::adapter::planned_state::{from_provider, ProviderPlan};
use policy::engine::{EvalContext, PolicyEngine};
use policy::model::decision::Decision;
use policy::model::tiers::TierCatalogue;

use crate::backend::DatabaseBackend;
use crate::framework::Diagnostic;

/// The provider-side services the database resources call.
#[async_trait]
pub trait DatabaseEnv: Send + Sync {
    /// The backend databases are created on; an error diagnostic when the provider is not configured for one.
    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic>;
    /// The tier catalogue tiers expand from.
    async fn tiers(&self) -> Result<Arc<TierCatalogue>, Diagnostic>;
    /// The provider's `default_tags`, merged under each resource's `tags`.
    async fn default_tags(&self) -> BTreeMap<String, String>;
    /// Evaluates the guardrails on one planned change; `Ok(None)` when policy checks are turned off.
    async fn evaluate_policy(&self, plan: ProviderPlan) -> Result<Option<Decision>, Diagnostic>;
    /// Appends a restore-test result to the audit log (no-op when no audit log is configured).
    async fn record_restore_test(
        &self,
        record: policy::audit::RestoreTestRecord,
    ) -> Result<(), Diagnostic>;
}

/// A fixed environment: a given backend, catalogue, optional engine and optional audit log file.
/// Used by tests, and by the provider until its configuration supplies these itself.
pub struct StaticEnv {
    pub backend: Arc<dyn DatabaseBackend>,
    pub tiers: Arc<TierCatalogue>,
    pub default_tags: BTreeMap<String, String>,
    pub engine: Option<Arc<PolicyEngine>>,
    pub audit_log: Option<PathBuf>,
}

impl StaticEnv {
    /// A local-backend environment with the embedded catalogue and no policy engine or audit log.
    pub fn local(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            backend: Arc::new(crate::backend::local::LocalBackend::new(data_dir)),
            tiers: Arc::new(TierCatalogue::embedded()),
            default_tags: BTreeMap::new(),
            engine: None,
            audit_log: None,
        }
    }
}

#[async_trait]
impl DatabaseEnv for StaticEnv {
    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
        Ok(self.backend.clone())
    }

    async fn tiers(&self) -> Result<Arc<TierCatalogue>, Diagnostic> {
        Ok(self.tiers.clone())
    }

    async fn default_tags(&self) -> BTreeMap<String, String> {
        self.default_tags.clone()
    }

    async fn evaluate_policy(&self, plan: ProviderPlan) -> Result<Option<Decision>, Diagnostic> {
        let Some(engine) = &self.engine else {
            return Ok(None);
        };
        let input = from_provider(plan);
        let ctx = EvalContext {
            now: chrono::Utc::now(),
            overrides: vec![],
            on_unknown: None,
            source: "provider".into(),
        };
        engine.evaluate(&[input], &ctx).map(Some).map_err(|e| {
            Diagnostic::error(
                "Policy evaluation failed",
                format!("The guardrail check could not run: {e}"),
            )
        })
    }

    async fn record_restore_test(
        &self,
        record: policy::audit::RestoreTestRecord,
    ) -> Result<(), Diagnostic> {
        let Some(path) = &self.audit_log else {
            return Ok(());
        };
        let mut log = policy::audit::AuditLog::open(path.clone()).map_err(|e| {
            Diagnostic::error(
                "Audit log unavailable",
                format!("Cannot open audit log {}: {e}", path.display()),
            )
        })?;
        log.append(policy::audit::RecordBody::RestoreTest(record))
            .map(|_| ())
            .map_err(|e| {
                Diagnostic::error(
                    "Audit log write failed",
                    format!("Cannot append to {}: {e}", path.display()),
                )
            })
    }
}

/// The backend a provider configuration selects.
pub fn backend_for(
    cfg: &crate::resources::provider::ProviderConfig,
) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
    use crate::resources::provider::BackendKind;
    match cfg.backend {
        BackendKind::Local => {
            if cfg.local.data_dir.as_os_str().is_empty() {
                return Err(Diagnostic::error(
                    "local.data_dir not set",
                    "The local backend needs a directory for its databases: set local { data_dir = \"...\" } in the provider block.",
                ));
            }
            Ok(Arc::new(crate::backend::local::LocalBackend::new(
                cfg.local.data_dir.clone(),
            )))
        }
        BackendKind::Aws => crate::backend::aws::shared_backend(&cfg.aws)
            .map(|b| b as Arc<dyn DatabaseBackend>)
            .map_err(|e| Diagnostic::error("aws backend not configured", e.to_string())),
    }
}

#[async_trait]
impl DatabaseEnv for crate::resources::provider::ProviderState {
    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
        backend_for(&*self.config().await?)
    }

    async fn tiers(&self) -> Result<Arc<TierCatalogue>, Diagnostic> {
        Ok(Arc::new(self.config().await?.tiers.clone()))
    }

    async fn default_tags(&self) -> BTreeMap<String, String> {
        self.config()
            .await
            .map(|c| c.default_tags.clone())
            .unwrap_or_default()
    }

    async fn evaluate_policy(
        &self,
        mut plan: ProviderPlan,
    ) -> Result<Option<Decision>, Diagnostic> {
        let cfg = self.config().await?;
        let opts = policy::engine::EngineOptions {
            extra_dirs: cfg.policy.directories.clone(),
            tiers: cfg.tiers.clone(),
            exceptions_file: cfg.policy.exceptions_file.clone(),
            ..Default::default()
        };
        // Loaded per plan: a bundle compiles in milliseconds; cache it on the provider state if profiles say so.
        let engine = PolicyEngine::load(&opts).map_err(|e| {
            Diagnostic::error(
                "Policy bundle failed to load",
                format!("The guardrails could not be loaded: {e}"),
            )
        })?;
        plan.terraform_version = Some(cfg.terraform_version.clone());
        let input = from_provider(plan);
        let ctx = EvalContext {
            now: chrono::Utc::now(),
            overrides: vec![],
            on_unknown: None,
            source: "provider".into(),
        };
        let mut decision = engine.evaluate(&[input], &ctx).map_err(|e| {
            Diagnostic::error(
                "Policy evaluation failed",
                format!("The guardrail check could not run: {e}"),
            )
        })?;
        if cfg.policy.is_advisory() {
            // Break-glass: every failure is reported, none blocks.
            for r in &mut decision.results {
                if r.status == policy::model::decision::Status::Fail {
                    r.enforcement = policy::model::decision::Enforcement::Advisory;
                }
            }
        }
        Ok(Some(decision))
    }

    async fn record_restore_test(
        &self,
        record: policy::audit::RestoreTestRecord,
    ) -> Result<(), Diagnostic> {
        let cfg = self.config().await?;
        let Some(path) = cfg.policy.audit_log.clone() else {
            return Ok(());
        };
        let mut log = policy::audit::AuditLog::open(path.clone()).map_err(|e| {
            Diagnostic::error(
                "Audit log unavailable",
                format!("Cannot open audit log {}: {e}", path.display()),
            )
        })?;
        log.append(policy::audit::RecordBody::RestoreTest(record))
            .map(|_| ())
            .map_err(|e| {
                Diagnostic::error(
                    "Audit log write failed",
                    format!("Cannot append to {}: {e}", path.display()),
                )
            })
    }
}
