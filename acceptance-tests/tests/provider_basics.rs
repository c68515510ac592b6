//! The plugin server seen from the real Terraform CLI: offline install from the mirror, validation and
//! provider-config errors as users see them, the `dbplatform_tier` data source end to end, the provider
//! schema, provider logs in Terraform's debug log, and `--debug` reattach mode.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acceptance_tests::{
    provider_binary, Check, ChildGuard, ExpectPlan, Step, TestCase, TfOutput, Workdir,
};
use serde_json::Value;

const PROVIDER_ADDR: &str = "registry.terraform.io/dbplatform/dbplatform";

const TIER1: &str = r#"
data "dbplatform_tier" "t1" {
  name = "tier-1"
}

output "multi_az" {
  value = data.dbplatform_tier.t1.multi_az
}

output "min_backup_retention_days" {
  value = data.dbplatform_tier.t1.min_backup_retention_days
}
"#;

fn ok<T>(r: Result<T, acceptance_tests::HarnessError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// An initialised working directory holding `config`.
fn workdir_with(config: &str) -> Workdir {
    let wd = ok(Workdir::new());
    ok(wd.write_config(config));
    ok(wd.init());
    wd
}

#[test]
fn init_installs_the_provider_from_the_mirror_without_network() {
    let wd = ok(Workdir::new());
    ok(wd.write_config(TIER1));
    // An unusable proxy: any attempt to reach a registry would fail the init.
    let no_net = [
        ("HTTPS_PROXY".to_string(), "http://127.0.0.1:9".to_string()),
        ("HTTP_PROXY".to_string(), "http://127.0.0.1:9".to_string()),
    ];
    let out = ok(wd.run_ok_env(&["init", "-input=false", "-no-color"], &no_net));
    assert!(
        out.stdout
            .contains("- Installed dbplatform/dbplatform v0.1.0 (unauthenticated)"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("Terraform has been successfully initialized!"),
        "{out}"
    );
    let lock = std::fs::read_to_string(wd.path().join(".terraform.lock.hcl"))
        .unwrap_or_else(|e| panic!("no lock file after init: {e}\n{out}"));
    assert!(
        lock.contains(&format!("provider \"{PROVIDER_ADDR}\"")),
        "{lock}"
    );
    assert!(lock.contains("version = \"0.1.0\""), "{lock}");
}

#[test]
fn validate_rejects_an_unknown_tier_and_names_the_valid_ones() {
    let wd = workdir_with("data \"dbplatform_tier\" \"x\" {\n  name = \"tier-9\"\n}\n");
    let out = ok(wd.run(&["validate", "-no-color"]));
    assert_eq!(out.code, Some(1), "validate must fail with exit 1\n{out}");
    let text = out.all_normalized();
    assert!(text.contains("Error:"), "{out}");
    for word in ["tier-9", "tier-0", "tier-1", "tier-2", "tier-3"] {
        assert!(
            text.contains(word),
            "the error must name {word}; got: {text}\n{out}"
        );
    }
    // The diagnostic is on the attribute, so Terraform shows the offending line.
    assert!(text.contains("name = \"tier-9\""), "{text}\n{out}");
}

#[test]
fn tier_1_data_source_outputs_the_catalogue_values_and_a_replan_is_a_noop() {
    TestCase::new()
        .step(
            Step::apply(TIER1)
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 0,
                    replace: 0,
                    destroy: 0,
                })
                .check(Check::output_equals("multi_az", true))
                .check(Check::output_equals("min_backup_retention_days", 14))
                .check(Check::attr_equals(
                    "data.dbplatform_tier.t1",
                    "name",
                    "tier-1",
                ))
                .check(Check::attr_equals(
                    "data.dbplatform_tier.t1",
                    "multi_az",
                    true,
                )),
        )
        .step(Step::plan_only(TIER1).expect(ExpectPlan::NoOp))
        .run();
}

