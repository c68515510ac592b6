//! Declarative acceptance tests, modelled on terraform-plugin-testing's `resource.TestCase`: a list of
//! steps run in one working directory (one `terraform init`), each with a config and what the user must
//! see, then a destroy and a check that nothing is left in state — also after a failed step, so a failing
//! test does not leak databases.
//!
//! ```no_run
//! use acceptance_tests::{Check, ExpectPlan, Step, TestCase};
//! TestCase::new()
//!     .step(
//!         Step::apply(r#"data "dbplatform_tier" "t" { name = "tier-1" }
//!                        output "multi_az" { value = data.dbplatform_tier.t.multi_az }"#)
//!             .check(Check::output_equals("multi_az", true)),
//!     )
//!     .run();
//! ```

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::command::TfOutput;
use crate::error::HarnessError;
pub use crate::json::ChangeCounts;
use crate::json::{Plan, State};
use crate::workdir::{Workdir, PLAN_FILE};

/// What the plan of a step must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectPlan {
    /// Exactly these managed-resource change counts (outputs and data source reads are not counted).
    Changes {
        /// Resources to create.
        create: usize,
        /// Resources to update in place.
        update: usize,
        /// Resources to replace.
        replace: usize,
        /// Resources to destroy.
        destroy: usize,
    },
    /// "No changes": no resource and no output would change.
    NoOp,
    /// The command (plan, or apply after a successful plan; validate; import) must exit 1 with output
    /// matching this regex. It is matched against stderr+stdout with Terraform's diagnostic boxes and
    /// line wrapping undone (see [`crate::normalize_diagnostics`]), so write messages on one line.
    Error(String),
}

impl ExpectPlan {
    /// [`ExpectPlan::Error`] from a regex string.
    pub fn error(regex: impl Into<String>) -> Self {
        ExpectPlan::Error(regex.into())
    }

    /// [`ExpectPlan::Changes`] with only creations.
    pub fn creates(n: usize) -> Self {
        ExpectPlan::Changes {
            create: n,
            update: 0,
            replace: 0,
            destroy: 0,
        }
    }
}

/// Import a resource into a fresh, separate state and compare its attributes with the current state
/// (terraform-plugin-testing's `ImportStateVerify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportVerify {
    /// Resource address, e.g. `dbplatform_database.db`.
    pub address: String,
    /// Import ID; `None` takes the resource's `id` attribute from the current state.
    pub id: Option<String>,
    /// Attributes (dotted paths; a path also ignores everything below it) not compared, e.g. write-only
    /// secrets the remote side never returns.
    pub ignore: Vec<String>,
}

type StateFn = Box<dyn Fn(&State) -> Result<(), String> + Send + Sync>;
type PlanFn = Box<dyn Fn(&Plan) -> Result<(), String> + Send + Sync>;
type DirFn = Box<dyn Fn(&Workdir) -> Result<(), String> + Send + Sync>;

/// A check on the state after an apply step (or on the imported state of an import step).
pub enum Check {
    /// Attribute `path` of `address` equals `value` (JSON equality).
    AttrEquals {
        /// Resource address.
        address: String,
        /// Dotted attribute path.
        path: String,
        /// Expected value.
        value: Value,
    },
    /// Attribute `path` of `address` matches a regex (strings as they are, other values as JSON text).
    AttrMatches {
        /// Resource address.
        address: String,
        /// Dotted attribute path.
        path: String,
        /// The regex.
        regex: String,
    },
    /// Attribute `path` of `address` exists and is not null.
    AttrSet {
        /// Resource address.
        address: String,
        /// Dotted attribute path.
        path: String,
    },
    /// Attribute `path` of `address` is null or absent.
    AttrNull {
        /// Resource address.
        address: String,
        /// Dotted attribute path.
        path: String,
    },
    /// Root output `name` equals `value`.
    OutputEquals {
        /// Output name.
        name: String,
        /// Expected value.
        value: Value,
    },
    /// Root output `name` matches a regex (strings as they are, other values as JSON text).
    OutputMatches {
        /// Output name.
        name: String,
        /// The regex.
        regex: String,
    },
    /// Any other check on the state; the `Err` text is the failure message.
    Custom(String, StateFn),
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Custom(name, _) => write!(f, "Custom({name})"),
            other => write!(f, "{}", other.describe()),
        }
    }
}

impl Check {
    /// [`Check::AttrEquals`].
    pub fn attr_equals(address: &str, path: &str, value: impl Into<Value>) -> Self {
        Check::AttrEquals {
            address: address.into(),
            path: path.into(),
            value: value.into(),
        }
    }

