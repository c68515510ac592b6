//! Every Rego unit test of the embedded default bundle passes, and the runner notices a broken rule.
//! (`dbpolicy test policy/bundle` runs the same tests from the CLI.)

use policy::bundle::{default_files, default_pairs};
use policy::engine::testing::{run_tests, TestOutcome};
use policy::model::TierCatalogue;
use serde_json::json;

fn data() -> serde_json::Value {
    json!({"dbplatform": {"tiers": TierCatalogue::embedded().to_json(), "now": "2026-01-01T00:00:00Z"}})
}

#[test]
fn every_bundle_test_passes() {
    let report = run_tests(&default_pairs(), data(), None, false).unwrap();
    let failures: Vec<String> = report
        .failures()
        .iter()
        .map(|c| {
            format!(
                "{} ({}:{}): {:?} {:?}",
                c.name, c.file, c.line, c.outcome, c.output
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "failing bundle tests:\n{}",
        failures.join("\n")
    );
    let rules = default_files()
        .iter()
        .filter(|f| !f.is_test() && f.path.starts_with("rules/"))
        .count();
    assert!(rules >= 24, "only {rules} rules");
    // At least one passing and one failing case per rule.
    assert!(
        report.cases.len() >= 2 * rules,
        "only {} tests for {rules} rules",
        report.cases.len()
    );
    for f in default_files()
        .iter()
        .filter(|f| f.is_test() && f.path.starts_with("rules/"))
    {
        let n = report.cases.iter().filter(|c| c.file == f.path).count();
        assert!(
            n >= 2,
            "{} has {n} test(s); every rule needs a passing and a failing case",
            f.path
        );
    }
}

#[test]
fn a_broken_rule_makes_its_tests_fail() {
    // Break the encryption rule so it never fires.
    let files: Vec<(String, String)> = default_pairs()
        .into_iter()
        .map(|(p, c)| {
            if p == "rules/storage_encrypted.rego" {
                let broken = c.replace(
                    "input.settings.storage_encrypted == false",
                    "input.settings.storage_encrypted == \"never\"",
                );
                assert_ne!(broken, c, "the rule text changed; update this test");
                (p, broken)
            } else {
                (p, c)
            }
        })
        .collect();
    let report = run_tests(&files, data(), None, false).unwrap();
    let failed: Vec<&str> = report.failures().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        failed,
        vec!["data.dbplatform.rules.storage_encrypted_test.test_unencrypted_fails"]
    );
    let case = report.failures()[0];
    assert_eq!(case.file, "rules/storage_encrypted_test.rego");
    assert_eq!(case.outcome, TestOutcome::Fail);
}

#[test]
fn run_filter_and_coverage_on_the_bundle() {
    let re = regex::Regex::new("storage_encrypted").unwrap();
    let report = run_tests(&default_pairs(), data(), Some(&re), true).unwrap();
    assert!(report.ok());
    assert!(report
        .cases
        .iter()
        .all(|c| c.name.contains("storage_encrypted")));
    let cov = report.coverage.unwrap();
    let f = cov
        .iter()
        .find(|f| f.path == "rules/storage_encrypted.rego")
        .unwrap();
    assert!(f.percent() > 99.0, "{f:?}");
}

/// A delete has `settings: null`; no rule may raise an error on it (regorus errors on `object.get(null, ...)`).
#[test]
fn no_rule_errors_on_a_delete_or_an_empty_input() {
    let mut e = regorus::Engine::new();
    let mut packages = Vec::new();
    for f in default_files().iter().filter(|f| !f.is_test()) {
        e.add_policy(f.path.to_string(), f.content.to_string())
            .unwrap();
        packages.push(
            f.path
                .trim_start_matches("rules/")
                .trim_end_matches(".rego")
                .to_string(),
        );
    }
    e.add_data(regorus::Value::from(data())).unwrap();
    let inputs = [
        json!({"address": "aws_db_instance.x", "action": "delete", "kind": "instance", "backend": "aws", "tier": "tier-1",
               "tags": {}, "settings": null, "settings_before": null, "related": {"parameter_groups": [], "source": null}}),
        json!({}),
    ];
    for input in inputs {
        e.set_input(regorus::Value::from(input.clone()));
        for p in &packages {
            let r = e.eval_rule(format!("data.dbplatform.rules.{p}.violation"));
            assert!(
                r.is_ok(),
                "rule {p} raised an error on {input}: {:?}",
                r.err()
            );
        }
    }
}
