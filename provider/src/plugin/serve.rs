//! Serving Terraform: handshake, private Unix socket, optional mTLS, the gRPC services, and graceful shutdown
//! (Shutdown RPC or SIGTERM; SIGINT too in debug mode).
//!
//! SIGINT is ignored in managed mode, as go-plugin plugins do: Terraform forwards a user's Ctrl-C to its whole
//! process group, then asks providers to stop (StopProvider) and waits for in-flight applies so that their
//! results reach the state. Exiting on SIGINT would lose a database that is being created.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::UnixListener;
use tokio_rustls::TlsAcceptor;
use tonic::transport::Server;

use super::handshake::{self, HandshakeError};
use super::services::{Controller, ShutdownSwitch, Stdio};
use super::stream::PluginStream;
use super::tls::{self, TlsError};
use crate::framework::Provider;
use crate::proto::plugin::{
    grpc_controller_server::GrpcControllerServer, grpc_stdio_server::GrpcStdioServer,
};
use crate::proto::tfplugin6::provider_server::ProviderServer;

/// Largest gRPC message accepted or sent on the Provider service (large plans and states).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
/// How long a client may take to finish its TLS handshake before it is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The name go-plugin's health check asks about.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Reattach mode: no cookie check, plaintext, print `TF_REATTACH_PROVIDERS`, serve until Ctrl-C.
    pub debug: bool,
    /// Full provider address used in `TF_REATTACH_PROVIDERS`, e.g. `registry.terraform.io/dbplatform/dbplatform`.
    pub provider_address: String,
}

/// The environment go-plugin communicates through, read once so that tests can pass their own.
#[derive(Debug, Clone, Default)]
pub struct PluginEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_CLIENT_CERT` (PEM); set when Terraform wants AutoMTLS.
    pub client_cert: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`: where newer go-plugin hosts want sockets created (default: the temp dir).
    pub socket_dir: Option<std::path::PathBuf>,
}

impl PluginEnv {
    /// Reads the variables of this process.
    pub fn from_process() -> Self {
        let get = |k: &str| std::env::var(k).ok();
        Self {
            magic_cookie: get(handshake::MAGIC_COOKIE_KEY),
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            client_cert: get("PLUGIN_CLIENT_CERT").filter(|s| !s.trim().is_empty()),
            socket_dir: get("PLUGIN_UNIX_SOCKET_DIR")
                .filter(|s| !s.is_empty())
                .map(std::path::PathBuf::from),
        }
    }
}

/// Why serving failed before or while it ran. Every variant means exit code 1.
#[derive(Debug, Error)]
pub enum ServeError {
    /// Not started by a compatible Terraform.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// AutoMTLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A local I/O step failed (temp dir, socket, stdout).
    #[error("could not {what}: {source}")]
    Io {
        /// The step, in words.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The gRPC server stopped with an error.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |source| ServeError::Io { what, source }
}

/// Serves `provider` to Terraform until Shutdown (or a signal), using this process's environment.
pub async fn serve(provider: Arc<dyn Provider>, opts: ServeOptions) -> Result<(), ServeError> {
    serve_with_env(
        provider,
        opts,
        PluginEnv::from_process(),
        Box::new(std::io::stdout()),
    )
    .await
}

/// [`serve`] with an explicit environment, writing the handshake line (or the reattach instructions) to `out`
/// instead of stdout (tests read it from there).
pub async fn serve_with_env(
    provider: Arc<dyn Provider>,
    opts: ServeOptions,
    env: PluginEnv,
    mut out: Box<dyn std::io::Write + Send>,
) -> Result<(), ServeError> {
    let version = if opts.debug {
        handshake::APP_PROTOCOL_VERSION
    } else {
        handshake::check_cookie(env.magic_cookie.as_deref())?;
        handshake::negotiate_version(env.protocol_versions.as_deref())?
    };

    // In reattach mode Terraform never uses TLS; otherwise TLS exactly when Terraform sent its certificate.
    let tls = match (&env.client_cert, opts.debug) {
        (Some(pem), false) => {
            let client = tls::parse_client_cert(pem)?;
            let identity = tls::ServerIdentity::generate()?;
            let config = tls::server_config(&identity, client)?;
            Some((TlsAcceptor::from(config), identity.cert_der))
        }
        _ => None,
    };
    tracing::trace!(tls = tls.is_some(), "handshake checked, TLS ready");

    let mut builder = tempfile::Builder::new();
    // The pid in the name lets a later start remove the directory if this process is killed (see `stale`).
    let prefix = super::stale::own_prefix();
    builder.prefix(&prefix);
    let parent = env.socket_dir.clone().unwrap_or_else(std::env::temp_dir);
    let removed = super::stale::remove_stale(&parent);
    if removed > 0 {
        tracing::debug!(
            removed,
            "removed plugin directories of dead provider processes"
        );
    }
    let dir = match &env.socket_dir {
        Some(parent) => builder.tempdir_in(parent).map_err(io_err(format!(
            "create a private directory for the plugin socket in PLUGIN_UNIX_SOCKET_DIR={}",
            parent.display()
        )))?,
        None => builder
            .tempdir()
            .map_err(io_err("create a private directory for the plugin socket"))?,
    };
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).map_err(
        io_err(format!("restrict permissions of {}", dir.path().display())),
    )?;
    let socket: PathBuf = dir.path().join("plugin.sock");
    let listener =
        UnixListener::bind(&socket).map_err(io_err(format!("listen on {}", socket.display())))?;
    let socket_str = socket.to_string_lossy().to_string();

