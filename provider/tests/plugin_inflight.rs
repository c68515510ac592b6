//! `plugin::serve_with_env` in-process with a deliberately slow data source: Shutdown lets an in-flight RPC
//! finish before the server stops, and large messages (beyond tonic's 4 MiB default) are accepted.

mod plugin_common;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use plugin_common::{ClientIdentity, Handshake};
use provider::framework::*;
use provider::plugin::handshake::MAGIC_COOKIE_VALUE;
use provider::plugin::{serve_with_env, PluginEnv, ServeOptions};
use provider::proto::plugin::grpc_controller_client::GrpcControllerClient;
use provider::proto::tfplugin6 as pb;
use provider::proto::tfplugin6::provider_client::ProviderClient;

struct SlowProvider;

#[async_trait]
impl Provider for SlowProvider {
    fn type_name(&self) -> &'static str {
        "slow"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Slow.").attribute(Attribute::optional("blob", Type::String, "Any text.")),
        )
    }
    async fn configure(&self, _c: &Value, _v: &str) -> Diagnostics {
        Diagnostics::new()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(SlowData)]
    }
}

struct SlowData;

#[async_trait]
impl DataSource for SlowData {
    fn type_name(&self) -> &'static str {
        "slow_wait"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Waits.").attribute(Attribute::computed("done", Type::Bool, "Always true.")),
        )
    }
    async fn read(&self, _req: ReadDataRequest) -> ReadDataResponse {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let state = Value::object([("done", Value::Bool(true))]);
        ReadDataResponse {
            state,
            diagnostics: Diagnostics::new(),
        }
    }
}

/// Forwards what the server announces to the test.
struct Announce(std::sync::mpsc::Sender<String>);

impl Write for Announce {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(b).to_string());
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn start(
    client: &ClientIdentity,
) -> (
    Handshake,
    tokio::task::JoinHandle<Result<(), provider::plugin::ServeError>>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let env = PluginEnv {
        magic_cookie: Some(MAGIC_COOKIE_VALUE.to_string()),
        protocol_versions: Some("6".to_string()),
        client_cert: Some(client.cert_pem.clone()),
        socket_dir: None,
    };
    let opts = ServeOptions {
        debug: false,
        provider_address: "registry.terraform.io/test/slow".into(),
    };
    let server = tokio::spawn(serve_with_env(
        Arc::new(SlowProvider),
        opts,
        env,
        Box::new(Announce(tx)),
    ));
    let line = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(10)))
        .await
        .expect("join")
        .expect("handshake line");
    (Handshake::parse(&line), server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_rpcs_finish() {
    let client = ClientIdentity::generate();
    let (hs, server) = start(&client).await;
    let ch = plugin_common::connect(&hs, Some(&client))
        .await
        .expect("connect");
    let mut c = ProviderClient::new(ch.clone());
    let slow = tokio::spawn(async move {
        c.read_data_source(pb::read_data_source::Request {
            type_name: "slow_wait".into(),
            config: None,
            provider_meta: None,
            ..Default::default()
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    GrpcControllerClient::new(ch)
        .shutdown(provider::proto::plugin::Empty {})
        .await
        .expect("Shutdown");
    let read = slow
        .await
        .expect("join")
        .expect("the in-flight read completes despite Shutdown")
        .into_inner();
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
    assert!(read.state.is_some());
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops")
        .expect("join");
    assert!(result.is_ok(), "{result:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "server waited for the read"
    );
    assert!(!hs.socket.exists(), "socket removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_beyond_4_mib_are_accepted() {
    let client = ClientIdentity::generate();
    let (hs, server) = start(&client).await;
    let ch = plugin_common::connect(&hs, Some(&client))
        .await
        .expect("connect");
    let blob = "x".repeat(8 * 1024 * 1024);
    let ty = SlowProvider.schema().block.implied_type();
    let config = Value::object([("blob", Value::String(blob))]);
    let msgpack = provider::codec::msgpack::encode(&config, &ty).expect("encode");
    let resp = ProviderClient::new(ch.clone())
        .validate_provider_config(pb::validate_provider_config::Request {
            config: Some(pb::DynamicValue {
                msgpack,
                json: vec![],
            }),
        })
        .await
        .expect("an 8 MiB configuration is not refused by the transport")
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    GrpcControllerClient::new(ch)
        .shutdown(provider::proto::plugin::Empty {})
        .await
        .expect("Shutdown");
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops")
        .expect("join");
    assert!(result.is_ok(), "{result:?}");
}
