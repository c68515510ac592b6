//! The Rego unit-test runner behind `dbpolicy test`: every `test_*` rule of every `*_test.rego`, like `opa test`.
//!
//! All modules (rules and tests) and the data document go into one regorus engine; each test rule is evaluated
//! on its own and passes when it is `true`. Coverage comes from regorus' own line coverage.

use std::path::Path;

use regex::Regex;

use crate::engine::load::{add_modules, ModuleSource};
use crate::engine::{EngineError, RegoVersion};

/// Why the tests could not run at all (a test that fails is a [`TestOutcome`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: {message}")]
    Rego { path: String, message: String },
    #[error("{0}")]
    Data(String),
    #[error("{0}: no *_test.rego files with test_* rules found")]
    NoTests(String),
}

/// The result of one test rule.
#[derive(Debug, Clone, PartialEq)]
pub enum TestOutcome {
    Pass,
    /// The rule was false or undefined.
    Fail,
    /// Evaluation raised an error (conflicting values, a builtin error, ...).
    Error(String),
}

/// One test rule and what happened to it.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// `data.<package>.<test rule>`, the name `--run` matches against.
    pub name: String,
    pub package: String,
    /// The `*_test.rego` file that defines it.
    pub file: String,
    /// Line of the rule's first definition.
    pub line: usize,
    pub outcome: TestOutcome,
    /// What `print(...)` wrote while the test ran, shown for failures.
    pub output: Vec<String>,
}

/// Line coverage of one policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCoverage {
    pub path: String,
    pub covered: Vec<u32>,
    pub not_covered: Vec<u32>,
}

impl FileCoverage {
    /// Covered lines as a percentage of the lines that can be covered (100 when there are none).
    pub fn percent(&self) -> f64 {
        let total = self.covered.len() + self.not_covered.len();
        if total == 0 {
            100.0
        } else {
            self.covered.len() as f64 * 100.0 / total as f64
        }
    }
}

/// Everything one run found.
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    pub cases: Vec<TestCase>,
    /// Per non-test policy file, when coverage was asked for.
    pub coverage: Option<Vec<FileCoverage>>,
}

impl TestReport {
    /// Number of passing tests.
    pub fn passed(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| c.outcome == TestOutcome::Pass)
            .count()
    }

    /// Tests that failed or raised an error.
    pub fn failures(&self) -> Vec<&TestCase> {
        self.cases
            .iter()
            .filter(|c| c.outcome != TestOutcome::Pass)
            .collect()
    }

    /// Whether every test passed (and there was at least one).
    pub fn ok(&self) -> bool {
        !self.cases.is_empty() && self.failures().is_empty()
    }
}

/// The `package` of a module and its `test_*` rules with their first line, from the source text.
fn scan_tests(content: &str) -> (Option<String>, Vec<(String, usize)>) {
    let mut package = None;
    let mut tests: Vec<(String, usize)> = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let t = line.trim_start();
        if line.starts_with("package ") && package.is_none() {
            package = t.strip_prefix("package ").map(|p| p.trim().to_string());
            continue;
        }
        if !line.starts_with("test_") {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !tests.iter().any(|(n, _)| *n == name) {
            tests.push((name, i + 1));
        }
    }
    (package, tests)
}

/// Whether a file holds tests (`opa test` convention).
pub fn is_test_file(path: &str) -> bool {
    path.ends_with("_test.rego")
}

/// Runs every `test_*` rule of every module in `files`; `filter` selects tests by their full name
/// (`data.pkg.test_x`), `coverage` adds line coverage of the non-test files. Modules are Rego v0 or v1,
/// detected per module.
pub fn run_tests(
    files: &[(String, String)],
    data: serde_json::Value,
    filter: Option<&Regex>,
    coverage: bool,
) -> Result<TestReport, TestError> {
    run_tests_with(files, data, filter, coverage, RegoVersion::Auto)
}

