//! A small fault-injecting HTTP proxy between the provider's AWS endpoint override and moto_server, for the aws
//! fault campaign: it counts calls by their `Action` and, when armed, answers the k-th call of one action (and the
//! next few, to outlast the SDK's retries) with throttling, a server error, a dropped connection or a slow response.
//!
//! Why a proxy and not a mock: the provider, its AWS SDK (retry mode, timeouts) and moto all run as they do in the
//! other tests; only the network between them misbehaves, the way it does in production. A dropped connection is
//! dropped *after* moto has handled the request, so the call took effect and only its answer is lost: the case
//! that tests whether a retried create adopts its own instance instead of failing or duplicating it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::HarnessError;

/// What the proxy does to a call it is armed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException`: the SDK retries it with backoff.
    Throttle,
    /// HTTP 500 `InternalFailure`: the SDK retries it.
    ServerError,
    /// The request reaches moto, then the connection is closed without an answer.
    Drop,
    /// The answer comes after a delay (below the SDK's attempt timeout).
    Slow,
}

impl Fault {
    /// Every kind, in the order a campaign runs them.
    pub const ALL: [Fault; 4] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Drop,
        Fault::Slow,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::ServerError => "5xx",
            Fault::Drop => "drop",
            Fault::Slow => "slow",
        }
    }
}

/// One armed fault: the `nth` call (1-based) of `action` and the `repeat - 1` calls of it after that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    pub action: String,
    pub nth: usize,
    pub fault: Fault,
    /// How many consecutive calls of the action get the fault (more than the SDK's attempts makes the call fail).
    pub repeat: usize,
}

#[derive(Debug, Default)]
struct ProxyState {
    counts: HashMap<String, usize>,
    calls: Vec<String>,
    armed: Option<Injection>,
    injected: usize,
}

/// The running proxy; its thread lives as long as the test binary.
#[derive(Debug, Clone)]
pub struct FaultProxy {
    port: u16,
    upstream: u16,
    state: Arc<Mutex<ProxyState>>,
}

/// How long a slow response is held back.
pub const SLOW_DELAY: Duration = Duration::from_secs(2);

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (moto_server's port).
    pub fn start(upstream: u16) -> Result<Self, HarnessError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| HarnessError::io("binding the fault proxy", "127.0.0.1:0", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the fault proxy's address", "127.0.0.1", e))?
            .port();
        let proxy = FaultProxy {
            port,
            upstream,
            state: Arc::new(Mutex::new(ProxyState::default())),
        };
        let p = proxy.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let p = p.clone();
                std::thread::spawn(move || p.serve(conn));
            }
        });
        Ok(proxy)
    }

    /// The port the provider's `aws.endpoint` points at.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Forgets the calls counted so far and arms `injection` (or nothing).
    pub fn arm(&self, injection: Option<Injection>) {
        let mut s = self.lock();
        *s = ProxyState {
            armed: injection,
            ..ProxyState::default()
        };
    }

    /// The actions called since the last [`FaultProxy::arm`], in order.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// How many calls got the armed fault.
    pub fn injected(&self) -> usize {
        self.lock().injected
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProxyState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts the call and says which fault, if any, it gets.
    fn decide(&self, action: &str) -> Option<Fault> {
        let mut s = self.lock();
        let n = {
            let c = s.counts.entry(action.to_string()).or_insert(0);
            *c += 1;
            *c
        };
        s.calls.push(action.to_string());
        let hit = s
            .armed
            .as_ref()
            .filter(|a| a.action == action && n >= a.nth && n < a.nth + a.repeat.max(1))
            .map(|a| a.fault);
        if hit.is_some() {
            s.injected += 1;
        }
        hit
    }

    fn serve(&self, mut client: TcpStream) {
        loop {
            let Some(req) = read_request(&mut client) else {
                return;
            };
            let action = action_of(&req).unwrap_or_else(|| "(none)".to_string());
            let fault = self.decide(&action);
            let answer = match fault {
                Some(Fault::Throttle) => {
                    error_response(400, "Sender", "ThrottlingException", "Rate exceeded")
                }
                Some(Fault::ServerError) => {
                    error_response(500, "Receiver", "InternalFailure", "injected server error")
                }
                Some(Fault::Drop) => {
                    let _ = forward(self.upstream, &req);
                    let _ = client.shutdown(Shutdown::Both);
                    return;
                }
                Some(Fault::Slow) => {
                    std::thread::sleep(SLOW_DELAY);
                    forward(self.upstream, &req).unwrap_or_else(|| {
                        error_response(502, "Receiver", "BadGateway", "moto did not answer")
                    })
                }
                None => forward(self.upstream, &req).unwrap_or_else(|| {
                    error_response(502, "Receiver", "BadGateway", "moto did not answer")
                }),
            };
            if client.write_all(&answer).is_err() {
                return;
            }
        }
    }
}

