//! Provider logs in the format Terraform understands: one hclog-style JSON object per stderr line, with
//! `@level`, `@message`, `@module`, `@timestamp` and the event's fields as extra keys. go-plugin parses such lines
//! and re-emits them in Terraform's own log (`TF_LOG=debug terraform plan`), tagged with the provider.
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG` (as Terraform does). With neither set only warnings and
//! errors are written. Code must never log a sensitive value; the RPC server logs type names only.

use std::io::Write;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// hclog's timestamp layout (Go `2006-01-02T15:04:05.000000Z07:00`).
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Reads the level from the given `TF_LOG_PROVIDER` and `TF_LOG` values (the first non-empty one wins).
/// `off` silences everything, `json` means trace (Terraform's JSON log mode), an unknown word means trace
/// (as Terraform treats it), and nothing set means warn.
pub fn level_from_env(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> LevelFilter {
    let chosen = [tf_log_provider, tf_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|v| !v.is_empty());
    match chosen.map(str::to_ascii_lowercase).as_deref() {
        None => LevelFilter::WARN,
        Some("off") => LevelFilter::OFF,
        Some("error") => LevelFilter::ERROR,
        Some("warn") => LevelFilter::WARN,
        Some("info") => LevelFilter::INFO,
        Some("debug") => LevelFilter::DEBUG,
        Some(_) => LevelFilter::TRACE,
    }
}

/// Times one RPC: created when the RPC starts (its `req_id` goes on the RPC's log lines) and, when dropped at the
/// RPC's end, logs at debug level how long it took (`tf_rpc`, `tf_req_id`, `elapsed_us`), so a slow plan can be
/// traced to the RPCs and resources that cost the time (`TF_LOG_PROVIDER=debug`).
pub struct RpcTimer {
    rpc: &'static str,
    /// The request id of this RPC's log lines.
    pub req_id: String,
    started: std::time::Instant,
}

impl RpcTimer {
    /// Starts timing `rpc` under a new request id.
    pub fn start(rpc: &'static str) -> Self {
        Self {
            rpc,
            req_id: new_req_id(),
            started: std::time::Instant::now(),
        }
    }
}

impl Drop for RpcTimer {
    fn drop(&mut self) {
        tracing::debug!(
            tf_rpc = self.rpc,
            tf_req_id = %self.req_id,
            elapsed_us = self.started.elapsed().as_micros() as u64,
            "rpc done"
        );
    }
}

/// A fresh request id in UUID v4 form for the `tf_req_id` key, which Terraform's SDKs put on every RPC's log
/// lines so that one request's lines can be picked out of an interleaved log.
pub fn new_req_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Installs the JSON stderr logger as the global subscriber, at the level from the environment.
/// Calling it twice is harmless (the second call keeps the first logger).
pub fn init_from_env() {
    let provider = std::env::var("TF_LOG_PROVIDER").ok();
    let tf_log = std::env::var("TF_LOG").ok();
    let level = level_from_env(provider.as_deref(), tf_log.as_deref());
    let layer = HclogLayer::new(std::io::stderr, level);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// A tracing layer writing hclog JSON lines to a writer (stderr in the binary, a buffer in tests).
pub struct HclogLayer<W> {
    make_writer: W,
    level: LevelFilter,
}

impl<F, O> HclogLayer<F>
where
    F: Fn() -> O + Send + Sync + 'static,
    O: Write,
{
    /// A layer writing each line to a fresh writer from `make_writer`: events of this crate at `level` or more
    /// severe; other crates (h2, hyper, tonic, rustls) are capped at info so that a trace log stays readable.
    pub fn new(make_writer: F, level: LevelFilter) -> Self {
        Self { make_writer, level }
    }

    fn enabled_for(&self, level: &Level, target: &str) -> bool {
        let ours = target == "provider"
            || target.starts_with("provider::")
            || target.starts_with("terraform_provider");
        let limit = if ours {
            self.level
        } else {
            self.level.min(LevelFilter::INFO)
        };
        limit >= *level
    }
}

/// Go hclog's level words.
fn level_word(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// `provider` for the crate root, `provider.<rest>` for its modules (`provider::server` -> `provider.server`),
/// `provider.<crate>` for dependencies.
pub fn module_name(target: &str) -> String {
    // The library is `provider`, the binary `terraform_provider_dbplatform`: both are "provider".
    let rest = ["provider", "terraform_provider_dbplatform"]
        .iter()
        .find_map(|root| {
            target
                .strip_prefix(root)
                .filter(|r| r.is_empty() || r.starts_with("::"))
        });
    let tail = match rest {
        Some(r) => r.trim_start_matches("::").to_string(),
        None => target.to_string(),
    };
    let tail = tail.replace("::", ".");
    if tail.is_empty() {
        "provider".to_string()
    } else {
        format!("provider.{tail}")
    }
}

/// Collects an event's fields into a JSON object.
struct JsonVisitor<'a> {
    map: &'a mut serde_json::Map<String, serde_json::Value>,
    message: Option<String>,
}

impl Visit for JsonVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.map
                .insert(field.name().to_string(), serde_json::Value::String(text));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_string());
        } else {
            self.map.insert(
                field.name().to_string(),
                serde_json::Value::String(value.to_string()),
            );
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.map.insert(field.name().to_string(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.map.insert(field.name().to_string(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.map.insert(field.name().to_string(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.map.insert(field.name().to_string(), value.into());
    }
}

/// Formats one event as an hclog JSON line (without the newline).
pub fn format_event(
    level: &Level,
    target: &str,
    fields: &mut dyn FnMut(&mut dyn Visit),
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut map = serde_json::Map::new();
    let mut visitor = JsonVisitor {
        map: &mut map,
        message: None,
    };
    fields(&mut visitor);
    let message = visitor.message.take().unwrap_or_default();
    map.insert("@level".into(), level_word(level).into());
    map.insert("@message".into(), message.into());
    map.insert("@module".into(), module_name(target).into());
    map.insert(
        "@timestamp".into(),
        now.format(TIMESTAMP_FORMAT).to_string().into(),
    );
    serde_json::Value::Object(map).to_string()
}

impl<S, F, O> Layer<S> for HclogLayer<F>
where
    S: Subscriber,
    F: Fn() -> O + Send + Sync + 'static,
    O: Write,
{
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.enabled_for(metadata.level(), metadata.target())
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !self.enabled_for(meta.level(), meta.target()) {
            return;
        }
        let line = format_event(
            meta.level(),
            meta.target(),
            &mut |v| event.record(v),
            chrono::Utc::now(),
        );
        let mut w = (self.make_writer)();
        // One write call per line so concurrent events do not interleave; a closed stderr is not our problem.
        let _ = w.write_all(format!("{line}\n").as_bytes());
        let _ = w.flush();
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn levels_from_environment() {
        assert_eq!(level_from_env(None, None), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("debug")), LevelFilter::DEBUG);
        assert_eq!(
            level_from_env(Some("error"), Some("trace")),
            LevelFilter::ERROR
        );
        assert_eq!(level_from_env(Some(""), Some("INFO")), LevelFilter::INFO);
        assert_eq!(level_from_env(None, Some("json")), LevelFilter::TRACE);
        assert_eq!(level_from_env(None, Some("off")), LevelFilter::OFF);
    }

    #[test]
    fn module_names() {
        assert_eq!(module_name("provider"), "provider");
        assert_eq!(module_name("terraform_provider_dbplatform"), "provider");
        assert_eq!(module_name("provider::server::rpc"), "provider.server.rpc");
        assert_eq!(module_name("h2::proto"), "provider.h2.proto");
        assert_eq!(module_name("providerx"), "provider.providerx");
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_hclog_json() {
        let buf = Buf::default();
        let b2 = buf.clone();
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(move || b2.clone(), LevelFilter::DEBUG));
        tracing::subscriber::with_default(sub, || {
            tracing::debug!(target: "provider::server", tf_rpc = "ReadDataSource", tf_data_source_type = "dbplatform_tier", tf_req_id = %new_req_id(), count = 3, "read data source");
            tracing::trace!(target: "provider::server", "too detailed");
            tracing::info!(target: "h2::codec", "dependency info kept");
            tracing::debug!(target: "h2::codec", "dependency debug dropped");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let l = &lines[0];
        assert_eq!(l["@level"], "debug");
        assert_eq!(l["@message"], "read data source");
        assert_eq!(l["@module"], "provider.server");
        assert_eq!(l["tf_rpc"], "ReadDataSource");
        assert_eq!(l["tf_data_source_type"], "dbplatform_tier");
        let id = l["tf_req_id"].as_str().unwrap();
        assert!(id.len() == 36 && id.as_bytes()[14] == b'4', "UUID v4: {id}");
        assert_eq!(l["count"], 3);
        let ts = l["@timestamp"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
        assert_eq!(ts.len(), "2026-11-25T16:38:20.123456Z".len(), "{ts}");
        assert_eq!(lines[1]["@module"], "provider.h2.codec");
    }

    #[test]
    fn a_timed_rpc_logs_its_duration_under_its_request_id_at_debug_level() {
        let buf = Buf::default();
        let b2 = buf.clone();
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(move || b2.clone(), LevelFilter::DEBUG));
        let id = tracing::subscriber::with_default(sub, || {
            let timed = RpcTimer::start("PlanResourceChange");
            std::thread::sleep(std::time::Duration::from_millis(2));
            timed.req_id.clone()
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let l: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(l["@level"], "debug", "{text}");
        assert_eq!(l["@message"], "rpc done");
        assert_eq!(l["tf_rpc"], "PlanResourceChange");
        assert_eq!(l["tf_req_id"], id.as_str());
        assert!(l["elapsed_us"].as_u64().unwrap() >= 2000, "{text}");

        let quiet = Buf::default();
        let q2 = quiet.clone();
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(move || q2.clone(), LevelFilter::INFO));
        tracing::subscriber::with_default(sub, || drop(RpcTimer::start("PlanResourceChange")));
        assert!(
            quiet.0.lock().unwrap().is_empty(),
            "no timing lines above debug level"
        );
    }
}
