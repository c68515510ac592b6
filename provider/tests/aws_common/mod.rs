//! Shared by the AWS integration tests: one `moto_server` per test binary, started on a free port on first
//! use and killed when the test process dies (PR_SET_PDEATHSIG from a thread that lives as long as the process),
//! plus clients pointed at it.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use provider::backend::aws::waiter::WaitPolicy;
use provider::backend::aws::{AwsBackend, AwsClientConfig, Timeouts};

/// Where `scripts/install-moto.sh` puts moto_server.
pub fn moto_server_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/moto_server")
}

static MOTO: OnceLock<Result<SocketAddr, String>> = OnceLock::new();

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_moto() -> Result<SocketAddr, String> {
    let bin = moto_server_path();
    if !bin.exists() {
        return Err(format!(
            "{} not found: run scripts/install-moto.sh (or make tools) first",
            bin.display()
        ));
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");
    let port = free_port().map_err(|e| format!("no free port: {e}"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    // PR_SET_PDEATHSIG fires when the *thread* that forked exits, so fork from a thread that never ends.
    std::thread::Builder::new()
        .name("moto-owner".into())
        .spawn(move || {
            let mut cmd = Command::new(&bin);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let child = cmd.spawn();
            let failed = child.is_err();
            let _ = tx.send(
                child
                    .map(|c| c.id())
                    .map_err(|e| format!("cannot start {}: {e}", bin.display())),
            );
            if !failed {
                loop {
                    std::thread::park();
                }
            }
        })
        .map_err(|e| format!("cannot spawn the moto owner thread: {e}"))?;
    rx.recv()
        .map_err(|e| format!("moto owner thread vanished: {e}"))??;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(addr);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("moto_server did not listen on {addr} within 30 s"))
}

/// The shared emulator's address (started on first call).
pub fn moto() -> SocketAddr {
    match MOTO.get_or_init(start_moto) {
        Ok(a) => *a,
        Err(e) => panic!("{e}"),
    }
}

/// Provider-style client settings for an endpoint, with short timeouts so tests fail fast.
pub fn config_for(endpoint: &str) -> AwsClientConfig {
    let mut c = AwsClientConfig::new("us-east-1");
    c.endpoint = Some(endpoint.to_string());
    c.max_retries = 3;
    c.attempt_timeout = Duration::from_secs(5);
    c.initial_retry_backoff = Duration::from_millis(50);
    c
}

/// Fast waits for the emulator (instances are available at once there).
pub fn fast_timeouts(timeout: Duration) -> Timeouts {
    let p = WaitPolicy {
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        timeout,
    };
    Timeouts {
        create: p,
        update: p,
        delete: p,
    }
}

/// A backend talking to the shared emulator.
pub async fn backend() -> AwsBackend {
    let addr = moto();
    AwsBackend::connect(&config_for(&format!("http://{addr}")))
        .await
        .with_timeouts(fast_timeouts(Duration::from_secs(30)))
        .with_jitter_seed(1)
}

/// A plain RDS client on the emulator, for changes made "outside Terraform".
pub async fn direct_client() -> aws_sdk_rds::Client {
    let addr = moto();
    backend_for(&format!("http://{addr}"))
        .await
        .client()
        .clone()
}

/// A backend for any endpoint (the fault proxy).
pub async fn backend_for(endpoint: &str) -> AwsBackend {
    moto();
    AwsBackend::connect(&config_for(endpoint))
        .await
        .with_timeouts(fast_timeouts(Duration::from_secs(30)))
        .with_jitter_seed(1)
}

/// A unique instance name per test run.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::SeqCst)
    )
}
