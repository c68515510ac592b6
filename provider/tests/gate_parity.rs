//! One gate, two front ends: the same cases go through the provider (a `dbplatform_database` plan through the
//! resource, with a provider state) and through `dbpolicy check` (the library entry, on the plan JSON Terraform
//! would show for the same planned state), and must come out the same: statuses, outcome, the audit record's
//! fields, or the same refusal with nothing recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use provider::config::{ConfiguredOverride, ProviderConfig, ProviderState};
use provider::framework::{PlanRequest, PlanResponse, Resource, Severity, Value};
use provider::resources::database::env::DatabaseEnv;
use provider::resources::database::DatabaseResource;

const RULE: &str = "DBP-DEL-002";

/// How `skip_final_snapshot` is planned.
#[derive(Clone, Copy)]
enum Skip {
    Known(bool),
    Unknown,
}

#[derive(Clone, Copy)]
enum Exception {
    None,
    Valid,
    Expired,
}

/// What both front ends must agree on.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    /// A decision on record: per-rule statuses, outcome, counts, applied overrides and exceptions.
    Recorded {
        statuses: BTreeMap<String, String>,
        outcome: String,
        summary: BTreeMap<String, u64>,
        overrides: Vec<(String, String, String)>,
        exceptions: Vec<(String, String)>,
    },
    /// A decision with no audit log configured: its outcome and counts (what `policy_decision` shows).
    Unrecorded {
        outcome: String,
        counts: BTreeMap<String, u64>,
    },
    /// No decision, nothing recorded.
    Refused(&'static str),
}

/// The counts `policy_decision` carries.
const COUNTED: [&str; 5] = ["pass", "fail", "warn", "unknown", "exempted"];

struct Case {
    name: &'static str,
    tier: &'static str,
    skip: Skip,
    overrides: &'static [(&'static str, &'static str, &'static str)],
    audit_log: bool,
    exception: Exception,
    advisory: bool,
    /// The status of DBP-DEL-002, or the refusal, both front ends must show.
    expect: Result<(&'static str, &'static str), &'static str>,
}

const fn case(name: &'static str, tier: &'static str, skip: Skip) -> Case {
    Case {
        name,
        tier,
        skip,
        overrides: &[],
        audit_log: true,
        exception: Exception::None,
        advisory: false,
        expect: Ok(("pass", "pass")),
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            expect: Ok(("pass", "pass")),
            ..case("pass", "tier-3", Skip::Known(false))
        },
        Case {
            expect: Ok(("fail", "fail")),
            ..case("fail", "tier-2", Skip::Known(true))
        },
        Case {
            expect: Ok(("unknown", "pass")),
            ..case("unknown", "tier-2", Skip::Unknown)
        },
        Case {
            exception: Exception::Valid,
            expect: Ok(("exempted", "pass")),
            ..case("exempted", "tier-2", Skip::Known(true))
        },
        Case {
            exception: Exception::Expired,
            expect: Ok(("fail", "fail")),
            ..case("expired exception", "tier-2", Skip::Known(true))
        },
        Case {
            overrides: &[(RULE, "alice@example.com", "migration OPS-1")],
            expect: Ok(("overridden", "pass")),
            ..case("overridden", "tier-2", Skip::Known(true))
        },
        Case {
            overrides: &[("DBP-TAG-001", "bob", "x")],
            expect: Err("override not allowed"),
            ..case(
                "override of a hard-mandatory rule",
                "tier-2",
                Skip::Known(true),
            )
        },
        Case {
            overrides: &[(RULE, "alice", "migration")],
            audit_log: false,
            expect: Err("override refused: no audit log"),
            ..case("override without audit log", "tier-2", Skip::Known(true))
        },
        Case {
            overrides: &[(RULE, "alice", "migration")],
            audit_log: false,
            expect: Ok(("pass", "pass")),
            ..case(
                "unneeded override without audit log",
                "tier-3",
                Skip::Known(false),
            )
        },
        Case {
            advisory: true,
            expect: Ok(("warn", "pass")),
            ..case("advisory", "tier-2", Skip::Known(true))
        },
        Case {
            advisory: true,
            overrides: &[(RULE, "alice", "migration")],
            expect: Ok(("overridden", "pass")),
            ..case(
                "advisory with a recorded override",
                "tier-2",
                Skip::Known(true),
            )
        },
    ]
}

