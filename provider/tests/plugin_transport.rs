//! The provider binary started as Terraform starts it: handshake, mTLS, health, Shutdown, refusals, logging.

mod plugin_common;

use std::time::Duration;

use plugin_common::{run_to_exit, ClientIdentity, Plugin};
use provider::plugin::handshake::MAGIC_COOKIE_VALUE;
use provider::proto::tfplugin6 as pb;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_schema_health_and_shutdown() {
    let client = ClientIdentity::generate();
    let plugin = Plugin::start(Some(&client), &[]);
    let cert = plugin
        .handshake
        .server_cert
        .clone()
        .expect("AutoMTLS: the handshake line carries a certificate");
    assert!(
        cert.len() > 200,
        "DER certificate, got {} bytes",
        cert.len()
    );
    let dir = plugin
        .handshake
        .socket
        .parent()
        .expect("socket dir")
        .to_path_buf();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&dir).expect("dir").permissions(),
    );
    assert_eq!(mode & 0o777, 0o700, "socket directory must be private");

    let mut c = plugin.provider_client(Some(&client)).await;
    let schema = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    assert!(
        schema.provider.is_some(),
        "GetProviderSchema must fill the provider schema"
    );
    assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
    assert!(
        !schema
            .server_capabilities
            .expect("capabilities")
            .plan_destroy
    );

    let mut health = HealthClient::new(plugin.channel(Some(&client)).await.expect("connect"));
    let status = health
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(status.status, ServingStatus::Serving as i32);

    // A malformed DynamicValue is a diagnostic in the response, not a gRPC error and not a crash.
    let bad = pb::DynamicValue {
        msgpack: vec![0xc1, 0x00, 0xff],
        json: vec![],
    };
    let resp = c
        .validate_provider_config(pb::validate_provider_config::Request { config: Some(bad) })
        .await
        .expect("a diagnostic, not a gRPC error")
        .into_inner();
    assert_eq!(resp.diagnostics.len(), 1, "{:?}", resp.diagnostics);
    assert_eq!(
        resp.diagnostics[0].severity,
        pb::diagnostic::Severity::Error as i32
    );
    assert!(
        resp.diagnostics[0]
            .detail
            .contains("Invalid value from Terraform"),
        "{:?}",
        resp.diagnostics[0]
    );

    // Still serving after the bad request.
    c.get_metadata(pb::get_metadata::Request {})
        .await
        .expect("metadata after a bad request");

    plugin.shutdown(Some(&client)).await;
    // Exit 0 on its own proves Shutdown was served (Terraform would otherwise kill the process after 2 s);
    // how long it took is left to benchmarks, since these machines are shared and noisy.
    let (code, stderr, _took) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0, "exit code after Shutdown; stderr: {stderr}");
    assert!(
        !dir.exists(),
        "socket directory {} must be removed on exit",
        dir.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_with_a_different_certificate_is_refused() {
    let terraform = ClientIdentity::generate();
    let intruder = ClientIdentity::generate();
    let plugin = Plugin::start(Some(&terraform), &[]);
    let refused = match plugin.channel(Some(&intruder)).await {
        Err(_) => true,
        Ok(ch) => pb::provider_client::ProviderClient::new(ch)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a client presenting another certificate must not get an answer"
    );
    // A plaintext client gets nothing either.
    let plain = plugin_common::Handshake {
        server_cert: None,
        ..plugin.handshake.clone()
    };
    let plaintext_refused = match plugin_common::connect(&plain, None).await {
        Err(_) => true,
        Ok(ch) => tokio::time::timeout(
            Duration::from_secs(5),
            pb::provider_client::ProviderClient::new(ch)
                .get_provider_schema(pb::get_provider_schema::Request {}),
        )
        .await
        .map(|r| r.is_err())
        .unwrap_or(true),
    };
    assert!(
        plaintext_refused,
        "plaintext clients must be refused when AutoMTLS is on"
    );
    // The right client still works, then shuts it down.
    plugin.shutdown(Some(&terraform)).await;
    let (code, stderr, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn run_by_hand_prints_a_sentence_and_exits_1() {
    let (code, stdout, stderr) = run_to_exit(&[], &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.is_empty(),
        "nothing on stdout (Terraform would read it as a handshake): {stdout:?}"
    );
    assert!(
        stderr
            .contains("This binary is a plugin for Terraform; it is not meant to be run by hand."),
        "{stderr}"
    );
    assert!(stderr.contains("terraform init/plan/apply"), "{stderr}");
}

#[test]
fn wrong_cookie_is_refused() {
    let (code, stdout, stderr) = run_to_exit(
        &[],
        &[
            ("TF_PLUGIN_MAGIC_COOKIE", "0123"),
            ("PLUGIN_PROTOCOL_VERSIONS", "6"),
        ],
    );
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("TF_PLUGIN_MAGIC_COOKIE has an unexpected value"),
        "{stderr}"
    );
}

#[test]
fn old_protocol_versions_are_refused_clearly() {
    let (code, stdout, stderr) = run_to_exit(
        &[],
        &[
            ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
        ],
    );
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("offered protocol version(s) 4,5"),
        "{stderr}"
    );
    assert!(stderr.contains("protocol 6"), "{stderr}");
}

#[test]
fn version_and_unknown_arguments() {
    let (code, stdout, _) = run_to_exit(&["--version"], &[]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("terraform-provider-dbplatform "),
        "{stdout}"
    );
    let (code, _, stderr) = run_to_exit(&["--frobnicate"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown argument \"--frobnicate\""),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_without_client_cert_and_sigterm() {
    let plugin = Plugin::start(None, &[]);
    assert!(
        plugin.handshake.line.trim_end().ends_with("|grpc|"),
        "empty cert field: {}",
        plugin.handshake.line
    );
    let mut c = plugin.provider_client(None).await;
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("plaintext schema");
    plugin.signal("TERM");
    let (code, stderr, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0, "SIGTERM is a graceful shutdown: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_is_left_to_terraform_in_managed_mode() {
    let plugin = Plugin::start(None, &[]);
    plugin.signal("INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = plugin.provider_client(None).await;
    c.get_metadata(pb::get_metadata::Request {})
        .await
        .expect("still serving after SIGINT");
    plugin.shutdown(None).await;
    let (code, _, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prints_reattach_and_serves_until_ctrl_c() {
    let (plugin, text) = Plugin::start_debug();
    assert!(text.contains("TF_REATTACH_PROVIDERS='"), "{text}");
    assert!(text.contains("\"Protocol\":\"grpc\""), "{text}");
    assert!(text.contains("\"ProtocolVersion\":6"), "{text}");
    assert!(
        text.contains(&format!("\"Pid\":{}", plugin.child.id())),
        "{text}"
    );
    assert!(text.contains("\"Test\":true"), "{text}");
    // Two "terraform runs": each connects, works, asks for Shutdown; the process keeps serving.
    for _ in 0..2 {
        let mut c = plugin.provider_client(None).await;
        c.get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .expect("schema in debug mode");
        plugin.shutdown(None).await;
    }
    let mut c = plugin.provider_client(None).await;
    c.get_metadata(pb::get_metadata::Request {})
        .await
        .expect("still serving");
    plugin.signal("INT");
    let (code, stderr, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0, "Ctrl-C ends debug mode cleanly: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_log_lines_are_hclog_json() {
    let client = ClientIdentity::generate();
    let plugin = Plugin::start(Some(&client), &[("TF_LOG", "debug")]);
    let mut c = plugin.provider_client(Some(&client)).await;
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema");
    plugin.shutdown(Some(&client)).await;
    let (code, stderr, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("GetProviderSchema")),
        "debug log names the RPC: {stderr}"
    );
    for l in lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        for key in ["@level", "@message", "@module", "@timestamp"] {
            assert!(
                v.get(key).is_some_and(|x| x.is_string()),
                "{key} missing in {l}"
            );
        }
        assert!(
            v["@module"]
                .as_str()
                .is_some_and(|m| m.starts_with("provider")),
            "{l}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_lines_below_warn_by_default() {
    let plugin = Plugin::start(None, &[]);
    let mut c = plugin.provider_client(None).await;
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema");
    plugin.shutdown(None).await;
    let (code, stderr, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0);
    assert!(!stderr.contains("\"@level\":\"debug\""), "{stderr}");
}

#[test]
fn a_malformed_client_certificate_is_a_clear_error() {
    let (code, stdout, stderr) = run_to_exit(
        &[],
        &[
            ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "6"),
            ("PLUGIN_CLIENT_CERT", "not a PEM certificate"),
        ],
    );
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "no handshake line: {stdout:?}");
    assert!(
        stderr.contains("PLUGIN_CLIENT_CERT does not contain a PEM certificate"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_stream_stays_open_until_shutdown() {
    use provider::proto::plugin::grpc_stdio_client::GrpcStdioClient;
    let client = ClientIdentity::generate();
    let plugin = Plugin::start(Some(&client), &[]);
    let mut stdio = GrpcStdioClient::new(plugin.channel(Some(&client)).await.expect("connect"))
        .stream_stdio(())
        .await
        .expect("StreamStdio")
        .into_inner();
    let early = tokio::time::timeout(Duration::from_millis(300), stdio.message()).await;
    assert!(
        early.is_err(),
        "the stream stays open (and silent) while serving: {early:?}"
    );
    plugin.shutdown(Some(&client)).await;
    let end = tokio::time::timeout(Duration::from_secs(3), stdio.message())
        .await
        .expect("stream ends at shutdown");
    assert!(matches!(end, Ok(None)), "clean end of stream: {end:?}");
    let (code, stderr, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_goes_where_plugin_unix_socket_dir_says() {
    let parent = tempfile::tempdir().expect("temp dir");
    let parent_str = parent.path().to_str().expect("utf-8 path").to_string();
    let plugin = Plugin::start(None, &[("PLUGIN_UNIX_SOCKET_DIR", parent_str.as_str())]);
    assert!(
        plugin.handshake.socket.starts_with(parent.path()),
        "{} not under {parent_str}",
        plugin.handshake.socket.display()
    );
    plugin.shutdown(None).await;
    let (code, stderr, _) = plugin.wait(Duration::from_secs(5));
    assert_eq!(code, 0, "{stderr}");
    let left: Vec<_> = std::fs::read_dir(parent.path())
        .expect("read dir")
        .collect();
    assert!(
        left.is_empty(),
        "the socket directory is removed on exit: {left:?}"
    );
}

#[test]
fn an_unusable_socket_dir_is_a_clear_error() {
    let (code, _, stderr) = run_to_exit(
        &[],
        &[
            ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "6"),
            ("PLUGIN_UNIX_SOCKET_DIR", "/nonexistent/dir"),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("PLUGIN_UNIX_SOCKET_DIR=/nonexistent/dir"),
        "{stderr}"
    );
}
