//! The aws fault campaign, against the moto RDS emulator through the fault-injecting proxy
//! (`acceptance_tests::fault_proxy`): for create, update and destroy of a `dbplatform_database`,
//! - kill the provider (SIGKILL) at every named step it reaches (`aws.create.requested`, ...; learned from its own
//!   trace), then re-apply as a user would;
//! - inject an AWS fault at every API call the operation makes (throttling through every retry so the apply fails,
//!   a 5xx, a connection dropped after moto acted, a slow answer), then re-apply.
//!
//! Each case is judged on convergence (apply exits 0, then a no-op plan; for destroy, an empty state and no
//! instance), orphans (instances in moto that state does not hold), duplicates and the time to converge, and the
//! campaign fails when any case misses the target. `make test` runs a short form; `DBPLATFORM_FAULTS=full`
//! (`make faults`) runs every case and prints the table.

use std::sync::OnceLock;
use std::time::Instant;

use acceptance_tests::fault_proxy::{moto_instances, rds_query, Fault, FaultProxy, Injection};
use acceptance_tests::faults::{read_trace, Campaign, CaseOutcome, Extent, KILL_ENV, TRACE_ENV};
use acceptance_tests::{moto_port, TfOutput, Workdir};

/// The SDK's attempts per call with `max_retries = 2`: a fault repeated this often fails the call.
const ATTEMPTS: usize = 3;

fn proxy() -> &'static FaultProxy {
    static PROXY: OnceLock<FaultProxy> = OnceLock::new();
    PROXY.get_or_init(|| FaultProxy::start(moto_port()).unwrap_or_else(|e| panic!("{e}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Update,
    Destroy,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Destroy => "destroy",
        }
    }
}

/// The database before (`updated` false) and after an update: class, tags and an engine parameter change.
fn config(name: &str, updated: bool) -> String {
    let extra = if updated {
        "  instance_class = \"db.t4g.small\"\n  tags           = { team = \"orders\" }\n  parameters     = { work_mem = \"8MB\" }\n"
    } else {
        ""
    };
    format!(
        "provider \"dbplatform\" {{\n  backend = \"aws\"\n  default_tags = {{ owner = \"payments\", cost_center = \"cc-1\", data_classification = \"internal\" }}\n  aws {{\n    endpoint    = \"http://127.0.0.1:{}\"\n    region      = \"us-east-1\"\n    max_retries = {}\n  }}\n}}\n\nresource \"dbplatform_database\" \"db\" {{\n  name                = \"{name}\"\n  engine              = \"postgres\"\n  tier                = \"tier-3\"\n  db_name             = \"app\"\n  skip_final_snapshot = true\n{extra}}}\n",
        proxy().port(),
        ATTEMPTS - 1
    )
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn workdir() -> Workdir {
    let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        wd.set_env(k, v);
    }
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    wd
}

const APPLY: &[&str] = &["apply", "-input=false", "-no-color", "-auto-approve"];
const DESTROY: &[&str] = &["destroy", "-input=false", "-no-color", "-auto-approve"];