const DEFAULT_TAGS: [(&str, &str); 3] = [
    ("owner", "payments"),
    ("cost_center", "cc-1"),
    ("data_classification", "internal"),
];

/// The files of one case: data directory, exceptions file, audit log.
struct Files {
    dir: PathBuf,
    exceptions: Option<PathBuf>,
    log: Option<PathBuf>,
}

fn files(dir: &Path, c: &Case, front: &str) -> Files {
    let today = chrono::Utc::now().date_naive();
    let days = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let exceptions = match c.exception {
        Exception::None => None,
        Exception::Valid | Exception::Expired => {
            let (created, expires) = match c.exception {
                Exception::Valid => (days(-1), days(10)),
                _ => (days(-20), days(-10)),
            };
            let p = dir.join(format!("{front}-exceptions.yaml"));
            std::fs::write(
                &p,
                format!(
                    "- id: EXC-1\n  rule: {RULE}\n  resource: 'dbplatform_database*orders*'\n  owner: payments\n  \
                     reason: decommissioning\n  ticket: OPS-9\n  approved_by: cso\n  created: {created}\n  \
                     expires: {expires}\n"
                ),
            )
            .unwrap();
            Some(p)
        }
    };
    Files {
        dir: dir.to_path_buf(),
        exceptions,
        log: c
            .audit_log
            .then(|| dir.join(format!("{front}-decisions.jsonl"))),
    }
}

fn provider_state(c: &Case, f: &Files) -> Arc<ProviderState> {
    let mut cfg = ProviderConfig::local(f.dir.join("data"));
    cfg.terraform_version = "1.9.8".into();
    for (k, v) in DEFAULT_TAGS {
        cfg.default_tags.insert(k.into(), v.into());
    }
    cfg.policy.audit_log = f.log.clone();
    cfg.policy.exceptions_file = f.exceptions.clone();
    cfg.policy.enforcement_override = c.advisory.then(|| "advisory".to_string());
    cfg.policy.overrides = c
        .overrides
        .iter()
        .enumerate()
        .map(|(i, (rule, by, reason))| ConfiguredOverride {
            origin: format!("policy.override[{i}]"),
            rule: policy::model::decision::Override {
                rule_id: rule.to_string(),
                reason: reason.to_string(),
                by: by.to_string(),
            },
        })
        .collect();
    Arc::new(ProviderState::with_config(cfg))
}

/// The resource configuration Terraform sends: every user attribute, null unless set.
fn config(resource: &DatabaseResource, c: &Case) -> Value {
    let mut v = Value::Object(BTreeMap::new());
    for a in &resource.schema().block.attributes {
        if a.required || a.optional {
            v.set(&a.name, Value::Null);
        }
    }
    v.set("name", Value::string("orders"));
    v.set("tier", Value::string(c.tier));
    v.set(
        "skip_final_snapshot",
        match c.skip {
            Skip::Known(b) => Value::Bool(b),
            Skip::Unknown => Value::Unknown,
        },
    );
    v
}

async fn provider_plan(c: &Case, f: &Files) -> PlanResponse {
    let st = provider_state(c, f);
    let r = DatabaseResource::new(st as Arc<dyn DatabaseEnv>);
    let cfg = config(&r, c);
    r.plan(PlanRequest {
        prior_state: Value::Null,
        proposed: cfg.clone(),
        config: cfg.clone(),
        prior_private: vec![],
        planned: cfg,
    })
    .await
}

fn records(log: Option<&Path>) -> Vec<serde_json::Value> {
    let Some(log) = log else { return vec![] };
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The verdict in the last decision record of the log.
fn recorded(log: Option<&Path>, name: &str) -> Verdict {
    let all = records(log);
    assert_eq!(all.len(), 1, "{name}: one record per decision: {all:?}");
    let r = &all[0];
    let strings = |v: &serde_json::Value, keys: &[&str]| -> Vec<String> {
        keys.iter()
            .map(|k| v[*k].as_str().unwrap_or_default().to_string())
            .collect()
    };
    Verdict::Recorded {
        statuses: serde_json::from_value(r["result"]["resources"][0]["rules"].clone()).unwrap(),
        outcome: r["outcome"].as_str().unwrap_or_default().to_string(),
        summary: serde_json::from_value(r["result"]["summary"].clone()).unwrap(),
        overrides: r["overrides"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| {
                let s = strings(o, &["rule_id", "by", "reason"]);
                (s[0].clone(), s[1].clone(), s[2].clone())
            })
            .collect(),
        exceptions: r["exceptions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let s = strings(e, &["id", "rule_id"]);
                (s[0].clone(), s[1].clone())
            })
            .collect(),
    }
}

