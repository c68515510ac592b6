//! `dbpolicy test`: runs the Rego unit tests (`test_*` rules of `*_test.rego`) of a directory or of the
//! embedded default bundle, like `opa test`; exit 1 when a test fails, listing the failing test names.

use std::fmt::Write as _;

use regex::Regex;

use crate::cli::{emit, CliError, TestArgs, EXIT_FAIL};
use crate::engine::testing::{load_data_dir, load_dir, run_tests_with, TestOutcome};
use crate::model::TierCatalogue;

/// Runs `dbpolicy test`.
pub fn run(a: &TestArgs) -> Result<u8, CliError> {
    let filter = match &a.run {
        Some(r) => Some(Regex::new(r).map_err(|e| {
            CliError::usage(format!("--run {r:?}: not a valid regular expression: {e}"))
        })?),
        None => None,
    };
    let mut tiers = None;
    let mut data_paths = Vec::new();
    for p in &a.data {
        if p.extension().is_some_and(|e| e == "toml") {
            if tiers.is_some() {
                return Err(CliError::usage(format!(
                    "{}: only one tier catalogue (*.toml) may be given with --data",
                    p.display()
                )));
            }
            tiers = Some(TierCatalogue::from_file(p)?);
        } else {
            data_paths.push(p.clone());
        }
    }
    let tiers = tiers.unwrap_or_else(TierCatalogue::embedded);
    let mut data = serde_json::json!({"dbplatform": {"tiers": tiers.to_json()}});
    let files: Vec<(String, String)> = match &a.dir {
        Some(d) => {
            let files = load_dir(d)?;
            // Like `opa test DIR`: the JSON and YAML files of the folder are its data.
            load_data_dir(d, &mut data)?;
            files
        }
        None => crate::bundle::default_files()
            .into_iter()
            .map(|f| (format!("bundle/{}", f.path), f.content.to_string()))
            .collect(),
    };
    crate::engine::load::load_data(&data_paths, &mut data)?;
    let report = run_tests_with(&files, data, filter.as_ref(), a.coverage, a.rego_version)?;
    let mut s = String::new();
    for c in &report.cases {
        match &c.outcome {
            TestOutcome::Pass if a.verbose => {
                let _ = writeln!(s, "PASS  {} ({}:{})", c.name, c.file, c.line);
            }
            TestOutcome::Pass => {}
            TestOutcome::Fail => {
                let _ = writeln!(s, "FAIL  {} ({}:{})", c.name, c.file, c.line);
            }
            TestOutcome::Error(e) => {
                let _ = writeln!(s, "ERROR {} ({}:{}): {e}", c.name, c.file, c.line);
            }
        }
        if c.outcome != TestOutcome::Pass {
            for line in &c.output {
                let _ = writeln!(s, "      {line}");
            }
        }
    }
    if let Some(cov) = &report.coverage {
        s.push_str("coverage:\n");
        for f in cov {
            let _ = writeln!(s, "  {:6.1}%  {}", f.percent(), f.path);
        }
    }
    let errors = report
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, TestOutcome::Error(_)))
        .count();
    let failed = report.failures().len() - errors;
    let _ = writeln!(
        s,
        "{} tests: {} passed, {} failed, {} errors",
        report.cases.len(),
        report.passed(),
        failed,
        errors
    );
    if report.cases.is_empty() {
        return Err(CliError::usage(match (&a.run, &a.dir) {
            (Some(r), _) => format!("no test matched --run {r:?}"),
            (None, Some(d)) => format!("{}: no test_* rules found", d.display()),
            (None, None) => "the embedded bundle has no test_* rules".to_string(),
        }));
    }
    emit(None, &s)?;
    Ok(if failed + errors > 0 { EXIT_FAIL } else { 0 })
}
