//! What the provider pays per planned resource for its policy check, without Terraform or gRPC around it: the
//! embedded bundle loaded once, then `gate::decide` on one planned tier-3 local `dbplatform_database` at a time
//! (what the provider's `guardrails evaluated` debug line times), CALLS times (default 2000). Prints the mean wall
//! and CPU time per call; a steady process to run under `perf record` or `valgrind --tool=callgrind`.
//!
//! `cargo run --release -p dbplatform-policy --example gate_one -- [CALLS]`

use std::collections::BTreeMap;
use std::time::Instant;

use policy::adapter::planned_state::{from_provider, ProviderPlan};
use policy::engine::{EngineOptions, PolicyEngine};
use policy::gate::{self, GateRequest, Provenance, Source};
use policy::model::Action;

/// The planned state the provider sends for `dbplatform_database "bench-N" { tier = "tier-3" }` on the local backend.
fn planned(n: usize) -> serde_json::Value {
    let name = format!("bench-{n}");
    let db = name.replace('-', "_");
    serde_json::json!({
        "name": name, "engine": "postgres", "engine_version": "15", "tier": "tier-3",
        "instance_class": "db.t4g.micro", "db_name": db, "master_username": format!("{db}_admin"),
        "multi_az": false, "backup_retention_days": 1, "deletion_protection": false,
        "performance_insights": false, "monitoring_interval_seconds": 0, "log_exports": ["postgresql"],
        "skip_final_snapshot": false, "final_snapshot_identifier": null, "parameters": null, "tags": null,
        "tags_all": {"owner": "bench", "cost_center": "cc-1", "data_classification": "internal"},
        "storage_encrypted": true, "kms_key_id": null, "allocated_storage": 20, "publicly_accessible": false,
    })
}

fn plan(n: usize) -> ProviderPlan {
    let tags: BTreeMap<String, String> = [
        ("owner", "bench"),
        ("cost_center", "cc-1"),
        ("data_classification", "internal"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    ProviderPlan {
        resource_type: "dbplatform_database".into(),
        address: Some(format!("dbplatform_database \"bench-{n}\"")),
        action: Action::Create,
        before: None,
        after: Some(planned(n)),
        unknown: [
            "id",
            "endpoint",
            "port",
            "status",
            "connection_string",
            "master_user_secret_path",
            "data_dir",
            "engine_version_actual",
            "backend",
            "policy_decision",
        ]
        .map(String::from)
        .to_vec(),
        sensitive: vec![],
        backend: "local".into(),
        default_tags: tags,
        terraform_version: Some("1.0.3".into()),
    }
}

fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2000);
    let t = Instant::now();
    let engine = PolicyEngine::load(&EngineOptions::default())?;
    eprintln!("load: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut results = 0;
    for n in 0..calls {
        let request = GateRequest::new(
            vec![from_provider(plan(n))],
            chrono::Utc::now(),
            Provenance::new(Source::Provider, "bench"),
        );
        let decision = gate::decide(&engine, request, None)?;
        results += decision.results.len();
    }
    let per = |s: f64| s * 1e6 / calls as f64;
    println!(
        "{calls} calls, {results} results: {:.0} us wall, {:.0} us CPU per planned resource",
        per(wall.elapsed().as_secs_f64()),
        per(cpu_seconds() - cpu)
    );
    Ok(())
}
