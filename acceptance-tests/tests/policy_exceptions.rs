//! Two promises of the product through the real Terraform CLI (plans only, local backend):
//!
//! - an approved exception from the provider's `policy { exceptions_file = ... }` lets a non-compliant database
//!   plan, with a warning naming the exception and its expiry; an expired one does not apply and the plan is
//!   refused with a message saying it expired;
//! - the provider (its audit log records) and `dbpolicy check` on the same plan JSON, with the same exceptions
//!   file, reach the same status for every (resource, rule).
//!
//! The provider does not know resource addresses (Terraform does not send them), so it names a database
//! `dbplatform_database "DB_NAME"` while the CLI uses `dbplatform_database.TF_NAME`; the exceptions here use a glob
//! (`dbplatform_database*legacy*`) that matches both.
//!
//! Needs `target/debug/terraform-provider-dbplatform` and `target/debug/dbpolicy` (`make build`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use acceptance_tests::{TfOutput, Workdir};
use serde_json::Value;

fn ok<T>(r: Result<T, acceptance_tests::HarnessError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Provider block for the local backend; `policy` is the body of the `policy` block.
fn provider(data_dir: &Path, policy: &str) -> String {
    format!(
        r#"
provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{dd}"
  }}
  policy {{
{policy}
  }}
  default_tags = {{
    owner               = "acceptance"
    cost_center         = "cc-acc"
    data_classification = "internal"
  }}
}}
"#,
        dd = data_dir.display()
    )
}

/// A tier-2 database deleted without a final snapshot: fails the soft-mandatory rule DBP-DEL-002.
const LEGACY: &str = r#"
resource "dbplatform_database" "legacy" {
  name                = "acc-legacy"
  tier                = "tier-2"
  skip_final_snapshot = true
}
"#;

/// Databases planned beside [`LEGACY`] for the parity check: `orders` fails only the advisory DBP-TAG-003 (its
/// `tier` tag says tier-1), `billing` fails the hard-mandatory DBP-TAG-002 (unknown data_classification), which
/// the parity test's exceptions file exempts, and `ledger` passes everything.
const OTHERS: &str = r#"
resource "dbplatform_database" "orders" {
  name = "acc-orders"
  tier = "tier-3"
  tags = { tier = "tier-1" }
}

resource "dbplatform_database" "billing" {
  name = "acc-billing"
  tier = "tier-2"
  tags = { data_classification = "top-secret-ish" }
}

resource "dbplatform_database" "ledger" {
  name = "acc-ledger"
  tier = "tier-2"
}
"#;

/// Days since 1970-01-01 -> `YYYY-MM-DD` (proleptic Gregorian; H. Hinnant's civil_from_days).
fn date_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The UTC date `offset` days from today.
fn day(offset: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("clock before 1970: {e}"))
        .as_secs();
    date_from_days(i64::try_from(secs / 86_400).unwrap_or(0) + offset)
}

/// One approved exception entry (YAML list item) of `rule` for resources matching `glob`.
fn exception_entry(id: &str, rule: &str, glob: &str, created: &str, expires: &str) -> String {
    format!(
        r#"  - id: {id}
    rule: {rule}
    resource: "{glob}"
    owner: payments
    reason: decommissioning, data exported
    ticket: PAY-123
    approved_by: jane.doe
    created: {created}
    expires: {expires}
"#
    )
}

/// An exceptions file with one approved exception of DBP-DEL-002 for the legacy database.
fn exceptions_yaml(id: &str, created: &str, expires: &str) -> String {
    format!(
        "exceptions:\n{}",
        exception_entry(
            id,
            "DBP-DEL-002",
            "dbplatform_database*legacy*",
            created,
            expires
        )
    )
}

fn plan(wd: &Workdir) -> TfOutput {
    ok(wd.run(&["plan", "-input=false", "-no-color"]))
}

/// A working directory with a data dir, initialised once; the provider's environment variables are cleared.
fn setup() -> (Workdir, PathBuf) {
    let mut wd = ok(Workdir::new());
    for k in [
        "DBPOLICY_AUDIT_LOG",
        "DBPLATFORM_OVERRIDES",
        "DBPOLICY_AUDIT_KEY",
        "DBPOLICY_AUDIT_PG",
    ] {
        wd.set_env(k, "");
    }
    let data = wd.path().join("data");
    std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("create {}: {e}", data.display()));
    ok(wd.init());
    (wd, data)
}

