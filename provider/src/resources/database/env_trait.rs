//! The [`DatabaseEnv`] trait: what database resources need from the configured provider (backend, tier
//! catalogue, default tags, the plan-time policy check, the audit log). In its own file so the resources that
//! depend on it and the implementations in [`super::env`] (whose tests drive the resources) import it one way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use policy::adapter::planned_state::ProviderPlan;
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
    /// The `default_tags` keys whose values were unknown when the provider was configured (a value from another
    /// resource), known only at apply; `None` when the whole map was unknown.
    async fn unknown_default_tags(&self) -> Option<BTreeSet<String>> {
        Some(BTreeSet::new())
    }
    /// Evaluates the guardrails on one planned change; `Ok(None)` when policy checks are turned off.
    async fn evaluate_policy(&self, plan: ProviderPlan) -> Result<Option<Decision>, Diagnostic>;
    /// Appends a restore-test result to the audit log (no-op when no audit log is configured).
    async fn record_restore_test(
        &self,
        record: policy::audit::RestoreTestRecord,
    ) -> Result<(), Diagnostic>;
    /// Appends a failover-drill result to the same audit log (no-op when no audit log is configured).
    async fn record_failover_drill(
        &self,
        record: policy::audit::FailoverDrillRecord,
    ) -> Result<(), Diagnostic>;
    /// Whether an audit log is configured: break-glass access is only granted when it can be put on record.
    async fn audit_configured(&self) -> Result<bool, Diagnostic>;
    /// Appends an access event (break-glass grant, renewal, revocation) to the audit log; an error when none is
    /// configured or it cannot be written, since access nobody can audit must not pass silently.
    async fn record_access(&self, body: policy::audit::RecordBody) -> Result<(), Diagnostic>;
}