fn provider_verdict(c: &Case, f: &Files, resp: &PlanResponse) -> Verdict {
    let errors: Vec<_> = resp
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    for (summary, kind) in [
        ("Policy override not allowed", "override not allowed"),
        (
            "Policy override refused: no audit log",
            "override refused: no audit log",
        ),
    ] {
        if errors.iter().any(|d| d.summary == summary) {
            assert_eq!(errors.len(), 1, "{}: {errors:?}", c.name);
            assert!(records(f.log.as_deref()).is_empty(), "{}", c.name);
            return Verdict::Refused(kind);
        }
    }
    if f.log.is_some() {
        let v = recorded(f.log.as_deref(), c.name);
        // The plan's `policy_decision` (private data for apply) carries the same outcome.
        let private: BTreeMap<String, String> =
            serde_json::from_slice(&resp.planned_private).unwrap();
        let Verdict::Recorded { outcome, .. } = &v else {
            unreachable!()
        };
        assert_eq!(&private["outcome"], outcome, "{}", c.name);
        return v;
    }
    let private: BTreeMap<String, String> = serde_json::from_slice(&resp.planned_private).unwrap();
    Verdict::Unrecorded {
        outcome: private["outcome"].clone(),
        counts: COUNTED
            .iter()
            .map(|k| (k.to_string(), private[*k].parse().unwrap()))
            .collect(),
    }
}

/// The plan JSON `terraform show -json` prints for the provider's planned state.
fn plan_json(planned: &Value) -> serde_json::Value {
    fn unknown_tree(v: &Value) -> serde_json::Value {
        match v {
            Value::Unknown => serde_json::Value::Bool(true),
            Value::Object(m) | Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), unknown_tree(x)))
                    .filter(|(_, x)| x != &serde_json::Value::Bool(false))
                    .collect(),
            ),
            Value::List(l) | Value::Set(l) => {
                serde_json::Value::Array(l.iter().map(unknown_tree).collect())
            }
            _ => serde_json::Value::Bool(false),
        }
    }
    let tags: serde_json::Map<String, serde_json::Value> = DEFAULT_TAGS
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [{
            "address": "dbplatform_database.orders",
            "mode": "managed",
            "type": "dbplatform_database",
            "name": "orders",
            "provider_name": "registry.terraform.io/dbplatform/dbplatform",
            "change": {
                "actions": ["create"],
                "before": null,
                "after": planned.to_json(),
                "after_unknown": unknown_tree(planned),
            }
        }],
        "configuration": {
            "provider_config": {
                "dbplatform": {
                    "name": "dbplatform",
                    "full_name": "registry.terraform.io/dbplatform/dbplatform",
                    "expressions": {
                        "backend": {"constant_value": "local"},
                        "default_tags": {"constant_value": tags}
                    }
                }
            },
            "root_module": {}
        }
    })
}

