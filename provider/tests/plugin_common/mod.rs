//! Test harness shared by the `plugin_*` integration tests: starts the built provider binary the way Terraform
//! does (cookie, protocol versions, client certificate) and talks to it with a tonic client over the Unix
//! socket, with mTLS when asked. The client certificate is a self-signed CA on ECDSA P-521, like Terraform's.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use provider::plugin::handshake::MAGIC_COOKIE_VALUE;
use provider::proto::plugin::grpc_controller_client::GrpcControllerClient;
use provider::proto::tfplugin6::provider_client::ProviderClient;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint};

/// A client identity like Terraform's: self-signed CA certificate on P-521.
pub struct ClientIdentity {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_pkcs8: Vec<u8>,
}

impl ClientIdentity {
    pub fn generate() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).expect("self-signed");
        Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pkcs8: key.serialize_der(),
        }
    }
}

/// What the provider printed on its handshake line.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub line: String,
    pub socket: PathBuf,
    pub server_cert: Option<Vec<u8>>,
}

impl Handshake {
    pub fn parse(line: &str) -> Self {
        let parts: Vec<&str> = line.trim_end().split('|').collect();
        assert_eq!(parts.len(), 6, "handshake line {line:?}");
        assert_eq!(parts[0], "1", "core protocol in {line:?}");
        assert_eq!(parts[1], "6", "app protocol in {line:?}");
        assert_eq!(parts[2], "unix", "network in {line:?}");
        assert_eq!(parts[4], "grpc", "protocol in {line:?}");
        let server_cert = if parts[5].is_empty() {
            None
        } else {
            assert!(
                !parts[5].ends_with('='),
                "certificate must be base64 without padding: {line:?}"
            );
            Some(
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(parts[5])
                    .expect("base64 cert"),
            )
        };
        Self {
            line: line.to_string(),
            socket: PathBuf::from(parts[3]),
            server_cert,
        }
    }
}

/// A running provider process.
pub struct Plugin {
    pub child: Child,
    pub handshake: Handshake,
    stderr: Option<ChildStderr>,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-dbplatform")
}

/// Runs the binary to completion with the given environment (only these variables plus PATH/HOME).
pub fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.stdin(Stdio::null()).output().expect("run provider");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

impl Plugin {
    /// Starts the provider as Terraform would; `client` None means no AutoMTLS.
    pub fn start(client: Option<&ClientIdentity>, extra_env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(binary());
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000");
        if let Some(c) = client {
            cmd.env("PLUGIN_CLIENT_CERT", &c.cert_pem);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        Self::spawn(cmd, false)
    }

    /// Starts `--debug` mode and reads the socket from the printed TF_REATTACH_PROVIDERS value.
    pub fn start_debug() -> (Self, String) {
        let mut cmd = Command::new(binary());
        cmd.arg("--debug")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut text = String::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !text.contains("Ctrl-C") {
            assert!(
                Instant::now() < deadline,
                "no reattach instructions: {text:?}"
            );
            let mut l = String::new();
            if reader.read_line(&mut l).expect("read stdout") == 0 {
                break;
            }
            text.push_str(&l);
        }
        let line = text
            .lines()
            .find(|l| l.contains("TF_REATTACH_PROVIDERS='"))
            .expect("reattach line")
            .to_string();
        let json = line
            .trim()
            .trim_start_matches("TF_REATTACH_PROVIDERS='")
            .trim_end_matches('\'');
        let v: serde_json::Value = serde_json::from_str(json).expect("reattach JSON");
        let socket = v["registry.terraform.io/dbplatform/dbplatform"]["Addr"]["String"]
            .as_str()
            .expect("socket");
        let handshake = Handshake {
            line: line.clone(),
            socket: PathBuf::from(socket),
            server_cert: None,
        };
        let stderr = child.stderr.take();
        (
            Self {
                child,
                handshake,
                stderr,
            },
            text,
        )
    }

    fn spawn(mut cmd: Command, _debug: bool) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the provider never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(l) if !l.is_empty() => l,
            other => {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("no handshake line ({other:?}); stderr: {err}");
            }
        };
        let handshake = Handshake::parse(&line);
        let stderr = child.stderr.take();
        Self {
            child,
            handshake,
            stderr,
        }
    }

    /// A gRPC channel over the Unix socket; mTLS with `client` when the server announced a certificate.
    pub async fn channel(
        &self,
        client: Option<&ClientIdentity>,
    ) -> Result<Channel, tonic::transport::Error> {
        connect(&self.handshake, client).await
    }

    pub async fn provider_client(
        &self,
        client: Option<&ClientIdentity>,
    ) -> ProviderClient<Channel> {
        ProviderClient::new(self.channel(client).await.expect("connect"))
    }

    pub async fn shutdown(&self, client: Option<&ClientIdentity>) {
        let mut c = GrpcControllerClient::new(self.channel(client).await.expect("connect"));
        c.shutdown(provider::proto::plugin::Empty {})
            .await
            .expect("Shutdown RPC");
    }

    /// Waits for the process to exit and returns its exit code and everything it wrote to stderr.
    pub fn wait(mut self, limit: Duration) -> (i32, String, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                let mut err = String::new();
                if let Some(mut e) = self.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return (status.code().unwrap_or(-1), err, started.elapsed());
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("provider did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{sig}");
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects to the socket of `handshake`; mTLS with `client` when the handshake carries a server certificate.
pub async fn connect(
    handshake: &Handshake,
    client: Option<&ClientIdentity>,
) -> Result<Channel, tonic::transport::Error> {
    let socket = handshake.socket.clone();
    let tls = match (&handshake.server_cert, client) {
        (Some(server), Some(client)) => Some(client_config(server.clone(), client)),
        _ => None,
    };
    Endpoint::try_from("http://localhost")
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            let tls = tls.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(&socket).await?;
                let io: Box<dyn IoStream> = match tls {
                    None => Box::new(stream),
                    Some(cfg) => {
                        let name = ServerName::try_from("localhost").expect("name");
                        Box::new(
                            tokio_rustls::TlsConnector::from(cfg)
                                .connect(name, stream)
                                .await?,
                        )
                    }
                };
                Ok::<_, std::io::Error>(TokioIo::new(io))
            }
        }))
        .await
}

trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> IoStream for T {}

/// rustls client config: present `client`'s certificate, accept exactly the server certificate from the
/// handshake line (as go-plugin does by making it the only root).
fn client_config(server_cert: Vec<u8>, client: &ClientIdentity) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = ExactServerCert {
        expected: server_cert,
        algs: provider.signature_verification_algorithms,
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(client.key_pkcs8.clone()));
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(vec![CertificateDer::from(client.cert_der.clone())], key)
        .expect("client cert");
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(cfg)
}

#[derive(Debug)]
struct ExactServerCert {
    expected: Vec<u8>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ExactServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "server certificate differs from the handshake line".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}
