//! Fault injection between the AWS backend and moto: a small tokio HTTP proxy answers chosen RDS actions with
//! throttling (400 Throttling), 500s, dropped connections (before or after moto saw the request) or a response
//! slower than the client's attempt timeout. Create must converge, or fail with a clear error that still names
//! the instance so it is recorded in state: no instance may exist that the caller was not told about.

#[path = "aws_common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use provider::backend::aws::spec::{AwsOptions, RdsInstanceSpec};
use provider::backend::aws::AwsBackend;
use provider::backend::{DatabaseSpec, DeleteOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// 400 with an RDS `Throttling` error body.
    Throttle,
    /// 500 InternalFailure.
    ServerError,
    /// Close the connection without forwarding (the request never reached RDS).
    DropBefore,
    /// Forward, let RDS act, then close without answering (the response is lost).
    DropAfter,
    /// Forward, then hold the response this long (beyond the client's attempt timeout).
    Slow(Duration),
}

#[derive(Debug)]
struct Rule {
    action: &'static str,
    /// Let this many matching requests through untouched first.
    skip: usize,
    /// Then fault this many.
    count: usize,
    fault: Fault,
}

/// Every request the proxy saw: its action and the fault it got, if any.
type Seen = Arc<Mutex<Vec<(String, Option<Fault>)>>>;

#[derive(Clone, Default)]
struct Proxy {
    rules: Arc<Mutex<Vec<Rule>>>,
    /// (action, fault applied) for every request seen.
    seen: Seen,
}

impl Proxy {
    async fn start(upstream: SocketAddr, rules: Vec<Rule>) -> (Self, SocketAddr) {
        let proxy = Proxy {
            rules: Arc::new(Mutex::new(rules)),
            seen: Arc::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let p = p.clone();
                tokio::spawn(async move {
                    let _ = p.serve(conn, upstream).await;
                });
            }
        });
        (proxy, addr)
    }

    fn pick(&self, action: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        for r in rules.iter_mut().filter(|r| r.action == action) {
            if r.skip > 0 {
                r.skip -= 1;
                return None;
            }
            if r.count > 0 {
                r.count -= 1;
                return Some(r.fault);
            }
        }
        None
    }

    fn faults(&self, action: &str) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(a, f)| a == action && f.is_some())
            .count()
    }

    /// One request per connection; every response says `Connection: close` so the client never reuses it.
    async fn serve(&self, mut conn: TcpStream, upstream: SocketAddr) -> std::io::Result<()> {
        let request = read_request(&mut conn).await?;
        let action = action_of(&request);
        let fault = self.pick(&action);
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((action, fault));
        match fault {
            Some(Fault::Throttle) => {
                let body = r#"<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"#;
                conn.write_all(response(400, "Bad Request", body).as_bytes())
                    .await?;
            }
            Some(Fault::ServerError) => {
                let body = r#"<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>injected server error</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"#;
                conn.write_all(response(500, "Internal Server Error", body).as_bytes())
                    .await?;
            }
            Some(Fault::DropBefore) => {}
            Some(Fault::DropAfter) => {
                forward(&request, upstream).await?;
            }
            Some(Fault::Slow(d)) => {
                let resp = forward(&request, upstream).await?;
                tokio::time::sleep(d).await;
                let _ = conn.write_all(&resp).await;
            }
            None => {
                let resp = forward(&request, upstream).await?;
                conn.write_all(&resp).await?;
            }
        }
        let _ = conn.shutdown().await;
        Ok(())
    }
}

fn response(code: u16, reason: &str, body: &str) -> String {
    format!("HTTP/1.1 {code} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body).
async fn read_request(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf);
        }
    }
}

