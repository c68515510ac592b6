//! Code generated from the tfplugin6 and go-plugin protocol definitions (`provider/proto/*.proto`).
//!
//! Both the server (this provider) and the test clients use these types; nothing below `server`/`convert`
//! should see them.

/// Terraform plugin protocol 6: the Provider service and its messages.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's own services: GRPCController (Shutdown), GRPCStdio and GRPCBroker.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