    tracing::trace!("socket bound");
    let shutdown = ShutdownSwitch::new();
    let provider_service = ProviderServer::new(crate::server::ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status(HEALTH_SERVICE_NAME, tonic_health::ServingStatus::Serving)
        .await;
    let controller = Controller {
        shutdown: shutdown.clone(),
        ignore_shutdown: opts.debug,
    };
    let stdio = Stdio {
        shutdown: shutdown.clone(),
    };

    let (conn_tx, conn_rx) = tokio::sync::mpsc::channel::<PluginStream>(16);
    let acceptor = tls.as_ref().map(|(a, _)| a.clone());
    let accept_task = tokio::spawn(accept_loop(listener, acceptor, conn_tx, shutdown.clone()));
    // Handlers are installed here, before the handshake line, so that a signal sent right after it is handled.
    let signal_task = tokio::spawn(watch_signals(
        install_signal_handlers(),
        shutdown.clone(),
        opts.debug,
    ));

    announce(
        &mut out,
        &opts,
        version,
        &socket_str,
        tls.as_ref().map(|(_, der)| der.as_slice()),
    )?;
    tracing::debug!(socket = %socket_str, tls = tls.is_some(), debug = opts.debug, "plugin server started");

    let incoming = tokio_stream::StreamExt::map(
        tokio_stream::wrappers::ReceiverStream::new(conn_rx),
        Ok::<_, std::io::Error>,
    );
    let stop = shutdown.clone();
    let result = Server::builder()
        .add_service(provider_service)
        .add_service(GrpcControllerServer::new(controller))
        .add_service(GrpcStdioServer::new(stdio))
        .add_service(health_service)
        .serve_with_incoming_shutdown(incoming, async move { stop.wait().await })
        .await;
    accept_task.abort();
    signal_task.abort();
    tracing::debug!("plugin server stopped");
    drop(dir);
    result.map_err(ServeError::from)
}

/// Prints the handshake line (and in debug mode the reattach instructions) and flushes.
fn announce(
    out: &mut dyn std::io::Write,
    opts: &ServeOptions,
    version: u32,
    socket: &str,
    cert: Option<&[u8]>,
) -> Result<(), ServeError> {
    let text = if opts.debug {
        let value = handshake::reattach_value(&opts.provider_address, std::process::id(), socket);
        format!(
            "Provider started in debug mode. To use it, set this in the shell where you run Terraform:\n\n\
             \tTF_REATTACH_PROVIDERS='{value}'\n\n\
             Terraform then talks to this process instead of starting the provider, for as many runs as you like.\n\
             Press Ctrl-C here to stop it.\n"
        )
    } else {
        format!("{}\n", handshake::handshake_line(version, socket, cert))
    };
    out.write_all(text.as_bytes())
        .map_err(io_err("write the handshake to stdout"))?;
    out.flush().map_err(io_err("flush stdout"))
}

/// Accepts connections; with TLS, completes each handshake in its own task so a slow or refused client cannot
/// block others. Refused clients are logged and dropped.
async fn accept_loop(
    listener: UnixListener,
    tls: Option<TlsAcceptor>,
    out: tokio::sync::mpsc::Sender<PluginStream>,
    shutdown: ShutdownSwitch,
) {
    loop {
        let conn = match listener.accept().await {
            Ok((conn, _)) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let out = out.clone();
        match &tls {
            None => {
                if out.send(PluginStream::Plain(conn)).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(conn)).await {
                        Ok(Ok(stream)) => {
                            let micros = started.elapsed().as_micros() as u64;
                            tracing::trace!(micros, "TLS handshake done");
                            let _ = out.send(PluginStream::Tls(Box::new(stream))).await;
                        }
                        // Terraform drops half-open connections when it shuts a provider down.
                        Ok(Err(e)) if shutdown.is_triggered() => {
                            tracing::debug!(error = %e, "TLS handshake ended by shutdown")
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "TLS handshake with a client failed")
                        }
                        Err(_) => tracing::warn!("TLS handshake with a client timed out"),
                    }
                });
            }
        }
    }
}

/// The SIGTERM and SIGINT streams, when they could be installed.
type SignalPair = Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>;

/// Installs the SIGTERM and SIGINT handlers (from then on these signals no longer kill the process).
fn install_signal_handlers() -> SignalPair {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => Some((term, int)),
        _ => {
            tracing::warn!(
                "could not install signal handlers; stop the provider with the Shutdown RPC"
            );
            None
        }
    }
}

/// SIGTERM always shuts down gracefully; SIGINT only in debug mode (see the module doc).
async fn watch_signals(signals: SignalPair, shutdown: ShutdownSwitch, debug: bool) {
    let Some((mut term, mut int)) = signals else {
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => {
                tracing::debug!("SIGTERM received, shutting down");
                shutdown.trigger();
            }
            _ = int.recv() => {
                if debug {
                    tracing::debug!("interrupt received, shutting down");
                    shutdown.trigger();
                } else {
                    tracing::trace!("interrupt received; ignored, Terraform handles it and calls StopProvider");
                }
            }
        }
    }
}