fn action_of(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(request);
    text.split(['&', '\n'])
        .find_map(|p| p.trim().strip_prefix("Action=").map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Sends the request to moto with `Connection: close` and returns its whole response, marked `Connection: close`.
async fn forward(request: &[u8], upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let end = find(request, b"\r\n\r\n").unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..end]);
    let mut new_head: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    new_head.push("Connection: close");
    let mut out = new_head.join("\r\n").into_bytes();
    out.extend_from_slice(&request[end..]);
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&out).await?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).await?;
    let rend = find(&resp, b"\r\n\r\n").unwrap_or(resp.len());
    let rhead = String::from_utf8_lossy(&resp[..rend]).to_string();
    let mut lines: Vec<&str> = rhead
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let mut fixed = lines.join("\r\n").into_bytes();
    fixed.extend_from_slice(&resp[rend..]);
    Ok(fixed)
}

fn request(name: &str) -> RdsInstanceSpec {
    RdsInstanceSpec {
        spec: DatabaseSpec {
            name: name.into(),
            engine: "postgres".into(),
            engine_version: Some("16".into()),
            tier: "tier-3".into(),
            instance_class: "db.t4g.micro".into(),
            db_name: "app".into(),
            master_username: "dbadmin".into(),
            multi_az: false,
            backup_retention_days: 1,
            point_in_time_recovery: true,
            deletion_protection: false,
            tls_required: true,
            min_tls_version: "1.2".into(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
            instance: None,
            timeouts: Default::default(),
        },
        aws: AwsOptions::default(),
    }
}

/// A backend through the proxy: 3 retries per call, 1 s per attempt, a short wait.
async fn backend_via(proxy: SocketAddr, wait: Duration) -> AwsBackend {
    common::moto();
    let mut cfg = common::config_for(&format!("http://{proxy}"));
    cfg.attempt_timeout = Duration::from_secs(1);
    AwsBackend::connect(&cfg)
        .await
        .with_timeouts(common::fast_timeouts(wait))
        .with_jitter_seed(3)
}

/// Whether moto has the instance, asked directly (not through the proxy).
async fn exists_in_moto(name: &str) -> bool {
    let direct = common::direct_client().await;
    direct
        .describe_db_instances()
        .db_instance_identifier(name)
        .send()
        .await
        .map(|o| !o.db_instances().is_empty())
        .unwrap_or(false)
}

async fn cleanup(name: &str) {
    let b = common::backend().await;
    let _ = b
        .delete_instance(
            name,
            &DeleteOptions {
                skip_final_backup: true,
                final_backup_name: None,
                timeout: None,
            },
            None,
        )
        .await;
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_until_create_converges() {
    let name = common::unique("fault-throttle");
    let rules = vec![
        Rule {
            action: "CreateDBInstance",
            skip: 0,
            count: 2,
            fault: Fault::Throttle,
        },
        Rule {
            action: "DescribeDBInstances",
            skip: 1,
            count: 2,
            fault: Fault::ServerError,
        },
    ];
    let (proxy, addr) = Proxy::start(common::moto(), rules).await;
    let b = backend_via(addr, Duration::from_secs(20)).await;
    let inst = b
        .create_instance(&request(&name), None)
        .await
        .unwrap_or_else(|f| panic!("create did not converge: {}", f.error));
    assert_eq!(inst.info.id, name);
    assert_eq!(
        proxy.faults("CreateDBInstance"),
        2,
        "both throttles were served"
    );
    assert_eq!(
        proxy.faults("DescribeDBInstances"),
        2,
        "both 500s were served"
    );
    assert!(exists_in_moto(&name).await);
    cleanup(&name).await;
}

#[tokio::test]
async fn a_lost_create_response_is_retried_and_the_instance_adopted() {
    let name = common::unique("fault-drop");
    let rules = vec![Rule {
        action: "CreateDBInstance",
        skip: 0,
        count: 1,
        fault: Fault::DropAfter,
    }];
    let (proxy, addr) = Proxy::start(common::moto(), rules).await;
    let b = backend_via(addr, Duration::from_secs(20)).await;
    let inst = b
        .create_instance(&request(&name), None)
        .await
        .unwrap_or_else(|f| panic!("create did not converge: {}", f.error));
    assert_eq!(proxy.faults("CreateDBInstance"), 1);
    assert!(
        inst.managed,
        "the instance created by the lost attempt is ours and adopted"
    );
    let direct = common::direct_client().await;
    let all = direct.describe_db_instances().send().await.expect("list");
    assert_eq!(
        all.db_instances()
            .iter()
            .filter(|d| d.db_instance_identifier() == Some(name.as_str()))
            .count(),
        1
    );
    cleanup(&name).await;
}

#[tokio::test]
async fn a_response_slower_than_the_attempt_timeout_is_retried() {
    let name = common::unique("fault-slow");
    let rules = vec![Rule {
        action: "CreateDBInstance",
        skip: 0,
        count: 1,
        fault: Fault::Slow(Duration::from_secs(3)),
    }];
    let (proxy, addr) = Proxy::start(common::moto(), rules).await;
    let b = backend_via(addr, Duration::from_secs(20)).await;
    let started = std::time::Instant::now();
    let inst = b
        .create_instance(&request(&name), None)
        .await
        .unwrap_or_else(|f| panic!("create did not converge: {}", f.error));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the client gave up on the slow attempt after 1 s, took {:?}",
        started.elapsed()
    );
    assert_eq!(proxy.faults("CreateDBInstance"), 1);
    assert_eq!(inst.info.id, name);
    cleanup(&name).await;
}

#[tokio::test]
async fn a_wait_that_never_succeeds_fails_clearly_and_still_names_the_instance() {
    let name = common::unique("fault-wait");
    // The existence check passes; every later DescribeDBInstances gets a 500.
    let rules = vec![Rule {
        action: "DescribeDBInstances",
        skip: 1,
        count: 10_000,
        fault: Fault::ServerError,
    }];
    let (_proxy, addr) = Proxy::start(common::moto(), rules).await;
    let b = backend_via(addr, Duration::from_secs(2)).await;
    let failure = match b.create_instance(&request(&name), None).await {
        Ok(_) => panic!("create cannot succeed when the instance can never be described"),
        Err(f) => f,
    };
    let msg = failure.error.to_string();
    assert!(
        msg.starts_with(&format!(
            "waiting for RDS instance {name:?} to become available failed"
        )),
        "{msg}"
    );
    assert!(
        msg.contains("timed out")
            && msg.contains("InternalFailure")
            && msg.contains("kept in state"),
        "{msg}"
    );
    assert!(exists_in_moto(&name).await, "the instance was created");
    assert_eq!(
        failure.id.as_deref(),
        Some(name.as_str()),
        "so the caller is told its id and records it"
    );
    cleanup(&name).await;
}

#[tokio::test]
async fn a_create_that_never_reaches_rds_fails_clearly_and_creates_nothing() {
    let name = common::unique("fault-down");
    let rules = vec![Rule {
        action: "CreateDBInstance",
        skip: 0,
        count: 10_000,
        fault: Fault::DropBefore,
    }];
    let (proxy, addr) = Proxy::start(common::moto(), rules).await;
    let b = backend_via(addr, Duration::from_secs(5)).await;
    let failure = match b.create_instance(&request(&name), None).await {
        Ok(_) => panic!("create cannot succeed when RDS never sees it"),
        Err(f) => f,
    };
    let msg = failure.error.to_string();
    assert!(
        msg.starts_with(&format!("creating RDS instance {name:?} failed")),
        "{msg}"
    );
    assert!(msg.contains("run terraform apply again"), "{msg}");
    assert_eq!(
        proxy.faults("CreateDBInstance"),
        4,
        "first attempt plus 3 retries"
    );
    assert!(!exists_in_moto(&name).await);
    assert_eq!(failure.id, None, "nothing exists, nothing to record");
}