    /// [`Check::AttrMatches`].
    pub fn attr_matches(address: &str, path: &str, regex: &str) -> Self {
        Check::AttrMatches {
            address: address.into(),
            path: path.into(),
            regex: regex.into(),
        }
    }

    /// [`Check::AttrSet`].
    pub fn attr_set(address: &str, path: &str) -> Self {
        Check::AttrSet {
            address: address.into(),
            path: path.into(),
        }
    }

    /// [`Check::AttrNull`].
    pub fn attr_null(address: &str, path: &str) -> Self {
        Check::AttrNull {
            address: address.into(),
            path: path.into(),
        }
    }

    /// [`Check::OutputEquals`].
    pub fn output_equals(name: &str, value: impl Into<Value>) -> Self {
        Check::OutputEquals {
            name: name.into(),
            value: value.into(),
        }
    }

    /// [`Check::OutputMatches`].
    pub fn output_matches(name: &str, regex: &str) -> Self {
        Check::OutputMatches {
            name: name.into(),
            regex: regex.into(),
        }
    }

    /// [`Check::Custom`].
    pub fn custom(
        name: &str,
        f: impl Fn(&State) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Check::Custom(name.into(), Box::new(f))
    }

    fn describe(&self) -> String {
        match self {
            Check::AttrEquals {
                address,
                path,
                value,
            } => format!("{address}.{path} == {value}"),
            Check::AttrMatches {
                address,
                path,
                regex,
            } => format!("{address}.{path} =~ /{regex}/"),
            Check::AttrSet { address, path } => format!("{address}.{path} is set"),
            Check::AttrNull { address, path } => format!("{address}.{path} is null"),
            Check::OutputEquals { name, value } => format!("output {name} == {value}"),
            Check::OutputMatches { name, regex } => format!("output {name} =~ /{regex}/"),
            Check::Custom(name, _) => name.clone(),
        }
    }

