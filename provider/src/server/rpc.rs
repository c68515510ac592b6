//! One short adapter per tfplugin6 RPC.

use tonic::{Request, Response, Status};

use super::ProviderService;
use crate::convert::diagnostics::diagnostics_to_proto;
use crate::convert::dynamic::{decode, encode, invalid_from_provider, invalid_from_terraform};
use crate::convert::schema::schema_to_proto;
use crate::framework::{
    self, ApplyRequest, Diagnostics, PlanRequest, ReadDataRequest, ReadRequest, Type, Value,
};
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider as ProviderRpc;

type RpcResult<T> = Result<Response<T>, Status>;

/// Decodes `dv` or records an "Invalid value from Terraform" diagnostic and yields `None`.
pub(super) fn decode_or_diag(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    type_name: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    match decode(dv, ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.push(invalid_from_terraform(what, type_name, &e));
            None
        }
    }
}

/// Encodes `v`, or records a provider-bug diagnostic and yields no value.
pub(super) fn encode_or_diag(
    v: &Value,
    ty: &Type,
    what: &str,
    type_name: &str,
    diags: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    match encode(v, ty) {
        Ok(dv) => Some(dv),
        Err(e) => {
            diags.push(invalid_from_provider(what, type_name, &e));
            None
        }
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_metadata(
        &self,
        _req: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        let timed = crate::plugin::logging::RpcTimer::start("GetMetadata");
        tracing::debug!(tf_rpc = "GetMetadata", tf_req_id = %timed.req_id, "rpc");
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: vec![],
            data_sources: self
                .data_sources
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            functions: vec![],
            ephemeral_resources: self
                .ephemerals
                .keys()
                .map(|t| pb::get_metadata::EphemeralMetadata {
                    type_name: t.clone(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        let timed = crate::plugin::logging::RpcTimer::start("GetProviderSchema");
        tracing::debug!(tf_rpc = "GetProviderSchema", tf_req_id = %timed.req_id, "rpc");
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: Some(capabilities()),
            functions: Default::default(),
            ephemeral_resource_schemas: self
                .ephemerals
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let timed = crate::plugin::logging::RpcTimer::start("ValidateProviderConfig");
        tracing::debug!(tf_rpc = "ValidateProviderConfig", tf_req_id = %timed.req_id, "rpc");
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let name = self.provider.type_name();
        if let Some(config) = decode_or_diag(
            req.config.as_ref(),
            &self.provider_type,
            "configuration",
            name,
            &mut diags,
        ) {
            diags.extend(self.provider.validate(&config).await);
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("ValidateResourceConfig");
        tracing::debug!(tf_rpc = "ValidateResourceConfig", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let diags = match self.resource(&req.type_name) {
            Err(d) => d,
            Ok(e) => {
                let mut diags = Diagnostics::new();
                if let Some(config) = decode_or_diag(
                    req.config.as_ref(),
                    &e.ty,
                    "configuration",
                    &req.type_name,
                    &mut diags,
                ) {
                    diags.extend(super::write_only::refuse_without_client_support(
                        &e.schema,
                        &config,
                        req.client_capabilities.as_ref(),
                    ));
                    diags.extend(e.resource.validate(&config).await);
                }
                diags
            }
        };
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("ValidateDataResourceConfig");
        tracing::debug!(tf_rpc = "ValidateDataResourceConfig", tf_data_source_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let diags = match self.data_source(&req.type_name) {
            Err(d) => d,
            Ok(e) => {
                let mut diags = Diagnostics::new();
                if let Some(config) = decode_or_diag(
                    req.config.as_ref(),
                    &e.ty,
                    "configuration",
                    &req.type_name,
                    &mut diags,
                ) {
                    diags.extend(e.data_source.validate(&config).await);
                }
                diags
            }
        };
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("UpgradeResourceState");
        tracing::debug!(tf_rpc = "UpgradeResourceState", tf_resource_type = %req.type_name, version = req.version, tf_req_id = %timed.req_id, "rpc");
        let mut diags = Diagnostics::new();
        let upgraded = self.upgrade(&req, &mut diags).await;
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let timed = crate::plugin::logging::RpcTimer::start("ConfigureProvider");
        tracing::debug!(tf_rpc = "ConfigureProvider", tf_req_id = %timed.req_id, "rpc");
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let name = self.provider.type_name();
        if let Some(config) = decode_or_diag(
            req.config.as_ref(),
            &self.provider_type,
            "configuration",
            name,
            &mut diags,
        ) {
            diags.extend(
                self.provider
                    .configure(&config, &req.terraform_version)
                    .await,
            );
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("ReadResource");
        tracing::debug!(tf_rpc = "ReadResource", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let e = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(d) => {
                return Ok(Response::new(pb::read_resource::Response {
                    new_state: req.current_state,
                    diagnostics: diagnostics_to_proto(&d),
                    private: req.private,
                    deferred: None,
                }))
            }
        };
        let mut diags = Diagnostics::new();
        let Some(current) = decode_or_diag(
            req.current_state.as_ref(),
            &e.ty,
            "current state",
            &req.type_name,
            &mut diags,
        ) else {
            return Ok(Response::new(pb::read_resource::Response {
                new_state: req.current_state,
                diagnostics: diagnostics_to_proto(&diags),
                private: req.private,
                deferred: None,
            }));
        };
        let resp = e
            .resource
            .read(ReadRequest {
                current,
                private: req.private,
            })
            .await;
        diags.extend(resp.diagnostics);
        let mut refreshed = resp.new_state;
        super::write_only::clear(&e.schema, &mut refreshed);
        let new_state = encode_or_diag(
            &refreshed,
            &e.ty,
            "refreshed state",
            &req.type_name,
            &mut diags,
        );
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diagnostics_to_proto(&diags),
            private: resp.private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("PlanResourceChange");
        tracing::debug!(tf_rpc = "PlanResourceChange", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let mut diags = Diagnostics::new();
        let e = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(d) => return Ok(Response::new(plan_failed(d))),
        };
        let t = &req.type_name;
        let prior = decode_or_diag(
            req.prior_state.as_ref(),
            &e.ty,
            "prior state",
            t,
            &mut diags,
        );
        let proposed = decode_or_diag(
            req.proposed_new_state.as_ref(),
            &e.ty,
            "proposed new state",
            t,
            &mut diags,
        );
        let config = decode_or_diag(req.config.as_ref(), &e.ty, "configuration", t, &mut diags);
        let (Some(prior), Some(proposed), Some(config)) = (prior, proposed, config) else {
            return Ok(Response::new(plan_failed(diags)));
        };
        if proposed.is_null() {
            // Destroy: nothing to plan (Terraform 1.x does not ask, as plan_destroy is false).
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: req.proposed_new_state,
                planned_private: req.prior_private,
                ..Default::default()
            }));
        }
        let planned =
            framework::planning::plan_with_schema(&e.schema.block, &prior, &proposed, &config);
        let resp = e
            .resource
            .plan(PlanRequest {
                prior_state: prior.clone(),
                proposed,
                config,
                prior_private: req.prior_private,
                planned,
            })
            .await;
        diags.extend(resp.diagnostics);
        let mut replace = if prior.is_null() {
            Vec::new()
        } else {
            framework::planning::requires_replace(&e.schema.block, &prior, &resp.planned)
        };
        for p in resp.requires_replace {
            if !replace.contains(&p) {
                replace.push(p);
            }
        }
        // Write-only values are read from the configuration at apply; the plan never holds them.
        let mut planned = resp.planned;
        super::write_only::clear(&e.schema, &mut planned);
        let planned_state = encode_or_diag(&planned, &e.ty, "planned state", t, &mut diags);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace: replace
                .iter()
                .map(crate::convert::diagnostics::path_to_proto)
                .collect(),
            planned_private: resp.planned_private,
            diagnostics: diagnostics_to_proto(&diags),
            legacy_type_system: false,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("ApplyResourceChange");
        tracing::debug!(tf_rpc = "ApplyResourceChange", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let mut diags = Diagnostics::new();
        let e = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: req.prior_state,
                    diagnostics: diagnostics_to_proto(&d),
                    ..Default::default()
                }))
            }
        };
        let t = &req.type_name;
        let prior = decode_or_diag(
            req.prior_state.as_ref(),
            &e.ty,
            "prior state",
            t,
            &mut diags,
        );
        let planned = decode_or_diag(
            req.planned_state.as_ref(),
            &e.ty,
            "planned state",
            t,
            &mut diags,
        );
        let config = decode_or_diag(req.config.as_ref(), &e.ty, "configuration", t, &mut diags);
        let (Some(prior), Some(planned), Some(config)) = (prior, planned, config) else {
            // Nothing was done: keep the prior state.
            return Ok(Response::new(pb::apply_resource_change::Response {
                new_state: req.prior_state,
                diagnostics: diagnostics_to_proto(&diags),
                ..Default::default()
            }));
        };
        let resp = e
            .resource
            .apply(ApplyRequest {
                prior,
                planned,
                config,
                planned_private: req.planned_private,
            })
            .await;
        diags.extend(resp.diagnostics);
        // Encoded even when there are errors: a partially created object must stay in state.
        let mut after = resp.new_state;
        super::write_only::clear(&e.schema, &mut after);
        let new_state = encode_or_diag(&after, &e.ty, "new state", t, &mut diags);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: resp.private,
            diagnostics: diagnostics_to_proto(&diags),
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("ImportResourceState");
        tracing::debug!(tf_rpc = "ImportResourceState", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let e = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(d) => {
                return Ok(Response::new(pb::import_resource_state::Response {
                    imported_resources: vec![],
                    diagnostics: diagnostics_to_proto(&d),
                    deferred: None,
                }))
            }
        };
        let resp = e.resource.import(&req.id).await;
        let mut diags = resp.diagnostics;
        let mut imported = Vec::new();
        for v in &resp.imported {
            if let Some(state) =
                encode_or_diag(v, &e.ty, "imported state", &req.type_name, &mut diags)
            {
                imported.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(state),
                    private: vec![],
                });
            }
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: diagnostics_to_proto(&diags),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> RpcResult<pb::move_resource_state::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("MoveResourceState");
        tracing::debug!(tf_rpc = "MoveResourceState", tf_resource_type = %req.target_type_name, tf_req_id = %timed.req_id, "rpc");
        let mut d = Diagnostics::new();
        d.error(
            "Moving resources between types is not supported",
            format!(
                "The dbplatform provider cannot move {} into {}. Remove the `moved` block and use \
                 `terraform import` for the target resource instead.",
                req.source_type_name, req.target_type_name
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: None,
            diagnostics: diagnostics_to_proto(&d),
            target_private: vec![],
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("ReadDataSource");
        tracing::debug!(tf_rpc = "ReadDataSource", tf_data_source_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let e = match self.data_source(&req.type_name) {
            Ok(e) => e,
            Err(d) => {
                return Ok(Response::new(pb::read_data_source::Response {
                    state: None,
                    diagnostics: diagnostics_to_proto(&d),
                    deferred: None,
                }))
            }
        };
        let mut diags = Diagnostics::new();
        let Some(config) = decode_or_diag(
            req.config.as_ref(),
            &e.ty,
            "configuration",
            &req.type_name,
            &mut diags,
        ) else {
            return Ok(Response::new(pb::read_data_source::Response {
                state: None,
                diagnostics: diagnostics_to_proto(&diags),
                deferred: None,
            }));
        };
        let resp = e.data_source.read(ReadDataRequest { config }).await;
        diags.extend(resp.diagnostics);
        let state = encode_or_diag(
            &resp.state,
            &e.ty,
            "data source result",
            &req.type_name,
            &mut diags,
        );
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diagnostics_to_proto(&diags),
            deferred: None,
        }))
    }

    async fn get_functions(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        let timed = crate::plugin::logging::RpcTimer::start("GetFunctions");
        tracing::debug!(tf_rpc = "GetFunctions", tf_req_id = %timed.req_id, "rpc");
        Ok(Response::new(pb::get_functions::Response {
            functions: Default::default(),
            diagnostics: vec![],
        }))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> RpcResult<pb::call_function::Response> {
        let req = req.into_inner();
        let timed = crate::plugin::logging::RpcTimer::start("CallFunction");
        tracing::debug!(tf_rpc = "CallFunction", function = %req.name, tf_req_id = %timed.req_id, "rpc");
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!(
                    "the dbplatform provider defines no functions (called {:?})",
                    req.name
                ),
                function_argument: None,
            }),
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<pb::validate_ephemeral_resource_config::Response> {
        Ok(Response::new(
            self.validate_ephemeral(req.into_inner()).await,
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> RpcResult<pb::open_ephemeral_resource::Response> {
        Ok(Response::new(self.open_ephemeral(req.into_inner()).await))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> RpcResult<pb::renew_ephemeral_resource::Response> {
        Ok(Response::new(self.renew_ephemeral(req.into_inner()).await))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> RpcResult<pb::close_ephemeral_resource::Response> {
        Ok(Response::new(self.close_ephemeral(req.into_inner()).await))
    }

    async fn stop_provider(
        &self,
        _req: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        let timed = crate::plugin::logging::RpcTimer::start("StopProvider");
        tracing::debug!(tf_rpc = "StopProvider", tf_req_id = %timed.req_id, "rpc");
        self.provider.stop().await;
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// A plan response carrying only diagnostics.
fn plan_failed(diags: Diagnostics) -> pb::plan_resource_change::Response {
    pb::plan_resource_change::Response {
        diagnostics: diagnostics_to_proto(&diags),
        ..Default::default()
    }
}

impl ProviderService {
    /// UpgradeResourceState: stored JSON -> resource's upgrade -> current schema -> msgpack.
    async fn upgrade(
        &self,
        req: &pb::upgrade_resource_state::Request,
        diags: &mut Diagnostics,
    ) -> Option<pb::DynamicValue> {
        let e = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(d) => {
                diags.extend(d);
                return None;
            }
        };
        let t = &req.type_name;
        let raw = req.raw_state.as_ref();
        let json = raw.map(|r| r.json.as_slice()).unwrap_or_default();
        if json.is_empty() {
            if raw.is_some_and(|r| !r.flatmap.is_empty()) {
                diags.error(
                    "Legacy state format not supported",
                    format!(
                        "The stored state of this {t} is in the pre-0.12 flatmap format, which the dbplatform \
                         provider never wrote. Remove it with `terraform state rm` and import it again."
                    ),
                );
                return None;
            }
            return encode_or_diag(&Value::Null, &e.ty, "upgraded state", t, diags);
        }
        let parsed: serde_json::Value = match serde_json::from_slice(json) {
            Ok(v) => v,
            Err(err) => {
                diags.error(
                    "Invalid value from Terraform",
                    format!("Invalid value from Terraform: the stored state of this {t} is not valid JSON ({err})."),
                );
                return None;
            }
        };
        let upgraded = match e.resource.upgrade_state(req.version, parsed.clone()).await {
            Ok(v) => v,
            Err(d) => {
                diags.extend(d);
                return None;
            }
        };
        // serde_json keeps only f64/i64/u64 precision: when the resource left the state as it was, decode the
        // stored bytes themselves so that every digit of a number survives.
        let bytes = if upgraded == parsed {
            json.to_vec()
        } else {
            upgraded.to_string().into_bytes()
        };
        let opts = crate::codec::json::DecodeOptions {
            ignore_undefined_attributes: true,
        };
        match crate::codec::json::decode_with(&bytes, &e.ty, opts) {
            Ok(v) => encode_or_diag(&v, &e.ty, "upgraded state", t, diags),
            Err(err) => {
                diags.push(invalid_from_terraform("stored state", t, &err));
                None
            }
        }
    }
}
