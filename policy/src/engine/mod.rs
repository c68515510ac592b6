//! The policy engine: bundles, METADATA, prepared engines, evaluation, unknowns, exceptions, overrides.
//!
//! A small synchronous facade over regorus, shared by `dbpolicy check` and the provider at plan time:
//! [`PolicyEngine::load`] compiles the bundle once; [`PolicyEngine::evaluate`] turns inputs into a
//! [`Decision`]. Time is passed in ([`EvalContext::now`]); rules never read the clock.

mod conftest;
mod error;
mod eval;
mod input_fields;
pub mod load;
pub mod metadata;
pub mod testing;

use std::path::PathBuf;

pub use error::EngineError;
pub use eval::unknown_fails;
pub use metadata::RuleMeta;

use crate::engine::load::{PolicyFile, ScannedModule};
use crate::model::decision::{Decision, Override, RuleInfo};
use crate::model::exception::{Exception, ExceptionsFile};
use crate::model::input::Input;
use crate::model::TierCatalogue;

/// How to treat a result whose outcome depends on values known only after apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnUnknown {
    /// Unknown results never fail the check.
    Warn,
    /// Unknown results of every non-advisory rule fail the check.
    Fail,
}

/// What to load: which directories, which data, which exceptions.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `--policy` directories (recursive `*.rego`; `*_test.rego` is not evaluated).
    pub extra_dirs: Vec<PathBuf>,
    /// Whether the embedded default bundle is loaded.
    pub include_default_bundle: bool,
    /// The tier catalogue, exposed to rules as `data.dbplatform.tiers`.
    pub tiers: TierCatalogue,
    /// YAML or JSON exceptions file.
    pub exceptions_file: Option<PathBuf>,
    /// Extra JSON/YAML data documents merged into `data`.
    pub data_files: Vec<PathBuf>,
    /// conftest compatibility: namespaces whose `deny`/`violation`/`warn` rules run on the raw plan JSON.
    pub namespaces: Vec<String>,
    /// conftest compatibility: every package of the `--policy` dirs with `deny`/`violation`/`warn` rules.
    pub all_namespaces: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            extra_dirs: vec![],
            include_default_bundle: true,
            tiers: TierCatalogue::embedded(),
            exceptions_file: None,
            data_files: vec![],
            namespaces: vec![],
            all_namespaces: false,
        }
    }
}

/// Per-evaluation context given by the host.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// "now" as seen by rules (`data.dbplatform.now`) and exception expiry.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Soft-mandatory overrides.
    pub overrides: Vec<Override>,
    /// None = fail for hard-mandatory rules, warn otherwise.
    pub on_unknown: Option<OnUnknown>,
    /// `cli` or `provider`, recorded in the decision.
    pub source: String,
}

/// A loaded, compiled bundle. Cheap to share; `evaluate` takes `&self`.
pub struct PolicyEngine {
    /// All modules plus the aggregator and static data, without `data.dbplatform.now`.
    base: regorus::Engine,
    rules: Vec<RuleMeta>,
    files: Vec<PolicyFile>,
    bundle_hash: String,
    tiers: TierCatalogue,
    exceptions: Vec<Exception>,
    /// conftest namespaces to evaluate on the raw plan (empty = none).
    conftest_namespaces: Vec<conftest::Namespace>,
    /// Evaluate with the tree-walking interpreter even when the bundle compiles to the VM (for comparison).
    interpreter_only: bool,
    /// The parts of `input` the modules can read; the rest is left out of each document handed to them.
    input_selection: input_fields::Selection,
}

/// The files of the embedded default bundle.
fn embedded_files() -> Vec<PolicyFile> {
    crate::bundle::default_files()
        .into_iter()
        .map(|f| PolicyFile {
            path: format!("bundle/{}", f.path),
            content: f.content.to_string(),
            dir: None,
        })
        .collect()
}