#[test]
fn providers_schema_lists_the_provider_config_and_the_tier_data_source() {
    let wd = workdir_with(TIER1);
    let schema = ok(wd.providers_schema());
    let ours = schema
        .pointer(&format!(
            "/provider_schemas/{}",
            PROVIDER_ADDR.replace('/', "~1")
        ))
        .unwrap_or_else(|| panic!("no schema for {PROVIDER_ADDR}: {schema:#}"));
    let backend = ours
        .pointer("/provider/block/attributes/backend")
        .unwrap_or_else(|| panic!("provider schema has no `backend`: {ours:#}"));
    assert_eq!(
        backend.get("type"),
        Some(&Value::from("string")),
        "{backend:#}"
    );
    assert_eq!(
        backend.get("optional"),
        Some(&Value::Bool(true)),
        "{backend:#}"
    );
    let tier = ours
        .pointer("/data_source_schemas/dbplatform_tier/block/attributes")
        .unwrap_or_else(|| panic!("no dbplatform_tier data source: {ours:#}"));
    let name = &tier["name"];
    assert_eq!(name.get("type"), Some(&Value::from("string")), "{tier:#}");
    assert_eq!(name.get("required"), Some(&Value::Bool(true)), "{tier:#}");
    for (attr, ty) in [
        ("multi_az", "bool"),
        ("min_backup_retention_days", "number"),
    ] {
        assert_eq!(
            tier[attr].get("type"),
            Some(&Value::from(ty)),
            "{attr}: {tier:#}"
        );
        assert_eq!(
            tier[attr].get("computed"),
            Some(&Value::Bool(true)),
            "{attr}: {tier:#}"
        );
    }
    for (attr, a) in tier.as_object().into_iter().flatten() {
        assert!(
            a.get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.is_empty()),
            "dbplatform_tier.{attr} has no description: {a:#}"
        );
    }
}

/// Lines of Terraform's debug log that come from our provider (go-plugin tags them with the plugin name).
fn provider_log_lines(out: &TfOutput) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-dbplatform"))
        .collect()
}

#[test]
fn provider_json_logs_are_relayed_into_terraforms_debug_log() {
    let wd = workdir_with(TIER1);
    let env = [("TF_LOG".to_string(), "debug".to_string())];
    let out = ok(wd
        .run_env(&["plan", "-input=false", "-no-color"], &env)
        .and_then(|o| o.ok_or_fail("plan with TF_LOG=debug failed")));
    let ours = provider_log_lines(&out);
    assert!(
        !ours.is_empty(),
        "no provider lines in the debug log\n{out}"
    );
    // go-plugin parses each hclog JSON line of the provider's stderr and re-logs it as
    // `<time> [LEVEL] provider.terraform-provider-dbplatform_v0.1.0: <@message>: <fields> timestamp=<@timestamp>`.
    // A line it could not parse would be relayed raw, so no `{"@level"` may show up.
    let relayed = regex::Regex::new(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4}) \[(TRACE|DEBUG|INFO|WARN|ERROR)\] provider\.terraform-provider-dbplatform_v0\.1\.0: .+",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let parsed: Vec<&&str> = ours
        .iter()
        .filter(|l| l.contains("@module=") && l.contains(" timestamp="))
        .collect();
    assert!(
        !parsed.is_empty(),
        "no provider line carries @module and timestamp fields:\n{}",
        ours.join("\n")
    );
    for line in &parsed {
        assert!(relayed.is_match(line), "unexpected relayed line: {line}");
    }
    for line in &ours {
        assert!(
            !line.contains("{\"@level\"") && !line.contains("\"@message\""),
            "go-plugin could not parse this provider line as hclog JSON: {line}"
        );
    }
}

