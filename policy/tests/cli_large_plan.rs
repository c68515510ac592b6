//! `dbpolicy check` on a generated plan of a few MiB, read from a mapped file (whose pages are handed back to
//! the kernel as the adapter and the conftest conversion finish with them) and from stdin (read into memory):
//! every report must be the same byte for byte. A page handed back too early, or not read back correctly,
//! would change or break the file's run.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dbpolicy");
const NOW: &str = "2026-11-25T12:00:00Z";

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dbpolicy runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(bytes).expect("plan written to stdin");
    }
    child.wait_with_output().expect("dbpolicy finishes")
}

/// A SARIF log without what differs by design between a file and stdin: the invocation's times, the
/// repository root, and physical locations (a plan file has lines to point at, stdin has none).
fn without_run_facts(sarif: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(sarif).unwrap();
    let run = &mut v["runs"][0];
    let obj = run.as_object_mut().unwrap();
    obj.remove("invocations");
    obj.remove("originalUriBaseIds");
    for r in run["results"].as_array_mut().unwrap() {
        for l in r["locations"].as_array_mut().unwrap() {
            l.as_object_mut().unwrap().remove("physicalLocation");
        }
    }
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn a_mapped_plan_and_the_same_plan_on_stdin_give_the_same_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let text = serde_json::to_vec(&bench::generate(400, 7)).unwrap();
    assert!(
        text.len() > 3 << 20,
        "plan of {} bytes spans many pages",
        text.len()
    );
    std::fs::write(&path, &text).unwrap();
    let file = path.to_str().unwrap();
    let conftest = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/conftest8");
    let cases: [&[&str]; 3] = [
        &["--format", "json"],
        &["--format", "sarif"],
        &[
            "--no-default-bundle",
            "--policy",
            conftest,
            "--namespace",
            "main",
        ],
    ];
    for extra in cases {
        let mut args = vec!["check", file, "--now", NOW];
        args.extend_from_slice(extra);
        let mapped = run(&args, None);
        args[1] = "-";
        let piped = run(&args, Some(&text));
        assert_eq!(
            mapped.status.code(),
            Some(1),
            "{extra:?}: {}",
            String::from_utf8_lossy(&mapped.stderr)
        );
        assert_eq!(
            piped.status.code(),
            Some(1),
            "{extra:?}: {}",
            String::from_utf8_lossy(&piped.stderr)
        );
        let (m, p) = (
            String::from_utf8_lossy(&mapped.stdout),
            String::from_utf8_lossy(&piped.stdout),
        );
        // Reports name the plan they read: the file's path, or <stdin>.
        let (m_cmp, p_cmp) = if extra.contains(&"sarif") {
            (without_run_facts(&m), without_run_facts(&p))
        } else {
            (m.replace(file, "<stdin>"), p.to_string())
        };
        assert_eq!(m_cmp, p_cmp, "{extra:?}: reports differ");
        assert!(m.contains("resources"), "{extra:?}: {m:.200}");
    }
}

/// The results of `dbpolicy check --format json`, as (rule id, status, address, message) rows.
fn rows(report: &[u8]) -> Vec<(String, String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(report).unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("rule_id"), s("status"), s("address"), s("message"))
        })
        .collect()
}

/// conftest mode converts the plan for its rules while the adapter parses the same text on another thread: the
/// conftest findings must be exactly what bare regorus gives for the same rules over the whole plan, and the
/// dbplatform rules' results must be those of a run without conftest rules.
#[test]
fn conftest_rules_read_the_plan_converted_beside_the_adapter_as_regorus_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let text = serde_json::to_string(&bench::generate(300, 11)).unwrap();
    std::fs::write(&path, &text).unwrap();
    let file = path.to_str().unwrap();
    let conftest = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/conftest8");

    let mut regorus = regorus::Engine::new();
    let rego = std::fs::read_to_string(format!("{conftest}/main.rego")).unwrap();
    regorus.add_policy("main.rego".into(), rego).unwrap();
    regorus.set_input(regorus::Value::from_json_str(&text).unwrap());
    let mut expected: Vec<(String, String)> = Vec::new();
    for (rule, status) in [("deny", "fail"), ("warn", "warn")] {
        let v = regorus.eval_rule(format!("data.main.{rule}")).unwrap();
        let msgs = serde_json::to_value(&v).unwrap();
        for m in msgs.as_array().unwrap() {
            expected.push((status.into(), m.as_str().unwrap().to_string()));
        }
    }
    expected.sort();
    assert!(
        expected.len() > 50,
        "findings-heavy plan: {}",
        expected.len()
    );

    let both = run(
        &[
            "check",
            file,
            "--now",
            NOW,
            "--format",
            "json",
            "--policy",
            conftest,
            "--namespace",
            "main",
        ],
        None,
    );
    assert_eq!(
        both.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
    let (conftest_rows, bundle_rows): (Vec<_>, Vec<_>) = rows(&both.stdout)
        .into_iter()
        .partition(|r| r.0.starts_with("main."));
    let mut got: Vec<(String, String)> = conftest_rows
        .into_iter()
        .filter(|r| r.1 != "pass")
        .map(|r| (r.1, r.3))
        .collect();
    got.sort();
    assert_eq!(got, expected, "conftest findings differ from bare regorus");

    let alone = run(&["check", file, "--now", NOW, "--format", "json"], None);
    assert_eq!(rows(&alone.stdout), bundle_rows, "bundle results differ");
}