    /// Evaluates the check; the error says what was expected and what the state holds.
    pub fn evaluate(&self, state: &State) -> Result<(), HarnessError> {
        let fail = |got: String| {
            Err(HarnessError::Expectation(format!(
                "check failed: {}; got {got}",
                self.describe()
            )))
        };
        match self {
            Check::AttrEquals {
                address,
                path,
                value,
            } => {
                let got = state.attr(address, path)?;
                if &got == value {
                    Ok(())
                } else {
                    fail(got.to_string())
                }
            }
            Check::AttrMatches {
                address,
                path,
                regex,
            } => {
                let got = state.attr(address, path)?;
                if compile(regex)?.is_match(&as_text(&got)) {
                    Ok(())
                } else {
                    fail(got.to_string())
                }
            }
            Check::AttrSet { address, path } => match state.attr(address, path)? {
                Value::Null => fail("null".into()),
                _ => Ok(()),
            },
            Check::AttrNull { address, path } => match state.attr(address, path) {
                Ok(Value::Null) => Ok(()),
                Ok(got) => fail(got.to_string()),
                Err(_) if state.resource(address).is_some() => Ok(()),
                Err(e) => Err(e),
            },
            Check::OutputEquals { name, value } => match state.output(name) {
                Some(got) if got == value => Ok(()),
                Some(got) => fail(got.to_string()),
                None => fail(format!(
                    "no such output; outputs are {:?}",
                    state.outputs().keys().collect::<Vec<_>>()
                )),
            },
            Check::OutputMatches { name, regex } => match state.output(name) {
                Some(got) if compile(regex)?.is_match(&as_text(got)) => Ok(()),
                Some(got) => fail(got.to_string()),
                None => fail(format!(
                    "no such output; outputs are {:?}",
                    state.outputs().keys().collect::<Vec<_>>()
                )),
            },
            Check::Custom(_, f) => f(state).map_err(|msg| {
                HarnessError::Expectation(format!("check failed: {}: {msg}", self.describe()))
            }),
        }
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compile(regex: &str) -> Result<Regex, HarnessError> {
    Regex::new(regex)
        .map_err(|e| HarnessError::Expectation(format!("invalid regex /{regex}/ in the test: {e}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Apply,
    PlanOnly,
    Validate,
    Import,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Apply => "apply",
            Mode::PlanOnly => "plan",
            Mode::Validate => "validate",
            Mode::Import => "import",
        }
    }
}

/// One step of a [`TestCase`]: a config, a command (apply / plan / validate / import) and expectations.
pub struct Step {
    mode: Mode,
    config: Option<String>,
    files: Vec<(String, String)>,
    env: Vec<(String, String)>,
    expect: Option<ExpectPlan>,
    checks: Vec<Check>,
    plan_checks: Vec<(String, PlanFn)>,
    import: Option<ImportVerify>,
    non_empty_plan_after_apply: bool,
}

impl Step {
    fn new(mode: Mode, config: Option<String>) -> Self {
        Step {
            mode,
            config,
            files: Vec::new(),
            env: Vec::new(),
            expect: None,
            checks: Vec::new(),
            plan_checks: Vec::new(),
            import: None,
            non_empty_plan_after_apply: false,
        }
    }

    /// Plan then apply `config`; afterwards a fresh plan must be empty (unless
    /// [`Step::expect_non_empty_plan_after_apply`]).
    pub fn apply(config: impl Into<String>) -> Self {
        Step::new(Mode::Apply, Some(config.into()))
    }

    /// Plan `config` without applying it.
    pub fn plan_only(config: impl Into<String>) -> Self {
        Step::new(Mode::PlanOnly, Some(config.into()))
    }

    /// `terraform validate` on `config`.
    pub fn validate(config: impl Into<String>) -> Self {
        Step::new(Mode::Validate, Some(config.into()))
    }

    /// Import into a fresh state with the current config and compare with the current state.
    pub fn import_verify(import: ImportVerify) -> Self {
        let mut s = Step::new(Mode::Import, None);
        s.import = Some(import);
        s
    }

    /// Replaces this step's config (for an import step: import against another config).
    pub fn config(mut self, config: impl Into<String>) -> Self {
        self.config = Some(config.into());
        self
    }

    /// What the plan (or command) must show.
    pub fn expect(mut self, expect: ExpectPlan) -> Self {
        self.expect = Some(expect);
        self
    }

    /// A check on the state after this step.
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// A check on this step's plan JSON (before any apply).
    pub fn plan_check(
        mut self,
        name: &str,
        f: impl Fn(&Plan) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.plan_checks.push((name.to_string(), Box::new(f)));
        self
    }

    /// An environment variable for this step's commands only.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// An extra file written into the working directory before this step.
    pub fn file(mut self, name: impl Into<String>, content: impl Into<String>) -> Self {
        self.files.push((name.into(), content.into()));
        self
    }

    /// After apply, a fresh plan is expected to show changes (and an empty one is an error).
    pub fn expect_non_empty_plan_after_apply(mut self) -> Self {
        self.non_empty_plan_after_apply = true;
        self
    }

    fn run(&self, wd: &Workdir) -> Result<(), HarnessError> {
        if let Some(config) = &self.config {
            wd.write_config(config)?;
            if config.contains("module \"") {
                wd.run_ok_env(&["get", "-no-color"], &self.env)?;
            }
        }
        for (name, content) in &self.files {
            wd.write_file(name, content)?;
        }
        match self.mode {
            Mode::Validate => self.run_validate(wd),
            Mode::Import => self.run_import(wd),
            Mode::Apply | Mode::PlanOnly => self.run_plan_apply(wd),
        }
    }

    fn expected_error(&self) -> Option<&str> {
        match &self.expect {
            Some(ExpectPlan::Error(re)) => Some(re),
            _ => None,
        }
    }

    /// Handles the end of a command that may be expected to fail: `Ok(true)` when the step is over (an
    /// expected error was seen), `Ok(false)` to go on.
    fn settle(&self, out: TfOutput, what: &str, last: bool) -> Result<bool, HarnessError> {
        match (out.success(), self.expected_error()) {
            (true, Some(re)) if last => Err(out.into_error(format!(
                "expected {what} to fail with an error matching /{re}/, but it succeeded"
            ))),
            (true, _) => Ok(false),
            (false, Some(re)) => {
                expect_error(out, re, what)?;
                Ok(true)
            }
            (false, None) => Err(out.into_error(format!("terraform {what} failed"))),
        }
    }

    fn run_validate(&self, wd: &Workdir) -> Result<(), HarnessError> {
        let out = wd.run_env(&["validate", "-no-color"], &self.env)?;
        self.settle(out, "validate", true)?;
        Ok(())
    }

    fn run_plan_apply(&self, wd: &Workdir) -> Result<(), HarnessError> {
        let apply = self.mode == Mode::Apply;
        let out = wd.plan_env(&self.env)?;
        if self.settle(out, "plan", !apply)? {
            return Ok(());
        }
        let needs_json = matches!(
            self.expect,
            Some(ExpectPlan::Changes { .. }) | Some(ExpectPlan::NoOp)
        ) || !self.plan_checks.is_empty();
        if needs_json {
            let plan = wd.show_plan_env(&self.env)?;
            check_plan(&plan, self.expect.as_ref())?;
            for (name, f) in &self.plan_checks {
                f(&plan).map_err(|msg| {
                    HarnessError::Expectation(format!("plan check {name} failed: {msg}"))
                })?;
            }
        }
        if apply {
            let out = wd.run_env(
                &[
                    "apply",
                    "-input=false",
                    "-no-color",
                    "-auto-approve",
                    PLAN_FILE,
                ],
                &self.env,
            )?;
            if self.settle(out, "apply", true)? {
                return Ok(());
            }
        }
        if !self.checks.is_empty() {
            let state = wd.show_state_env(&self.env)?;
            for check in &self.checks {
                check.evaluate(&state)?;
            }
        }
        if apply {
            self.plan_after_apply(wd)?;
        }
        Ok(())
    }

    fn plan_after_apply(&self, wd: &Workdir) -> Result<(), HarnessError> {
        let out_flag = format!("-out={PLAN_FILE}");
        let out = wd.run_env(
            &[
                "plan",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                &out_flag,
            ],
            &self.env,
        )?;
        match (out.code, self.non_empty_plan_after_apply) {
            (Some(0), false) | (Some(2), true) => Ok(()),
            (Some(0), true) => Err(out.into_error(
                "expected a non-empty plan after apply, but the plan shows no changes",
            )),
            (Some(2), false) => {
                let changes = wd
                    .show_plan_env(&self.env)
                    .map(|p| p.changes().join("\n  "))
                    .unwrap_or_else(|e| format!("(could not read the plan: {e})"));
                Err(out.into_error(format!(
                    "after apply, a fresh plan is not empty (the provider is not idempotent or drops \
                     values); changes:\n  {changes}"
                )))
            }
            _ => Err(out.into_error("terraform plan after apply failed")),
        }
    }

    fn run_import(&self, wd: &Workdir) -> Result<(), HarnessError> {
        let Some(import) = &self.import else {
            return Err(HarnessError::Expectation(
                "import step without ImportVerify".into(),
            ));
        };
        let current = wd.show_state_env(&self.env)?;
        let before = current.values(&import.address)?.clone();
        let id = match &import.id {
            Some(id) => id.clone(),
            None => match current.attr(&import.address, "id")? {
                Value::String(s) => s,
                other => {
                    return Err(HarnessError::Expectation(format!(
                        "{} has id {other}, not a string: give ImportVerify an explicit id",
                        import.address
                    )))
                }
            },
        };
        let import_state = "import.tfstate";
        let _ = std::fs::remove_file(wd.path().join(import_state));
        let out = wd.run_env(
            &[
                "import",
                "-input=false",
                "-no-color",
                &format!("-state={import_state}"),
                &import.address,
                &id,
            ],
            &self.env,
        )?;
        let done = self.settle(out, "import", true)?;
        let result = if done {
            Ok(())
        } else {
            let imported = State::from_json(
                wd.json_env(&["show", "-json", "-no-color", import_state], &self.env)?,
            );
            let after = imported.values(&import.address)?;
            let diffs = diff_attributes(&before, after, &import.ignore);
            if diffs.is_empty() {
                self.checks.iter().try_for_each(|c| c.evaluate(&imported))
            } else {
                Err(HarnessError::Expectation(format!(
                    "imported {} (id {id:?}) differs from the applied state (ignoring {:?}):\n  {}",
                    import.address,
                    import.ignore,
                    diffs.join("\n  ")
                )))
            }
        };
        let _ = std::fs::remove_file(wd.path().join(import_state));
        let _ = std::fs::remove_file(wd.path().join(format!("{import_state}.backup")));
        result
    }
}

fn check_plan(plan: &Plan, expect: Option<&ExpectPlan>) -> Result<(), HarnessError> {
    match expect {
        Some(ExpectPlan::Changes {
            create,
            update,
            replace,
            destroy,
        }) => {
            let want = ChangeCounts {
                create: *create,
                update: *update,
                replace: *replace,
                destroy: *destroy,
            };
            let got = plan.counts();
            if got == want {
                Ok(())
            } else {
                Err(HarnessError::Expectation(format!(
                    "expected a plan with {want}, got {got}; changes:\n  {}",
                    plan.changes().join("\n  ")
                )))
            }
        }
        Some(ExpectPlan::NoOp) if !plan.is_noop() => Err(HarnessError::Expectation(format!(
            "expected a plan with no changes, got:\n  {}",
            plan.changes().join("\n  ")
        ))),
        _ => Ok(()),
    }
}

/// Checks that a failed command exited 1 with output matching `regex` (wrapping undone).
pub fn expect_error(out: TfOutput, regex: &str, what: &str) -> Result<(), HarnessError> {
    let re = compile(regex)?;
    let text = out.all_normalized();
    if out.code != Some(1) {
        return Err(out.into_error(format!(
            "expected {what} to fail with exit code 1 (an error diagnostic), got another exit"
        )));
    }
    if re.is_match(&text) || re.is_match(&out.stderr) {
        Ok(())
    } else {
        Err(out.into_error(format!(
            "{what} failed as expected, but no error matches /{regex}/; its output with line \
             wrapping undone is:\n{text}"
        )))
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(o) if !o.is_empty() => o.iter().for_each(|(k, v)| flatten(&key(k), v, out)),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten(&key(&i.to_string()), v, out)),
        leaf => {
            if !prefix.is_empty() {
                out.insert(prefix.to_string(), leaf.clone());
            }
        }
    }
}

/// Attribute-by-attribute differences between two resource `values` objects, skipping `ignore` paths (and
/// everything below them), as `path: state=X imported=Y` lines.
pub fn diff_attributes(state: &Value, imported: &Value, ignore: &[String]) -> Vec<String> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", state, &mut a);
    flatten("", imported, &mut b);
    let ignored = |k: &str| {
        ignore.iter().any(|i| {
            k == i
                || k.strip_prefix(i.as_str())
                    .is_some_and(|r| r.starts_with('.'))
        })
    };
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| !ignored(k))
        .filter_map(|k| {
            let (x, y) = (a.get(k), b.get(k));
            (x != y).then(|| {
                let show = |v: Option<&Value>| v.map_or("(absent)".to_string(), Value::to_string);
                format!("{k}: state={} imported={}", show(x), show(y))
            })
        })
        .collect()
}