#[test]
fn debug_mode_serves_terraform_through_tf_reattach_providers() {
    let wd = workdir_with(TIER1);
    let provider = ok(provider_binary());
    let mut cmd = Command::new(&provider);
    cmd.arg("--debug")
        .current_dir(wd.path())
        .env("TF_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("TF_") && k != "TF_LOG" {
            cmd.env_remove(k);
        }
    }
    let mut guard = ok(ChildGuard::spawn(
        "terraform-provider-dbplatform --debug",
        &mut cmd,
    ));
    let stderr_lines = Arc::new(Mutex::new(Vec::<String>::new()));
    if let Some(stderr) = guard.child_mut().stderr.take() {
        let sink = Arc::clone(&stderr_lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
    }
    let line = ok(guard.wait_for_stdout_line(
        |l| l.contains("TF_REATTACH_PROVIDERS="),
        Duration::from_secs(30),
    ));
    let value = line
        .split_once("TF_REATTACH_PROVIDERS=")
        .map(|(_, v)| v.trim().trim_matches('\'').to_string())
        .unwrap_or_default();
    let reattach: Value = serde_json::from_str(&value)
        .unwrap_or_else(|e| panic!("TF_REATTACH_PROVIDERS value is not JSON ({e}): {line}"));
    let entry = &reattach[PROVIDER_ADDR];
    assert_eq!(entry["Protocol"], "grpc", "{reattach:#}");
    assert_eq!(entry["ProtocolVersion"], 6, "{reattach:#}");
    assert_eq!(entry["Pid"], guard.id(), "{reattach:#}");
    assert_eq!(entry["Addr"]["Network"], "unix", "{reattach:#}");

    let env = [("TF_REATTACH_PROVIDERS".to_string(), value)];
    let out = ok(wd.run_env(&["plan", "-input=false", "-no-color"], &env));
    assert!(
        out.success(),
        "plan through the reattached provider failed\n{out}"
    );
    assert!(
        out.stdout.contains("multi_az") && out.stdout.contains("= true"),
        "{out}"
    );
    assert!(
        guard.is_running(),
        "Terraform must leave a reattached provider running"
    );

    // The provider's own stderr is hclog JSON, one object per line.
    let lines = stderr_lines
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    assert!(
        !lines.is_empty(),
        "the provider logged nothing at TF_LOG=debug"
    );
    for l in &lines {
        let v: Value = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("provider stderr line is not JSON ({e}): {l}"));
        for key in ["@level", "@message", "@module", "@timestamp"] {
            assert!(v.get(key).is_some_and(Value::is_string), "no {key} in {l}");
        }
    }

    // Once the debug provider is gone, the same reattach setting fails: Terraform really used it.
    ok(guard.kill());
    let out = ok(wd.run_env(&["plan", "-input=false", "-no-color"], &env));
    assert_eq!(
        out.code,
        Some(1),
        "plan must fail once the provider is gone\n{out}"
    );
}

#[test]
fn unknown_or_mistyped_provider_arguments_get_terraforms_schema_errors() {
    TestCase::new()
        .step(
            Step::plan_only(format!("provider \"dbplatform\" {{\n  nosuch = 1\n}}\n{TIER1}")).expect(
                ExpectPlan::error(
                    r#"Error: Unsupported argument .*An argument named "nosuch" is not expected here\."#,
                ),
            ),
        )
        .step(
            Step::plan_only(format!(
                "provider \"dbplatform\" {{\n  backend = [\"x\"]\n}}\n{TIER1}"
            ))
            .expect(ExpectPlan::error(
                r#"Error: Incorrect attribute value type .*backend = \["x"\].*Inappropriate value for attribute "backend": string required\."#,
            )),
        )
        .run();
}

#[test]
fn an_unknown_backend_gets_our_diagnostic_listing_the_valid_values() {
    TestCase::new()
        .step(
            Step::plan_only(format!(
                "provider \"dbplatform\" {{\n  backend = \"gcp\"\n}}\n{TIER1}"
            ))
            .expect(ExpectPlan::error(
                r#"Error: .*in provider "dbplatform": \d+: backend = "gcp".*\b(aws\b.*\blocal|local\b.*\baws)\b"#,
            )),
        )
        .run();
}

/// `make bench` figure: wall time of `terraform plan` for a config using only `data "dbplatform_tier"`,
/// median of 5 runs after one warm-up. Run with `cargo test -p acceptance-tests --test provider_basics
/// -- --ignored --nocapture plan_time`.
#[test]
#[ignore = "timing figure, not a check; run explicitly"]
fn plan_time_median_of_5_for_a_tier_data_source() {
    let wd = workdir_with(TIER1);
    ok(wd
        .run(&["plan", "-input=false", "-no-color"])
        .and_then(|o| o.ok_or_fail("warm-up plan failed")));
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            ok(wd
                .run(&["plan", "-input=false", "-no-color"])
                .and_then(|o| o.ok_or_fail("plan failed")));
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "terraform plan (data \"dbplatform_tier\" only): median {:.3}s, min {:.3}s, max {:.3}s over 5 runs",
        times[2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[4].as_secs_f64()
    );
}

#[test]
fn plan_json_is_written_for_dbpolicy_with_the_planned_outputs() {
    let wd = workdir_with(TIER1);
    let (path, plan) = ok(wd.write_plan_json("plan.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let on_disk: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(&on_disk, plan.raw());
    // Terraform 1.0 writes plan format 0.2, current CLIs 1.x; dbpolicy reads both.
    let format = on_disk["format_version"].as_str().unwrap_or_default();
    assert!(format == "0.2" || format.starts_with("1."), "{on_disk:#}");
    assert_eq!(
        plan.planned_output("multi_az"),
        Some(&Value::Bool(true)),
        "{on_disk:#}"
    );
    assert_eq!(
        plan.planned_output("min_backup_retention_days"),
        Some(&Value::from(14)),
        "{on_disk:#}"
    );
}