/// Brings a fresh directory to the state the operation starts from (nothing for create, the database for update
/// and destroy), without faults.
fn setup(op: Op, wd: &Workdir, name: &str) {
    proxy().arm(None);
    if op != Op::Create {
        wd.write_config(&config(name, false))
            .unwrap_or_else(|e| panic!("{e}"));
        wd.run_ok(APPLY)
            .unwrap_or_else(|e| panic!("setup of {name}: {e}"));
    }
    wd.write_config(&config(name, op == Op::Update))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The operation's command (apply, or destroy), with `env` for the provider.
fn operation(op: Op, wd: &Workdir, env: &[(String, String)]) -> TfOutput {
    let args = if op == Op::Destroy { DESTROY } else { APPLY };
    wd.run_env(args, env).unwrap_or_else(|e| panic!("{e}"))
}

/// Deletes what a case left in moto, straight through the API (not through the proxy, not through Terraform).
fn cleanup(name: &str) {
    let m = moto_port();
    let _ = rds_query(
        m,
        &format!("Action=ModifyDBInstance&Version=2014-10-31&DBInstanceIdentifier={name}&DeletionProtection=false&ApplyImmediately=true"),
    );
    let _ = rds_query(
        m,
        &format!("Action=DeleteDBInstance&Version=2014-10-31&DBInstanceIdentifier={name}&SkipFinalSnapshot=true"),
    );
    let _ = rds_query(
        m,
        &format!("Action=DeleteDBParameterGroup&Version=2014-10-31&DBParameterGroupName=dbplatform-{name}"),
    );
}

/// Whether moto still holds the managed parameter group of database `name`.
fn moto_parameter_group(name: &str) -> bool {
    rds_query(
        moto_port(),
        &format!("Action=DescribeDBParameterGroups&Version=2014-10-31&DBParameterGroupName=dbplatform-{name}"),
    )
    .is_some_and(|xml| xml.contains(&format!("<DBParameterGroupName>dbplatform-{name}<")))
}

/// The kill points and API calls of one operation, learned by running it once without faults.
fn learn(op: Op) -> (Vec<String>, Vec<(String, usize)>) {
    let wd = workdir();
    let name = unique(&format!("fl-{}", op.name()));
    setup(op, &wd, &name);
    let trace = wd.path().join("fault-trace.txt");
    proxy().arm(None);
    let out = operation(
        op,
        &wd,
        &[(TRACE_ENV.to_string(), trace.display().to_string())],
    );
    assert!(
        out.success(),
        "learning run of {}: {}",
        op.name(),
        out.all_normalized()
    );
    let mut seen = std::collections::HashMap::new();
    let calls = proxy()
        .calls()
        .into_iter()
        .map(|a| {
            let n = seen.entry(a.clone()).or_insert(0usize);
            *n += 1;
            (a, *n)
        })
        .collect();
    cleanup(&name);
    (read_trace(&trace), calls)
}

enum FaultCase {
    Kill(String),
    Api(Injection),
}

impl FaultCase {
    fn label(&self) -> String {
        match self {
            FaultCase::Kill(step) => format!("kill at {step}"),
            FaultCase::Api(i) => format!(
                "{} {}#{}{}",
                i.fault.name(),
                i.action,
                i.nth,
                if i.repeat > 1 {
                    format!(" x{}", i.repeat)
                } else {
                    String::new()
                }
            ),
        }
    }
}

/// Runs one case: setup, the operation with the fault, re-applies until it succeeds (at most 3), then the checks.
fn run_case(op: Op, fault: &FaultCase) -> CaseOutcome {
    let wd = workdir();
    let name = unique(&format!("fc-{}", op.name()));
    setup(op, &wd, &name);
    let mut env = Vec::new();
    match fault {
        FaultCase::Kill(step) => {
            proxy().arm(None);
            env.push((KILL_ENV.to_string(), step.clone()));
        }
        FaultCase::Api(i) => proxy().arm(Some(i.clone())),
    }
    let started = Instant::now();
    let first = operation(op, &wd, &env);
    let fired = match fault {
        FaultCase::Kill(_) => !first.success(),
        FaultCase::Api(_) => proxy().injected() > 0,
    };
    proxy().arm(None);
    let mut ok = first.success();
    let mut reapplies = 0;
    let mut detail = String::new();
    while !ok && reapplies < 3 {
        reapplies += 1;
        let again = operation(op, &wd, &[]);
        ok = again.success();
        if !ok {
            detail = first_error(&again);
        }
    }
    let holds = !wd
        .state_file_addresses()
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty();
    let converged = ok
        && match op {
            Op::Destroy => !holds,
            _ => {
                let plan = wd
                    .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
                    .unwrap_or_else(|e| panic!("{e}"));
                if plan.code != Some(0) {
                    detail = format!("re-plan not a no-op: {}", first_error(&plan));
                }
                plan.code == Some(0)
            }
        };
    let converge_time = started.elapsed();
    let instances = moto_instances(moto_port())
        .into_iter()
        .filter(|i| *i == name)
        .count();
    let orphans = instances.saturating_sub(usize::from(holds));
    if !fired && detail.is_empty() {
        detail = "fault point not reached".into();
    }
    if !holds && moto_parameter_group(&name) {
        // Not an instance, so not counted as an orphan, but shown: a parameter group nothing uses any more.
        detail = format!("{detail} parameter group dbplatform-{name} left behind")
            .trim()
            .to_string();
    }
    cleanup(&name);
    CaseOutcome {
        backend: "aws".into(),
        operation: op.name().into(),
        fault: fault.label(),
        converged,
        orphans,
        duplicates: instances.saturating_sub(1),
        rows_lost: 0,
        reapplies,
        converge_time,
        detail,
    }
}

fn first_error(out: &TfOutput) -> String {
    let text = out.all_normalized();
    text.lines()
        .find(|l| l.contains("Error:"))
        .unwrap_or_else(|| text.lines().last().unwrap_or(""))
        .trim()
        .chars()
        .take(160)
        .collect()
}

/// Whether a call changes something in RDS (the calls whose lost answer matters most).
fn mutating(action: &str) -> bool {
    ["Create", "Modify", "Delete", "Add", "Remove", "Reset"]
        .iter()
        .any(|p| action.starts_with(p))
}

/// The injections for one operation's calls: in full, every kind at every call; in short, four representative
/// ones: throttling at the first call, a dropped answer at the operation's own DB instance call (the call went
/// through, the SDK retries it), a 5xx in the middle and a slow answer at the last call.
fn injections(extent: Extent, calls: &[(String, usize)]) -> Vec<Injection> {
    let make = |(action, nth): &(String, usize), fault: Fault| Injection {
        action: action.clone(),
        nth: *nth,
        fault,
        // Throttling outlasts the SDK's retries, so the apply fails and the re-apply is tested; the others are
        // single faults the SDK retries.
        repeat: if fault == Fault::Throttle {
            ATTEMPTS
        } else {
            1
        },
    };
    match extent {
        Extent::Full => calls
            .iter()
            .flat_map(|c| Fault::ALL.iter().map(move |f| make(c, *f)))
            .collect(),
        Extent::Short => {
            let main = calls
                .iter()
                .find(|(a, _)| a.ends_with("DBInstance") && mutating(a))
                .or_else(|| calls.iter().find(|(a, _)| mutating(a)));
            [
                calls.first().map(|c| make(c, Fault::Throttle)),
                main.map(|c| make(c, Fault::Drop)),
                calls
                    .get(calls.len() / 2)
                    .map(|c| make(c, Fault::ServerError)),
                calls.last().map(|c| make(c, Fault::Slow)),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
    }
}

#[test]
fn aws_fault_campaign_converges_without_orphans() {
    let extent = Extent::from_env();
    let mut campaign = Campaign::default();
    for op in [Op::Create, Op::Update, Op::Destroy] {
        let (steps, calls) = learn(op);
        assert!(
            !steps.is_empty(),
            "the provider reported no fault points for {}",
            op.name()
        );
        let mut cases: Vec<FaultCase> = extent
            .select(&steps)
            .into_iter()
            .map(FaultCase::Kill)
            .collect();
        cases.extend(injections(extent, &calls).into_iter().map(FaultCase::Api));
        for case in &cases {
            campaign.record(run_case(op, case));
        }
    }
    let missed = campaign.finish(match extent {
        Extent::Full => "aws backend (full)",
        Extent::Short => "aws backend (short)",
    });
    assert!(
        missed.is_empty(),
        "{} case(s) missed the target (converged, 0 orphans, 0 duplicates): {:#?}",
        missed.len(),
        missed
    );
}