/// A list of [`Step`]s run in one fresh, initialised working directory, then destroyed.
#[derive(Default)]
pub struct TestCase {
    env: Vec<(String, String)>,
    steps: Vec<Step>,
    check_destroy: Vec<(String, DirFn)>,
}

impl TestCase {
    /// An empty test case.
    pub fn new() -> Self {
        TestCase::default()
    }

    /// An environment variable for every command of the case (including the final destroy).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Appends a step.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// A check run after the final destroy (e.g. "the database directory is gone").
    pub fn check_destroy(
        mut self,
        name: &str,
        f: impl Fn(&Workdir) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.check_destroy.push((name.to_string(), Box::new(f)));
        self
    }

    /// Runs the case and panics with the full failure message (command, exit code, output) on failure.
    /// Set `DBPLATFORM_ACC_KEEP=1` to keep the working directory of a failed case.
    #[track_caller]
    pub fn run(self) {
        if let Err(e) = self.try_run() {
            panic!("{e}");
        }
    }

    /// Runs the case: init, every step, then destroy and the destroy checks (also after a failed step).
    pub fn try_run(self) -> Result<(), HarnessError> {
        let mut wd = Workdir::new()?;
        for (k, v) in &self.env {
            wd.set_env(k.clone(), v.clone());
        }
        let result = wd.init().and_then(|_| {
            self.steps.iter().enumerate().try_for_each(|(i, step)| {
                step.run(&wd).map_err(|e| HarnessError::Step {
                    step: i + 1,
                    kind: step.mode.name(),
                    source: Box::new(e),
                })
            })
        });
        let destroyed = self
            .destroy_and_check(&wd)
            .map_err(|e| HarnessError::Destroy(Box::new(e)));
        let result = match (result, destroyed) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            (Err(first), Err(destroy)) => Err(HarnessError::StepAndDestroy {
                first: Box::new(first),
                destroy: Box::new(destroy),
            }),
        };
        if result.is_err() && std::env::var_os("DBPLATFORM_ACC_KEEP").is_some() {
            eprintln!("[acc] working directory kept at {}", wd.keep().display());
        }
        result
    }

    fn destroy_and_check(&self, wd: &Workdir) -> Result<(), HarnessError> {
        // The state file is read directly: `terraform show -json` would start the provider twice more.
        if !wd.state_file_addresses()?.is_empty() {
            wd.destroy()?;
            let left = wd.state_file_addresses()?;
            if !left.is_empty() {
                return Err(HarnessError::Expectation(format!(
                    "after terraform destroy, state still holds: [{}]",
                    left.join(", ")
                )));
            }
        }
        for (name, f) in &self.check_destroy {
            f(wd).map_err(|msg| {
                HarnessError::Expectation(format!("destroy check {name} failed: {msg}"))
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_attributes_reports_changed_missing_and_skips_ignored_paths() {
        let state = json!({"id": "a", "password": "x", "tags": {"k": "v"}, "n": [1, 2]});
        let imported = json!({"id": "a", "password": null, "tags": {"k": "w"}, "n": [1]});
        let d = diff_attributes(&state, &imported, &["password".into()]);
        assert_eq!(
            d,
            vec![
                "n.1: state=2 imported=(absent)".to_string(),
                "tags.k: state=\"v\" imported=\"w\"".to_string()
            ]
        );
        assert!(diff_attributes(
            &state,
            &imported,
            &["password".into(), "tags".into(), "n".into()]
        )
        .is_empty());
        assert_eq!(
            diff_attributes(&json!({"pass": 1}), &json!({}), &["pa".into()]).len(),
            1
        );
    }

    #[test]
    fn checks_say_what_was_expected_and_what_state_holds() {
        let s = State::from_json(json!({"values": {"outputs": {"multi_az": {"value": false}},
            "root_module": {"resources": [{"address": "data.dbplatform_tier.t", "mode": "data",
            "values": {"name": "tier-1", "min_backup_retention_days": 14, "kms": null}}]}}}));
        assert!(
            Check::attr_equals("data.dbplatform_tier.t", "name", "tier-1")
                .evaluate(&s)
                .is_ok()
        );
        assert!(Check::attr_matches(
            "data.dbplatform_tier.t",
            "min_backup_retention_days",
            "^1[0-9]$"
        )
        .evaluate(&s)
        .is_ok());
        assert!(Check::attr_set("data.dbplatform_tier.t", "name")
            .evaluate(&s)
            .is_ok());
        assert!(Check::attr_null("data.dbplatform_tier.t", "kms")
            .evaluate(&s)
            .is_ok());
        let e = Check::output_equals("multi_az", true)
            .evaluate(&s)
            .expect_err("false != true");
        assert_eq!(
            e.to_string(),
            "check failed: output multi_az == true; got false"
        );
        let e = Check::attr_set("data.dbplatform_tier.t", "kms")
            .evaluate(&s)
            .expect_err("null");
        assert_eq!(
            e.to_string(),
            "check failed: data.dbplatform_tier.t.kms is set; got null"
        );
        let e = Check::output_equals("nope", 1)
            .evaluate(&s)
            .expect_err("absent");
        assert!(
            e.to_string()
                .contains("no such output; outputs are [\"multi_az\"]"),
            "{e}"
        );
        let e = Check::attr_matches("data.dbplatform_tier.t", "name", "(")
            .evaluate(&s)
            .expect_err("bad regex");
        assert!(
            e.to_string().starts_with("invalid regex /(/ in the test"),
            "{e}"
        );
    }

    fn output(code: i32, stderr: &str) -> TfOutput {
        TfOutput {
            command: "terraform plan".into(),
            dir: "/tmp".into(),
            code: Some(code),
            stdout: String::new(),
            stderr: stderr.into(),
            elapsed: std::time::Duration::from_millis(5),
            timed_out: false,
            streams_held_open: false,
        }
    }

    #[test]
    fn expect_error_matches_across_wrapped_lines_and_requires_exit_1() {
        let stderr = "╷\n│ Error: Invalid tier\n│ \n│ \"tier-9\" is not one of tier-0, tier-1,\n│ tier-2, tier-3\n╵\n";
        expect_error(output(1, stderr), "tier-1, tier-2, tier-3", "plan")
            .expect("matches once unwrapped");
        let e = expect_error(output(1, stderr), "tier-4", "plan").expect_err("no match");
        assert!(e.to_string().contains("no error matches /tier-4/"), "{e}");
        assert!(e.to_string().contains("$ terraform plan"), "{e}");
        let e = expect_error(output(2, stderr), "tier-1", "plan").expect_err("exit 2");
        assert!(e.to_string().contains("exit code 2"), "{e}");
    }
}
