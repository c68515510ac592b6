//! `dbpolicy test`: runs the Rego unit tests (`test_*` rules of `*_test.rego`) of a directory or of the
//! embedded default bundle, like `opa test`; exit 1 when a test fails, listing the failing test names.

use std::fmt::Write as _;

use regex::Regex;

use crate::cli::{emit, CliError, TestArgs, EXIT_FAIL};
use crate::engine::testing::{load_dir, run_tests, TestOutcome};
use crate::model::TierCatalogue;

/// Runs `dbpolicy test`.
pub fn run(a: &TestArgs) -> Result<u8, CliError> {
    let filter = match &a.run {
        Some(r) => Some(Regex::new(r).map_err(|e| {
            CliError::usage(format!("--run {r:?}: not a valid regular expression: {e}"))
        })?),
        None => None,
    };
    let tiers = match &a.data {
        Some(p) => TierCatalogue::from_file(p)?,
        None => TierCatalogue::embedded(),
    };
    let files: Vec<(String, String)> = match &a.dir {
        Some(d) => load_dir(d)?,
        None => crate::bundle::default_files()
            .into_iter()
            .map(|f| (format!("bundle/{}", f.path), f.content.to_string()))
            .collect(),
    };
    let data = serde_json::json!({"dbplatform": {"tiers": tiers.to_json()}});
    let report = run_tests(&files, data, filter.as_ref(), a.coverage)?;
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
    let failed = report.failures().len();
    let _ = writeln!(
        s,
        "{} tests: {} passed, {} failed",
        report.cases.len(),
        report.passed(),
        failed
    );
    emit(None, &s)?;
    if report.cases.is_empty() {
        return Err(CliError::usage("no tests matched; check --run"));
    }
    Ok(if failed > 0 { EXIT_FAIL } else { 0 })
}