impl PolicyEngine {
    /// Loads and compiles the bundle; every problem is an [`EngineError`] naming file and line.
    pub fn load(opts: &EngineOptions) -> Result<PolicyEngine, EngineError> {
        let mut files: Vec<PolicyFile> = if opts.include_default_bundle {
            embedded_files()
        } else {
            vec![]
        };
        for dir in &opts.extra_dirs {
            let found = load::read_dir(dir)?;
            if found.iter().all(PolicyFile::is_test) {
                return Err(EngineError::NoRules(format!(
                    "{}: no .rego policy files found (only *_test.rego or nothing); point --policy at a directory of rule modules",
                    dir.display()
                )));
            }
            files.extend(found);
        }
        let bundle_hash = load::bundle_hash(&files);
        let modules: Vec<ScannedModule> = files
            .iter()
            .filter(|f| !f.is_test())
            .map(|f| ScannedModule {
                file: f.clone(),
                scan: metadata::scan(&f.content),
            })
            .collect();
        for m in &modules {
            if m.scan.package.is_empty() {
                return Err(EngineError::Rego {
                    location: format!("{}:1", m.file.path),
                    message: "no `package` statement".into(),
                });
            }
        }
        let rules = load::collect_rules(&modules)?;
        let conftest_namespaces = conftest::select(
            &modules,
            &opts.namespaces,
            opts.all_namespaces,
            &opts.extra_dirs,
        )?;

        // Every --policy directory must contribute something we can query.
        for dir in &opts.extra_dirs {
            let has_rule = rules.iter().any(|r| {
                modules
                    .iter()
                    .any(|m| m.file.path == r.file && m.file.dir.as_deref() == Some(dir))
            });
            let has_conftest = conftest_namespaces.iter().any(|n| n.dirs.contains(dir));
            if !has_rule && !has_conftest {
                return Err(EngineError::NoRules(format!(
                    "{}: defines no rule we can query (no dbplatform.rules.* module with `violation`); \
                     for conftest-style deny/warn rules pass --namespace NS or --all-namespaces",
                    dir.display()
                )));
            }
        }
        if rules.is_empty() && conftest_namespaces.is_empty() {
            return Err(EngineError::NoRules(
                "no rules to evaluate: the bundle defines no dbplatform rules and no conftest namespace was selected; drop --no-default-bundle or add --policy DIR".into(),
            ));
        }

        let mut engine = regorus::Engine::new();
        for m in &modules {
            engine
                .add_policy(m.file.path.clone(), m.file.content.clone())
                .map_err(|e| EngineError::rego(&m.file.path, e))?;
        }
        let aggregator = load::aggregator_module(&rules);
        let input_selection = input_fields::input_selection(
            modules
                .iter()
                .map(|m| m.file.content.as_str())
                .chain([aggregator.as_str()]),
        );
        engine
            .add_policy("<generated aggregator>".into(), aggregator)
            .map_err(|e| EngineError::rego("<generated aggregator>", e))?;
        let mut data = serde_json::json!({"dbplatform": {"tiers": opts.tiers.to_json()}});
        for f in &opts.data_files {
            merge_data(&mut data, read_data_file(f)?, &f.display().to_string())?;
        }
        engine
            .add_data(regorus::Value::from(data))
            .map_err(|e| EngineError::Data {
                path: "--data".into(),
                message: e.to_string(),
            })?;

        let exceptions = match &opts.exceptions_file {
            Some(p) => {
                let origin = p.display().to_string();
                let list = ExceptionsFile::load(p)?;
                for e in &list {
                    if !rules.iter().any(|r| r.id == e.rule) {
                        return Err(EngineError::UnknownRule {
                            origin: format!("{origin}: exception {}", e.id),
                            rule_id: e.rule.clone(),
                        });
                    }
                }
                list
            }
            None => vec![],
        };

        let pe = PolicyEngine {
            base: engine,
            rules,
            files,
            bundle_hash,
            tiers: opts.tiers.clone(),
            exceptions,
            conftest_namespaces,
            interpreter_only: false,
            input_selection,
        };
        // Compile now so errors (unknown functions, conflicting rules) surface at load, with their file.
        pe.prepared(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)?;
        Ok(pe)
    }

