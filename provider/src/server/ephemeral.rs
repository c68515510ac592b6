//! The ephemeral-resource RPCs (protocol 6.7): validate, open, renew, close. Values travel only in the open
//! response; Terraform keeps them in memory for the run and never writes them to plan or state. Logs carry type
//! names only.

use chrono::{DateTime, Utc};

use super::rpc::{decode_or_diag, encode_or_diag};
use super::ProviderService;
use crate::convert::diagnostics::diagnostics_to_proto;
use crate::framework::Diagnostics;
use crate::proto::tfplugin6 as pb;

fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

impl ProviderService {
    pub(super) async fn validate_ephemeral(
        &self,
        req: pb::validate_ephemeral_resource_config::Request,
    ) -> pb::validate_ephemeral_resource_config::Response {
        let timed = crate::plugin::logging::RpcTimer::start("ValidateEphemeralResourceConfig");
        tracing::debug!(tf_rpc = "ValidateEphemeralResourceConfig", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let diags = match self.ephemeral(&req.type_name) {
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
                    diags.extend(e.ephemeral.validate(&config).await);
                }
                diags
            }
        };
        pb::validate_ephemeral_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }
    }

    pub(super) async fn open_ephemeral(
        &self,
        req: pb::open_ephemeral_resource::Request,
    ) -> pb::open_ephemeral_resource::Response {
        let timed = crate::plugin::logging::RpcTimer::start("OpenEphemeralResource");
        tracing::debug!(tf_rpc = "OpenEphemeralResource", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let e = match self.ephemeral(&req.type_name) {
            Ok(e) => e,
            Err(d) => {
                return pb::open_ephemeral_resource::Response {
                    diagnostics: diagnostics_to_proto(&d),
                    ..Default::default()
                }
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
            return pb::open_ephemeral_resource::Response {
                diagnostics: diagnostics_to_proto(&diags),
                ..Default::default()
            };
        };
        let resp = e.ephemeral.open(config).await;
        diags.extend(resp.diagnostics);
        let result = if diags.has_errors() {
            None
        } else {
            encode_or_diag(
                &resp.result,
                &e.ty,
                "ephemeral result",
                &req.type_name,
                &mut diags,
            )
        };
        pb::open_ephemeral_resource::Response {
            diagnostics: diagnostics_to_proto(&diags),
            renew_at: resp.renew_at.map(timestamp),
            result,
            private: (!resp.private.is_empty()).then_some(resp.private),
            deferred: None,
        }
    }

    pub(super) async fn renew_ephemeral(
        &self,
        req: pb::renew_ephemeral_resource::Request,
    ) -> pb::renew_ephemeral_resource::Response {
        let timed = crate::plugin::logging::RpcTimer::start("RenewEphemeralResource");
        tracing::debug!(tf_rpc = "RenewEphemeralResource", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let e = match self.ephemeral(&req.type_name) {
            Ok(e) => e,
            Err(d) => {
                return pb::renew_ephemeral_resource::Response {
                    diagnostics: diagnostics_to_proto(&d),
                    ..Default::default()
                }
            }
        };
        let resp = e.ephemeral.renew(req.private.unwrap_or_default()).await;
        pb::renew_ephemeral_resource::Response {
            diagnostics: diagnostics_to_proto(&resp.diagnostics),
            renew_at: resp.renew_at.map(timestamp),
            private: (!resp.private.is_empty()).then_some(resp.private),
        }
    }

    pub(super) async fn close_ephemeral(
        &self,
        req: pb::close_ephemeral_resource::Request,
    ) -> pb::close_ephemeral_resource::Response {
        let timed = crate::plugin::logging::RpcTimer::start("CloseEphemeralResource");
        tracing::debug!(tf_rpc = "CloseEphemeralResource", tf_resource_type = %req.type_name, tf_req_id = %timed.req_id, "rpc");
        let diags = match self.ephemeral(&req.type_name) {
            Err(d) => d,
            Ok(e) => e.ephemeral.close(req.private.unwrap_or_default()).await,
        };
        pb::close_ephemeral_resource::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }
    }
}
