//! The tfplugin6 Provider service: a thin adapter per RPC over the framework traits.
//!
//! Each RPC looks up the type name, takes its schema, decodes the `DynamicValue`s, calls the resource, data
//! source or provider, and encodes the answer (as terraform-plugin-framework's `proto6server`). Every problem a
//! user can cause — an unknown type name, a value that does not decode, a failing resource — is answered as a
//! diagnostic in the response, never as a gRPC error, so Terraform shows it next to the configuration.
//! Logs carry RPC and type names only, never values (they may be sensitive).

mod ephemeral;
mod rpc;
mod write_only;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::framework::{
    DataSource, Diagnostics, EphemeralResource, Provider, Resource, Schema, Type,
};

/// A resource type with its schema computed once.
pub(crate) struct ResourceEntry {
    pub(crate) resource: Arc<dyn Resource>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// A data source type with its schema computed once.
pub(crate) struct DataSourceEntry {
    pub(crate) data_source: Arc<dyn DataSource>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// An ephemeral resource type with its schema computed once.
pub(crate) struct EphemeralEntry {
    pub(crate) ephemeral: Arc<dyn EphemeralResource>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// Implements `tfplugin6.Provider` for one framework provider. Wrap it in
/// `proto::tfplugin6::provider_server::ProviderServer` to serve it.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    provider_type: Type,
    resources: BTreeMap<String, ResourceEntry>,
    data_sources: BTreeMap<String, DataSourceEntry>,
    ephemerals: BTreeMap<String, EphemeralEntry>,
}

impl ProviderService {
    /// Collects the provider's schemas once (Terraform asks for them on every run).
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let provider_schema = provider.schema();
        let provider_type = provider_schema.block.implied_type();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.block.implied_type();
                (
                    r.type_name().to_string(),
                    ResourceEntry {
                        resource: r,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.block.implied_type();
                (
                    d.type_name().to_string(),
                    DataSourceEntry {
                        data_source: d,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let ephemerals = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| {
                let schema = e.schema();
                let ty = schema.block.implied_type();
                (
                    e.type_name().to_string(),
                    EphemeralEntry {
                        ephemeral: e,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let service = Self {
            provider,
            provider_schema,
            provider_type,
            resources,
            data_sources,
            ephemerals,
        };
        service.warn_about_schema_problems();
        service
    }

    /// Logs schema mistakes Terraform would reject later with a less helpful message (a provider bug).
    fn warn_about_schema_problems(&self) {
        let blocks = std::iter::once((self.provider.type_name(), &self.provider_schema))
            .chain(self.resources.iter().map(|(k, e)| (k.as_str(), &e.schema)))
            .chain(
                self.data_sources
                    .iter()
                    .map(|(k, e)| (k.as_str(), &e.schema)),
            );
        for (type_name, schema) in blocks {
            for problem in crate::framework::planning::schema_problems(&schema.block) {
                tracing::warn!(type_name, problem = %problem, "invalid schema");
            }
        }
    }

    pub(crate) fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name, self.resources.keys()))
    }

    pub(crate) fn ephemeral(&self, type_name: &str) -> Result<&EphemeralEntry, Diagnostics> {
        self.ephemerals
            .get(type_name)
            .ok_or_else(|| unknown_type("ephemeral resource", type_name, self.ephemerals.keys()))
    }

    pub(crate) fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name, self.data_sources.keys()))
    }
}

/// "Unknown resource type" naming the valid ones.
fn unknown_type<'a>(
    kind: &str,
    type_name: &str,
    valid: impl Iterator<Item = &'a String>,
) -> Diagnostics {
    let valid: Vec<&str> = valid.map(String::as_str).collect();
    let list = if valid.is_empty() {
        "(none)".to_string()
    } else {
        valid.join(", ")
    };
    let mut d = Diagnostics::new();
    d.error(
        format!("Unknown {kind} type"),
        format!(
            "The dbplatform provider has no {kind} type {type_name:?}. Valid {kind} types: {list}. Check the \
             spelling in your configuration, or upgrade the provider if the type is newer than this version."
        ),
    );
    d
}