/// One HTTP request as read from a connection: head (without the final blank line) and body.
pub(crate) struct Request {
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

pub(crate) fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

pub(crate) fn read_request(conn: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Some(Request { head, body })
}

/// The `Action` of an AWS query-protocol call, from the form body or the query string.
pub(crate) fn action_of(req: &Request) -> Option<String> {
    let body = String::from_utf8_lossy(&req.body);
    let target = req.head.lines().next().unwrap_or("");
    let query = target
        .split_whitespace()
        .nth(1)
        .and_then(|u| u.split_once('?').map(|(_, q)| q));
    for part in [Some(body.as_ref()), query].into_iter().flatten() {
        if let Some(a) = part.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
            return Some(a.to_string());
        }
    }
    None
}

/// Sends the request to moto on a fresh connection and returns moto's answer re-framed with a Content-Length.
pub(crate) fn forward(upstream: u16, req: &Request) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    up.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut head: Vec<&str> = req
        .head
        .lines()
        .filter(|l| {
            let k = l.split(':').next().unwrap_or("").trim();
            !k.eq_ignore_ascii_case("connection")
        })
        .collect();
    head.push("Connection: close");
    let mut out = head.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&req.body);
    up.write_all(&out).ok()?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw).ok()?;
    let end = find(&raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut body = raw[end + 4..].to_vec();
    if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    }
    let kept: Vec<&str> = head
        .lines()
        .filter(|l| {
            let k = l
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            !matches!(
                k.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            )
        })
        .collect();
    let mut answer = kept.join("\r\n").into_bytes();
    answer.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    answer.extend_from_slice(&body);
    Some(answer)
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(b, b"\r\n")?;
        let size_text = String::from_utf8_lossy(&b[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

pub(crate) fn error_response(status: u16, kind: &str, code: &str, message: &str) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Bad Gateway",
    };
    let body = format!(
        "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One RDS query call made straight to moto (not through the proxy), for counting what exists: the response XML.
pub fn rds_query(moto: u16, body: &str) -> Option<String> {
    let req = Request {
        head: format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{moto}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/rds/aws4_request, \
             SignedHeaders=host, Signature=0\r\nContent-Length: {}",
            body.len()
        ),
        body: body.as_bytes().to_vec(),
    };
    let raw = forward(moto, &req)?;
    let end = find(&raw, b"\r\n\r\n")?;
    Some(String::from_utf8_lossy(&raw[end + 4..]).to_string())
}

/// Identifiers of every DB instance moto holds.
pub fn moto_instances(moto: u16) -> Vec<String> {
    let xml = rds_query(moto, "Action=DescribeDBInstances&Version=2014-10-31").unwrap_or_default();
    xml.split("<DBInstanceIdentifier>")
        .skip(1)
        .filter_map(|s| s.split("</DBInstanceIdentifier>").next())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_reassembled() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(),
            Some(&b"abcde"[..])
        );
    }

    #[test]
    fn the_action_comes_from_the_form_body() {
        let r = Request {
            head: "POST / HTTP/1.1".into(),
            body: b"Action=CreateDBInstance&Version=2014-10-31".to_vec(),
        };
        assert_eq!(action_of(&r).as_deref(), Some("CreateDBInstance"));
    }
}