#[test]
fn an_exception_allows_a_finding_until_it_expires() {
    let (wd, data) = setup();

    // Without an exception the plan is refused, naming the rule.
    ok(wd.write_config(&format!("{}{LEGACY}", provider(&data, ""))));
    let out = plan(&wd);
    assert!(!out.success(), "{out}");
    assert!(
        out.stderr_normalized().contains("Error: [DBP-DEL-002]"),
        "{out}"
    );

    // An approved, unexpired exception lets it plan, with a warning naming the exception and its expiry.
    let expires = day(20);
    let file = wd.path().join("exceptions.yaml");
    ok(wd.write_file(
        "exceptions.yaml",
        &exceptions_yaml("EXC-ACC-1", &day(-10), &expires),
    ));
    let policy = format!("    exceptions_file = \"{}\"", file.display());
    ok(wd.write_config(&format!("{}{LEGACY}", provider(&data, &policy))));
    let out = plan(&wd);
    assert!(out.success(), "{out}");
    let all = out.all_normalized();
    assert!(all.contains("1 to add"), "{all}");
    assert!(all.contains("Warning: [DBP-DEL-002]"), "{all}");
    assert!(
        all.contains(&format!(
            "Allowed by exception EXC-ACC-1 (owner payments, ticket PAY-123) until {expires}"
        )),
        "{all}"
    );

    // An expired exception does not apply: refused again, and the user is told why.
    let expired_on = day(-10);
    ok(wd.write_file(
        "exceptions.yaml",
        &exceptions_yaml("EXC-ACC-OLD", &day(-40), &expired_on),
    ));
    let out = plan(&wd);
    assert!(!out.success(), "{out}");
    let all = out.all_normalized();
    assert!(all.contains("Error: [DBP-DEL-002]"), "{all}");
    assert!(
        all.contains("Policy exception EXC-ACC-OLD not applied (expired)")
            && all.contains(&format!("expired on {expired_on}")),
        "{all}"
    );
    assert!(!data.join("databases").exists(), "plans create nothing");
}

/// The provider's statuses: the last decision record for each resource in the audit log, as
/// (resource, rule) -> status.
fn provider_statuses(log: &Path) -> BTreeMap<(String, String), String> {
    let text =
        std::fs::read_to_string(log).unwrap_or_else(|e| panic!("reading {}: {e}", log.display()));
    let mut by_resource: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for line in text.lines() {
        let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if r["kind"] != "decision" {
            continue;
        }
        for res in r["result"]["resources"].as_array().into_iter().flatten() {
            let address = res["address"].as_str().unwrap_or_default().to_string();
            let rules = res["rules"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            by_resource.insert(address, rules);
        }
    }
    by_resource
        .into_iter()
        .flat_map(|(a, rules)| rules.into_iter().map(move |(k, v)| ((a.clone(), k), v)))
        .collect()
}

#[test]
fn provider_and_cli_reach_the_same_decision() {
    let (wd, data) = setup();
    let log = wd.path().join("decisions.jsonl");
    let exc = wd.path().join("exceptions.yaml");
    let exceptions = format!(
        "{}{}",
        exceptions_yaml("EXC-ACC-1", &day(-10), &day(20)),
        exception_entry(
            "EXC-ACC-2",
            "DBP-TAG-002",
            "dbplatform_database*billing*",
            &day(-1),
            &day(10)
        )
    );
    ok(wd.write_file("exceptions.yaml", &exceptions));
    let policy = format!(
        "    audit_log = \"{}\"\n    exceptions_file = \"{}\"",
        log.display(),
        exc.display()
    );
    ok(wd.write_config(&format!("{}{LEGACY}{OTHERS}", provider(&data, &policy))));
    let (plan_path, plan) = ok(wd.write_plan_json("plan.json"));

    // CLI address -> the provider's name for the same database.
    let mut names = BTreeMap::new();
    for rc in plan.raw()["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let address = rc["address"].as_str().unwrap_or_default();
        let name = rc["change"]["after"]["name"].as_str().unwrap_or_default();
        names.insert(
            address.to_string(),
            format!("{} {name:?}", rc["type"].as_str().unwrap_or_default()),
        );
    }
    assert_eq!(names.len(), 4, "{names:?}");

    let out = Command::new(acceptance_tests::dbpolicy_binary())
        .arg("check")
        .arg(&plan_path)
        .args(["--format", "json", "--exceptions"])
        .arg(&exc)
        .output()
        .unwrap_or_else(|e| panic!("running dbpolicy: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "dbpolicy check: the plan the provider allowed must pass\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decision: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let cli: BTreeMap<(String, String), String> = decision["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let address = r["address"].as_str().unwrap_or_default();
            let name = names
                .get(address)
                .unwrap_or_else(|| panic!("CLI result for unknown address {address}"));
            (
                (
                    name.clone(),
                    r["rule_id"].as_str().unwrap_or_default().to_string(),
                ),
                r["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();

    let provider = provider_statuses(&log);
    // The findings the configuration was written to produce, so the comparison covers more than passes.
    for (db, rule, status) in [
        ("acc-legacy", "DBP-DEL-002", "exempted"),
        ("acc-billing", "DBP-TAG-002", "exempted"),
        ("acc-orders", "DBP-TAG-003", "warn"),
        ("acc-ledger", "DBP-DEL-002", "pass"),
    ] {
        let key = (format!("dbplatform_database {db:?}"), rule.to_string());
        assert_eq!(
            provider.get(&key).map(String::as_str),
            Some(status),
            "{key:?}: {provider:#?}"
        );
    }
    let differences: Vec<String> = provider
        .keys()
        .chain(cli.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| provider.get(k) != cli.get(k))
        .map(|k| {
            format!(
                "{} {}: provider {:?}, cli {:?}",
                k.0,
                k.1,
                provider.get(k),
                cli.get(k)
            )
        })
        .collect();
    assert!(
        differences.is_empty(),
        "provider and CLI disagree:\n{}",
        differences.join("\n")
    );
    assert!(cli.len() >= 4 * 5, "a real comparison: {cli:#?}");
}
