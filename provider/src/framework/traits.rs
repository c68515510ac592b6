//! The contracts resources, data sources and the provider implement; the RPC adapters call only these.

use async_trait::async_trait;

use super::diagnostics::Diagnostics;
use super::path::AttributePath;
use super::schema::Schema;
use super::value::Value;

/// The provider: its own configuration schema, configuration, and what it serves.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Type-name prefix, e.g. "dbplatform".
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Checks provider configuration without side effects (values may be unknown).
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Builds the clients later calls use. `config` may contain unknown values at plan time.
    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics;
    fn resources(&self) -> Vec<std::sync::Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<std::sync::Arc<dyn DataSource>>;
    /// Ephemeral resource types (Terraform 1.10+); none by default.
    fn ephemeral_resources(&self) -> Vec<std::sync::Arc<dyn super::ephemeral::EphemeralResource>> {
        Vec::new()
    }
    /// Called on StopProvider: cancel in-flight work.
    async fn stop(&self) {}
}

/// Input to planning. `proposed` is Terraform's merge of config and prior state.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub prior_state: Value,
    pub proposed: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
    /// The plan after the framework applied schema plan modifiers (defaults, unknown computed values,
    /// use-state-for-unknown). Resources refine this.
    pub planned: Value,
}

/// Result of planning.
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    pub planned: Value,
    /// Extra paths that force replacement, beyond the schema's RequiresReplace modifiers.
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// Input to apply. `planned` null means destroy; `prior` null means create.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub prior: Value,
    pub planned: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

/// Result of apply. On failure return the best-known state (never lose track of a created object).
#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// Input to refresh.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub current: Value,
    pub private: Vec<u8>,
}

/// Result of refresh: `new_state` null removes the resource from state.
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// Result of import: the objects to read next (usually one).
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    pub imported: Vec<Value>,
    pub diagnostics: Diagnostics,
}

/// Input to a data source read.
#[derive(Debug, Clone)]
pub struct ReadDataRequest {
    pub config: Value,
}

/// Result of a data source read.
#[derive(Debug, Clone, Default)]
pub struct ReadDataResponse {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// Full type name, e.g. "dbplatform_database".
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Static checks of configuration (values may be unknown).
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Refines the framework's planned value (tier expansion, policy checks).
    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned: req.planned,
            ..Default::default()
        }
    }
    async fn apply(&self, req: ApplyRequest) -> ApplyResponse;
    async fn read(&self, req: ReadRequest) -> ReadResponse;
    /// Import by id: return objects with at least the attributes `read` needs.
    async fn import(&self, id: &str) -> ImportResponse {
        let mut d = Diagnostics::new();
        d.error(
            "Import not supported",
            format!(
                "{} cannot be imported; create it with terraform apply instead (id {id:?}).",
                self.type_name()
            ),
        );
        ImportResponse {
            imported: vec![],
            diagnostics: d,
        }
    }
    /// Upgrades stored state JSON written by an older schema version into the current shape.
    /// The default accepts state of the current version as is.
    async fn upgrade_state(
        &self,
        version: i64,
        raw: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = self.schema().version;
        if version > current {
            let mut d = Diagnostics::new();
            d.error(
                "State written by a newer provider",
                format!(
                    "{} state has schema version {version}, this provider knows up to {current}; upgrade the provider.",
                    self.type_name()
                ),
            );
            return Err(d);
        }
        Ok(raw)
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse;
}
