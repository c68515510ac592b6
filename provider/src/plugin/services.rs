//! go-plugin's side services: GRPCController (Terraform's "shut down now", which saves it a 2 s wait per
//! provider process) and GRPCStdio (the stream go-plugin mirrors plugin output from; we log to stderr directly,
//! so it stays silent and ends when the server shuts down).

use std::pin::Pin;

use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::proto::plugin::{
    self, grpc_controller_server::GrpcController, grpc_stdio_server::GrpcStdio,
};

/// A one-way "shut down" switch shared by the Shutdown RPC, signal handlers and the server.
#[derive(Clone)]
pub struct ShutdownSwitch {
    tx: watch::Sender<bool>,
}

impl Default for ShutdownSwitch {
    fn default() -> Self {
        Self::new()
    }
}

impl ShutdownSwitch {
    /// A switch that is off.
    pub fn new() -> Self {
        Self {
            tx: watch::channel(false).0,
        }
    }

    /// Turns the switch on (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the switch is on.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the switch is on.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // An error means the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|on| *on).await;
    }
}

/// `plugin.GRPCController`: Shutdown ends the process gracefully (in-flight RPCs finish first).
pub struct Controller {
    /// The switch to flip.
    pub shutdown: ShutdownSwitch,
    /// In reattach (debug) mode the process outlives each Terraform run, so Shutdown is ignored.
    pub ignore_shutdown: bool,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(
        &self,
        _req: Request<plugin::Empty>,
    ) -> Result<Response<plugin::Empty>, Status> {
        if self.ignore_shutdown {
            tracing::debug!("Shutdown requested; ignored in debug mode (stop with Ctrl-C)");
        } else {
            tracing::debug!("Shutdown requested by Terraform");
            self.shutdown.trigger();
        }
        Ok(Response::new(plugin::Empty {}))
    }
}

/// `plugin.GRPCStdio`: an empty stream that stays open until shutdown.
pub struct Stdio {
    /// Ends the stream.
    pub shutdown: ShutdownSwitch,
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<plugin::StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _req: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<plugin::StdioData, Status>>(1);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            // Holding the sender keeps the stream open; dropping it at shutdown ends it.
            tokio::select! {
                _ = shutdown.wait() => {}
                _ = tx.closed() => {}
            }
            drop(tx);
        });
        let stream: StdioStream = Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx));
        Ok(Response::new(stream))
    }
}
