//! The provider itself: its type name and schema, validate and configure, and the registered resource and data
//! source types (each given the shared [`ProviderState`]).

use std::sync::Arc;

use async_trait::async_trait;

use super::audited_apply::AuditedApply;
use super::environment::ConfigEnv;
use super::parse::parse;
use super::schema::provider_block;
use super::state::ProviderState;
use crate::framework::{
    AttributePath, DataSource, Diagnostic, Diagnostics, EphemeralResource, Provider, Resource,
    Schema, Value,
};
use crate::resources::access_review::AccessReviewDataSource;
use crate::resources::break_glass::BreakGlassResource;
use crate::resources::credentials::CredentialsResource;
use crate::resources::database::env_trait::DatabaseEnv;
use crate::resources::database::DatabaseResource;
use crate::resources::database_data_source::DatabaseDataSource;
use crate::resources::failover_drill::FailoverDrillResource;
use crate::resources::parameter_group::ParameterGroupResource;
use crate::resources::replica::ReplicaResource;
use crate::resources::restore_test::RestoreTestResource;
use crate::resources::role::RoleResource;
use crate::resources::tier_data_source::TierDataSource;

/// The dbplatform provider.
pub struct DbPlatformProvider {
    state: Arc<ProviderState>,
    env: ConfigEnv,
}

impl Default for DbPlatformProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl DbPlatformProvider {
    /// The provider with defaults from this process's environment.
    pub fn new() -> Self {
        Self::with_env(ConfigEnv::from_process())
    }

    /// The provider with defaults from `env` (tests).
    pub fn with_env(env: ConfigEnv) -> Self {
        Self {
            state: Arc::new(ProviderState::new()),
            env,
        }
    }

    /// The state resources share (for tests and for resources built outside [`Provider::resources`]).
    pub fn state(&self) -> Arc<ProviderState> {
        Arc::clone(&self.state)
    }
}

#[async_trait]
impl Provider for DbPlatformProvider {
    fn type_name(&self) -> &'static str {
        "dbplatform"
    }

    fn schema(&self) -> Schema {
        Schema::new(0, provider_block())
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let (parsed, diags) = parse(config, &self.env, "");
        self.state.remember_validation(parsed.as_ref()).await;
        diags
    }

    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics {
        let (parsed, mut diags) = parse(config, &self.env, terraform_version);
        if let Some(cfg) = parsed {
            if cfg.policy.is_advisory() {
                diags.push(
                    Diagnostic::warning(
                        "Policy enforcement is advisory",
                        "policy.enforcement_override = \"advisory\": every guardrail failure is reported as a \
                         warning and nothing is blocked. This is a break-glass setting; remove it as soon as the \
                         emergency is over. Decisions are still written to the audit log.",
                    )
                    .at(AttributePath::attr("policy").join_attr("enforcement_override")),
                );
            }
            self.state.set_config(cfg).await;
        }
        diags
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        let state = &self.state;
        let registered: Vec<Arc<dyn Resource>> = vec![
            // ==== REGISTERED RESOURCES: one line per resource type, e.g. ====
            // Arc::new(DatabaseResource::new(Arc::clone(state))),
            // Apply outcomes go to the audit log (plan-time decisions are recorded by the resource itself).
            Arc::new(AuditedApply::new(
                Arc::new(DatabaseResource::new(
                    Arc::clone(state) as Arc<dyn DatabaseEnv>
                )),
                Arc::clone(state),
            )),
            Arc::new(ParameterGroupResource::new(Arc::clone(state))),
            Arc::new(RestoreTestResource::new(
                Arc::clone(state) as Arc<dyn DatabaseEnv>
            )),
            Arc::new(ReplicaResource::new(
                Arc::clone(state) as Arc<dyn DatabaseEnv>
            )),
            Arc::new(FailoverDrillResource::new(
                Arc::clone(state) as Arc<dyn DatabaseEnv>
            )),
            Arc::new(RoleResource::new(Arc::clone(state) as Arc<dyn DatabaseEnv>)),
            Arc::new(BreakGlassResource::new(
                Arc::clone(state) as Arc<dyn DatabaseEnv>
            )),
        ];
        let _ = state; // used by the lines above once resources are registered
        registered
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![Arc::new(CredentialsResource::new(
            Arc::clone(&self.state) as Arc<dyn DatabaseEnv>
        ))]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        let state = &self.state;
        vec![
            // ==== REGISTERED DATA SOURCES: one line per data source type ====
            Arc::new(DatabaseDataSource::new(
                Arc::clone(state) as Arc<dyn DatabaseEnv>
            )),
            Arc::new(TierDataSource::new(Arc::clone(state))),
            Arc::new(AccessReviewDataSource::new(
                Arc::clone(state) as Arc<dyn DatabaseEnv>
            )),
        ]
    }
}