/// [`run_tests`] with the Rego version of every module given (`Auto`: detected per module).
pub fn run_tests_with(
    files: &[(String, String)],
    data: serde_json::Value,
    filter: Option<&Regex>,
    coverage: bool,
    version: RegoVersion,
) -> Result<TestReport, TestError> {
    let mut engine = regorus::Engine::new();
    crate::engine::extensions::register(&mut engine).map_err(|e| TestError::Data(e.to_string()))?;
    let sources: Vec<ModuleSource> = files
        .iter()
        .map(|(path, content)| ModuleSource {
            path,
            content,
            always_v1: false,
        })
        .collect();
    add_modules(&mut engine, &sources, version).map_err(|e| match e {
        EngineError::Rego { location, message } => TestError::Rego {
            path: location,
            message,
        },
        other => TestError::Data(other.to_string()),
    })?;
    engine
        .add_data(regorus::Value::from(data))
        .map_err(|e| TestError::Data(one_line(&e.to_string())))?;
    engine.set_gather_prints(true);
    if coverage {
        engine.set_enable_coverage(true);
    }
    let mut report = TestReport::default();
    // Panics inside regorus are reported per test (below), not printed as a crash.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (path, content) in files {
        let (Some(package), tests) = scan_tests(content) else {
            continue;
        };
        for (rule, line) in tests {
            let name = format!("data.{package}.{rule}");
            if filter.is_some_and(|re| !re.is_match(&name)) {
                continue;
            }
            // A regorus bug that panics on one test must not hide every other result: it is that test's error.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                engine.eval_rule(name.clone())
            }));
            let outcome = match result {
                Ok(Ok(regorus::Value::Bool(true))) => TestOutcome::Pass,
                Ok(Ok(_)) => TestOutcome::Fail,
                Ok(Err(e)) => TestOutcome::Error(match crate::engine::error::describe(&e) {
                    (Some(loc), why) => format!("{loc}: {why}"),
                    (None, why) => why,
                }),
                Err(panic) => TestOutcome::Error(format!(
                    "the Rego engine (regorus) failed internally: {}",
                    panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("panic")
                )),
            };
            let output = engine.take_prints().unwrap_or_default();
            report.cases.push(TestCase {
                name,
                package: package.clone(),
                file: path.clone(),
                line,
                outcome,
                output,
            });
        }
    }
    std::panic::set_hook(previous_hook);
    if coverage {
        let r = engine
            .get_coverage_report()
            .map_err(|e| TestError::Data(format!("coverage: {e}")))?;
        let mut files: Vec<FileCoverage> = r
            .files
            .into_iter()
            .filter(|f| !is_test_file(&f.path))
            .map(|f| FileCoverage {
                path: f.path,
                covered: f.covered.into_iter().collect(),
                not_covered: f.not_covered.into_iter().collect(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        report.coverage = Some(files);
    }
    Ok(report)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The data document of a test folder, as `opa test DIR` loads it: every JSON/YAML file under `dir` at the
/// path of its folder relative to `dir`, merged into `base`.
pub fn load_data_dir(dir: &Path, base: &mut serde_json::Value) -> Result<(), TestError> {
    crate::engine::load::load_data(&[dir.to_path_buf()], base)
        .map_err(|e| TestError::Data(e.to_string()))
}

/// Reads every `*.rego` file under `dir` (recursively, sorted) as `(path, content)`.
pub fn load_dir(dir: &Path) -> Result<Vec<(String, String)>, TestError> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), TestError> {
        let shown = dir.display().to_string();
        let rd = std::fs::read_dir(dir).map_err(|e| TestError::Io {
            path: shown.clone(),
            message: format!("cannot read directory: {e}"),
        })?;
        let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "rego") {
                let content = std::fs::read_to_string(&p).map_err(|e| TestError::Io {
                    path: p.display().to_string(),
                    message: format!("cannot read: {e}"),
                })?;
                out.push((p.display().to_string(), content));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "package demo\n\nviolation contains \"no\" if {\n  input.x == 1\n}\n\nhelper(v) := y if {\n  y := v * 2\n}\n";
    const TESTS: &str = "package demo_test\n\nimport data.demo\n\ntest_flags_one if {\n  count(demo.violation) == 1 with input as {\"x\": 1}\n}\n\ntest_wrong if {\n  print(\"checking\")\n  count(demo.violation) == 1 with input as {\"x\": 2}\n}\n\ntest_error if {\n  1 / 0\n}\n";

    fn files() -> Vec<(String, String)> {
        vec![
            ("demo.rego".into(), RULE.into()),
            ("demo_test.rego".into(), TESTS.into()),
        ]
    }

    #[test]
    fn reports_pass_fail_and_output_per_test() {
        let r = run_tests(&files(), serde_json::json!({}), None, false).unwrap();
        let got: Vec<(&str, &TestOutcome)> = r
            .cases
            .iter()
            .map(|c| (c.name.as_str(), &c.outcome))
            .collect();
        assert_eq!(
            got[0],
            ("data.demo_test.test_flags_one", &TestOutcome::Pass)
        );
        assert_eq!(got[1], ("data.demo_test.test_wrong", &TestOutcome::Fail));
        assert_eq!(r.cases[1].file, "demo_test.rego");
        assert_eq!(r.cases[1].line, 9);
        assert!(
            r.cases[1].output.iter().any(|o| o.contains("checking")),
            "{:?}",
            r.cases[1].output
        );
        assert!(!r.ok());
        assert_eq!(r.passed(), 1);
    }

    #[test]
    fn filter_and_coverage() {
        let re = Regex::new("flags").unwrap();
        let r = run_tests(&files(), serde_json::json!({}), Some(&re), true).unwrap();
        assert_eq!(r.cases.len(), 1);
        assert!(r.ok());
        let cov = r.coverage.unwrap();
        assert_eq!(cov.len(), 1, "test files are not in the coverage report");
        assert_eq!(cov[0].path, "demo.rego");
        assert!(cov[0].covered.contains(&4), "{:?}", cov[0]);
        assert!(cov[0].not_covered.contains(&8), "{:?}", cov[0]);
    }

    #[test]
    fn a_syntax_error_names_the_file() {
        let bad = vec![(
            "bad.rego".to_string(),
            "package x\n\nallow if {".to_string(),
        )];
        let e = run_tests(&bad, serde_json::json!({}), None, false).unwrap_err();
        assert!(e.to_string().starts_with("bad.rego:3: "), "{e}");
    }
}

#[cfg(test)]
mod load_dir_tests {
    use super::*;

    #[test]
    fn load_dir_reads_rego_recursively_sorted_and_names_missing_dirs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.rego"), "package b\n").unwrap();
        std::fs::write(dir.path().join("sub/a_test.rego"), "package a_test\n").unwrap();
        std::fs::write(dir.path().join("notes.md"), "not rego").unwrap();
        let files = load_dir(dir.path()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|(p, _)| {
                p.strip_prefix(&dir.path().display().to_string())
                    .unwrap_or(p)
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            vec!["/b.rego".to_string(), "/sub/a_test.rego".to_string()]
        );
        let e = load_dir(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing") && e.contains("cannot read directory"),
            "{e}"
        );
    }
}