/// `dbpolicy check` on the plan, through the library entry; the verdict and the JSON report's statuses.
fn cli_verdict(c: &Case, f: &Files, plan: &serde_json::Value) -> Verdict {
    let plan_path = f.dir.join("cli-plan.json");
    std::fs::write(&plan_path, serde_json::to_vec(plan).unwrap()).unwrap();
    let report = f.dir.join("cli-report.json");
    let mut args: Vec<String> = vec![
        "dbpolicy".into(),
        "check".into(),
        plan_path.display().to_string(),
        "--format".into(),
        "json".into(),
        "--output".into(),
        report.display().to_string(),
        "--workspace".into(),
        "default".into(),
    ];
    for (rule, by, reason) in c.overrides {
        args.extend(["--override", rule, "--reason", reason, "--by", by].map(String::from));
    }
    if let Some(e) = &f.exceptions {
        args.extend(["--exceptions".to_string(), e.display().to_string()]);
    }
    if let Some(l) = &f.log {
        args.extend(["--audit-log".to_string(), l.display().to_string()]);
    }
    if c.advisory {
        args.extend(["--enforcement".to_string(), "advisory".to_string()]);
    }
    let cli = policy::cli::Cli::try_parse_from(&args).unwrap();
    match policy::cli::run(cli) {
        Err(e) => {
            assert_eq!(e.code, 2, "{}: {}", c.name, e.message);
            assert!(records(f.log.as_deref()).is_empty(), "{}", c.name);
            let kind = if e
                .message
                .contains("only soft-mandatory rules can be overridden")
            {
                "override not allowed"
            } else if e.message.contains("refused, no audit log") {
                assert!(
                    e.message.contains("--audit-log") && e.message.contains("DBPOLICY_AUDIT_LOG"),
                    "{}",
                    e.message
                );
                "override refused: no audit log"
            } else {
                panic!("{}: unexpected error {}", c.name, e.message)
            };
            assert!(!report.exists(), "{}: nothing reported", c.name);
            Verdict::Refused(kind)
        }
        Ok(code) => {
            let d: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            let outcome = d["outcome"].as_str().unwrap_or_default();
            assert_eq!(code, if outcome == "fail" { 1 } else { 0 }, "{}", c.name);
            if f.log.is_some() {
                let v = recorded(f.log.as_deref(), c.name);
                let Verdict::Recorded {
                    statuses,
                    outcome: rec_outcome,
                    ..
                } = &v
                else {
                    unreachable!()
                };
                assert_eq!(rec_outcome, outcome, "{}", c.name);
                for r in d["results"].as_array().into_iter().flatten() {
                    let rule = r["rule_id"].as_str().unwrap_or_default();
                    assert_eq!(
                        statuses.get(rule).map(String::as_str),
                        r["status"].as_str(),
                        "{}: report and record agree on {rule}",
                        c.name
                    );
                }
                return v;
            }
            Verdict::Unrecorded {
                outcome: outcome.to_string(),
                counts: COUNTED
                    .iter()
                    .map(|k| (k.to_string(), d["summary"][*k].as_u64().unwrap_or_default()))
                    .collect(),
            }
        }
    }
}

#[tokio::test]
async fn provider_and_cli_decide_the_same_through_the_gate() {
    // Both front ends would otherwise pick up a log from the environment.
    std::env::remove_var(policy::audit::config::ENV_LOG);
    let mut failures = Vec::new();
    for c in cases() {
        let dir = tempfile::tempdir().unwrap();
        let pf = files(dir.path(), &c, "provider");
        let resp = provider_plan(&c, &pf).await;
        let from_provider = provider_verdict(&c, &pf, &resp);
        let cf = files(dir.path(), &c, "cli");
        let from_cli = cli_verdict(&c, &cf, &plan_json(&resp.planned));
        if from_provider != from_cli {
            failures.push(format!(
                "{}: provider {from_provider:?}\n   cli {from_cli:?}",
                c.name
            ));
            continue;
        }
        let got = match &from_provider {
            Verdict::Refused(k) => Err(*k),
            Verdict::Recorded {
                statuses, outcome, ..
            } => Ok((
                statuses.get(RULE).map(String::as_str).unwrap_or("-"),
                outcome.as_str(),
            )),
            // Without a record only the counts are known; this table has only clean passes of that kind.
            Verdict::Unrecorded { outcome, counts } => Ok((
                if counts.iter().all(|(k, n)| k == "pass" || *n == 0) {
                    "pass"
                } else {
                    "-"
                },
                outcome.as_str(),
            )),
        };
        if got != c.expect {
            failures.push(format!(
                "{}: both gave {got:?}, expected {:?}: {from_provider:?}",
                c.name, c.expect
            ));
        }
        if let Verdict::Recorded {
            overrides,
            exceptions,
            ..
        } = &from_provider
        {
            let want_override = c.expect == Ok(("overridden", "pass"));
            let has_override = !overrides.is_empty();
            if want_override != has_override {
                failures.push(format!("{}: overrides on record {overrides:?}", c.name));
            }
            let want_exception = matches!(c.exception, Exception::Valid);
            let has_exception = !exceptions.is_empty();
            if want_exception != has_exception {
                failures.push(format!("{}: exceptions on record {exceptions:?}", c.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