    /// Forces the tree-walking interpreter instead of the compiled VM; results are the same, only slower.
    pub fn set_interpreter_only(&mut self, on: bool) {
        self.interpreter_only = on;
    }

    /// The rules of the bundle, sorted by id.
    pub fn rules(&self) -> &[RuleMeta] {
        &self.rules
    }

    /// A rule by id.
    pub fn rule(&self, id: &str) -> Option<&RuleMeta> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The bundle's files (including `*_test.rego`), for `explain` and `test`.
    pub fn files(&self) -> &[PolicyFile] {
        &self.files
    }

    /// sha256 over the sorted (path, content) of every policy file.
    pub fn bundle_hash(&self) -> &str {
        &self.bundle_hash
    }

    /// Whether conftest-style namespaces are evaluated on the raw plan.
    pub fn has_conftest(&self) -> bool {
        !self.conftest_namespaces.is_empty()
    }

    /// Rule list for the decision, including conftest pseudo-rules.
    fn rule_infos(&self) -> Vec<RuleInfo> {
        let mut v: Vec<RuleInfo> = self.rules.iter().map(RuleMeta::info).collect();
        v.extend(
            self.conftest_namespaces
                .iter()
                .flat_map(conftest::Namespace::infos),
        );
        v
    }

    /// A clone of the compiled engine with `now` set, compiled (so clones are ready to evaluate).
    fn prepared(&self, now: chrono::DateTime<chrono::Utc>) -> Result<regorus::Engine, EngineError> {
        let mut e = self.base.clone();
        let now_s = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        e.add_data(regorus::Value::from(
            serde_json::json!({"dbplatform": {"now": now_s}}),
        ))
        .map_err(|err| EngineError::Data {
            path: "data.dbplatform.now".into(),
            message: err.to_string(),
        })?;
        e.set_input(regorus::Value::new_object());
        e.eval_rule(load::AGGREGATOR_RULE.to_string())
            .map_err(|err| EngineError::rego("<bundle>", err))?;
        Ok(e)
    }

    /// Evaluates normalized inputs (one per resource) into a decision.
    pub fn evaluate(&self, inputs: &[Input], ctx: &EvalContext) -> Result<Decision, EngineError> {
        self.evaluate_with_raw(inputs, &[], ctx)
    }

    /// Like [`evaluate`](Self::evaluate), and also runs the conftest-style namespaces on each raw plan JSON
    /// (named by its origin in results) when any were selected.
    pub fn evaluate_with_raw(
        &self,
        inputs: &[Input],
        raws: &[(&serde_json::Value, &str)],
        ctx: &EvalContext,
    ) -> Result<Decision, EngineError> {
        self.check_overrides(&ctx.overrides)?;
        let prepared = self.prepared(ctx.now)?;
        let evaluated = eval::Evaluated::of(self, inputs.iter());
        let mut results = eval::evaluate_inputs(self, &prepared, inputs.iter().collect(), ctx)?;
        if self.has_conftest() {
            for (raw, origin) in raws {
                results.extend(conftest::evaluate(
                    &self.conftest_namespaces,
                    &prepared,
                    raw,
                    origin,
                )?);
            }
        }
        Ok(eval::finish(self, &evaluated, results, ctx))
    }

    /// The raw plan JSON text as an input for conftest-style rules, for [`evaluate_with_raw_values`](Self::evaluate_with_raw_values):
    /// converted directly, so a large plan never exists as a `serde_json::Value` tree. `done` is told which bytes
    /// of `text` it has finished reading (see [`crate::adapter::DoneWith`]).
    pub fn conftest_input(
        &self,
        text: &str,
        origin: &str,
        done: crate::adapter::DoneWith<'_>,
    ) -> Result<regorus::Value, EngineError> {
        conftest::plan_value(text, origin, &self.input_selection, done)
    }

