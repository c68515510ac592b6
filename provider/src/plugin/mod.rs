//! go-plugin transport: handshake, AutoMTLS, Unix socket, gRPC services, reattach, logging.
//!
//! `serve` is the one entry point the binary calls; the submodules are public for tests and for the
//! acceptance harness (e.g. [`handshake::MAGIC_COOKIE_VALUE`]).

pub mod handshake;
pub mod logging;
pub mod serve;
pub mod services;
pub mod stale;
pub mod stream;
pub mod tls;

pub use serve::{serve, serve_with_env, PluginEnv, ServeError, ServeOptions};