    /// Like [`evaluate_with_raw`](Self::evaluate_with_raw) with each raw plan already converted by
    /// [`conftest_input`](Self::conftest_input), taking the inputs: each input is dropped as soon as it is
    /// evaluated, and each raw value once its namespaces are, so a large plan's inputs and its results are
    /// never all in memory together.
    pub fn evaluate_with_raw_values(
        &self,
        inputs: Vec<Input>,
        raws: Vec<(regorus::Value, String)>,
        ctx: &EvalContext,
    ) -> Result<Decision, EngineError> {
        self.check_overrides(&ctx.overrides)?;
        let prepared = self.prepared(ctx.now)?;
        let evaluated = eval::Evaluated::of(self, inputs.iter());
        let slots: Vec<Option<Input>> = inputs.into_iter().map(Some).collect();
        let mut results = eval::evaluate_inputs(self, &prepared, slots, ctx)?;
        if self.has_conftest() {
            for (raw, origin) in raws {
                results.extend(conftest::evaluate_value(
                    &self.conftest_namespaces,
                    &prepared,
                    raw,
                    &origin,
                )?);
            }
        }
        Ok(eval::finish(self, &evaluated, results, ctx))
    }

    fn check_overrides(&self, overrides: &[Override]) -> Result<(), EngineError> {
        for o in overrides {
            let Some(rule) = self.rule(&o.rule_id) else {
                return Err(EngineError::UnknownRule {
                    origin: "--override".into(),
                    rule_id: o.rule_id.clone(),
                });
            };
            if rule.enforcement != crate::model::decision::Enforcement::SoftMandatory {
                return Err(EngineError::Data {
                    path: "--override".into(),
                    message: format!(
                        "rule {} is {}; only soft-mandatory rules can be overridden (use an approved exception instead)",
                        rule.id,
                        rule.enforcement.as_str()
                    ),
                });
            }
            if o.reason.trim().is_empty() || o.by.trim().is_empty() {
                return Err(EngineError::Data {
                    path: "--override".into(),
                    message: format!(
                        "override of {} needs a non-empty --reason and --by",
                        o.rule_id
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Reads a `--data` document (JSON, or YAML for `.yaml`/`.yml`); it must be an object.
fn read_data_file(path: &std::path::Path) -> Result<serde_json::Value, EngineError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| EngineError::Io {
        path: shown.clone(),
        message: format!("cannot read data file: {e}"),
    })?;
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let v: serde_json::Value = if yaml {
        crate::yaml::to_json(&text).map_err(|e| EngineError::Data {
            path: shown.clone(),
            message: format!("not valid YAML: {e}"),
        })?
    } else {
        serde_json::from_str(&text).map_err(|e| EngineError::Data {
            path: shown.clone(),
            message: format!("not valid JSON: {e}"),
        })?
    };
    if !v.is_object() {
        return Err(EngineError::Data {
            path: shown,
            message: "a data file must hold an object at the top level".into(),
        });
    }
    Ok(v)
}

/// Deep-merges `add` into `base`; a conflicting leaf is an error naming the key.
fn merge_data(
    base: &mut serde_json::Value,
    add: serde_json::Value,
    origin: &str,
) -> Result<(), EngineError> {
    fn go(
        base: &mut serde_json::Value,
        add: serde_json::Value,
        path: &str,
        origin: &str,
    ) -> Result<(), EngineError> {
        match (base, add) {
            (serde_json::Value::Object(b), serde_json::Value::Object(a)) => {
                for (k, v) in a {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match b.get_mut(&k) {
                        Some(existing) => go(existing, v, &p, origin)?,
                        None => {
                            b.insert(k, v);
                        }
                    }
                }
                Ok(())
            }
            (b, a) if *b == a => Ok(()),
            _ => Err(EngineError::Data {
                path: origin.into(),
                message: format!("data.{path} conflicts with data already loaded"),
            }),
        }
    }
    go(base, add, "", origin)
}

#[cfg(test)]
mod tests;
