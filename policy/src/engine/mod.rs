//! The policy engine: bundles, METADATA, prepared engines, evaluation, unknowns, exceptions, overrides.
//!
//! A small synchronous facade over regorus, shared by `dbpolicy check` and the provider at plan time:
//! [`PolicyEngine::load`] compiles the bundle once; [`PolicyEngine::evaluate`] turns inputs into a
//! [`Decision`]. Time is passed in ([`EvalContext::now`]); rules never read the clock.

mod compiled;
mod conftest;
mod context;
mod error;
mod eval;
pub mod extensions;
mod input_fields;
pub mod load;
pub mod metadata;
pub(crate) mod order;
mod rego_metadata;
pub mod source;
pub mod testing;
pub(crate) mod to_value;
mod vm;

use std::path::PathBuf;

pub use compiled::PolicyEngine;
pub use context::{EvalContext, OnUnknown};
pub use error::EngineError;
pub(crate) use eval::retally;
pub use eval::unknown_fails;
pub use metadata::RuleMeta;
pub use source::RegoVersion;

use crate::engine::load::{PolicyFile, ScannedModule};
use crate::model::decision::Decision;
use crate::model::exception::ExceptionsFile;
use crate::model::input::Input;
use crate::model::TierCatalogue;

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
    /// Extra JSON/YAML data documents (files at `data`, directories by folder path) merged into `data`.
    pub data_files: Vec<PathBuf>,
    /// Rego version of the `--policy` modules (the embedded bundle is always v1).
    pub rego_version: RegoVersion,
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
            rego_version: RegoVersion::Auto,
            namespaces: vec![],
            all_namespaces: false,
        }
    }
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

        // A --policy directory with neither dbplatform rules nor a selected namespace is a library (helper
        // packages), unless it holds conftest-style rules nobody asked for: then say how to run them.
        for dir in &opts.extra_dirs {
            let has_rule = rules.iter().any(|r| {
                modules
                    .iter()
                    .any(|m| m.file.path == r.file && m.file.dir.as_deref() == Some(dir))
            });
            let has_conftest = conftest_namespaces.iter().any(|n| n.dirs.contains(dir));
            let unselected = modules.iter().any(|m| {
                m.file.dir.as_deref() == Some(dir)
                    && !load::is_rule_package(&m.scan.package)
                    && m.scan
                        .rule_names
                        .iter()
                        .any(|r| conftest::is_conftest_rule(r))
            });
            if !has_rule && !has_conftest && unselected && conftest_namespaces.is_empty() {
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
        extensions::register(&mut engine)?;
        let sources: Vec<load::ModuleSource> = modules
            .iter()
            .map(|m| load::ModuleSource {
                path: &m.file.path,
                content: &m.file.content,
                always_v1: m.file.dir.is_none(),
            })
            .collect();
        let compiled = load::add_modules(&mut engine, &sources, opts.rego_version)?;
        let aggregator = load::aggregator_module(&rules);
        let input_selection = input_fields::input_selection(
            compiled
                .iter()
                .map(String::as_str)
                .chain([aggregator.as_str()]),
        );
        engine
            .add_policy("<generated aggregator>".into(), aggregator)
            .map_err(|e| EngineError::rego("<generated aggregator>", e))?;
        let mut data = serde_json::json!({"dbplatform": {"tiers": opts.tiers.to_json()}});
        load::load_data(&opts.data_files, &mut data)?;
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

        let mut pe = PolicyEngine {
            base: engine,
            program: None,
            rules,
            files,
            bundle_hash,
            tiers: opts.tiers.clone(),
            exceptions,
            conftest_namespaces,
            interpreter_only: false,
            input_selection,
        };
        // Compile now so errors (unknown functions, conflicting rules) surface at load, with their file; the VM
        // program is compiled once here and shared by every evaluation (only `now` changes between them).
        let prepared = pe.prepared(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)?;
        pe.program = vm::compile_program(&prepared);
        Ok(pe)
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

    /// The VM program to evaluate inputs with, unless the bundle needs the interpreter or it was asked for.
    fn vm_program(&self) -> Option<&vm::CompiledProgram> {
        self.program.as_ref().filter(|_| !self.interpreter_only)
    }

    /// What evaluation threads build their evaluators from: the VM program with "now" in its data, or else
    /// `prepared` (which the caller made for `ctx.now`; made here when missing).
    fn source<'a>(
        &'a self,
        ctx: &EvalContext,
        prepared: Option<&'a regorus::Engine>,
    ) -> Result<vm::Source<'a>, EngineError> {
        match (self.vm_program(), prepared) {
            (Some(p), _) => {
                let now = ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                Ok(vm::Source::Vm(p, p.data_at(&now)?))
            }
            (None, Some(e)) => Ok(vm::Source::Interpreter(e)),
            (None, None) => Err(EngineError::Eval {
                address: "<bundle>".into(),
                message: "internal error: no prepared engine for the interpreter".into(),
            }),
        }
    }

    /// Evaluates normalized inputs (one per resource) into a decision, for the engine's own tests: every other
    /// caller goes through [`crate::gate::decide`], the one place overrides are checked and decisions recorded.
    #[cfg(test)]
    pub(crate) fn evaluate(
        &self,
        inputs: &[Input],
        ctx: &EvalContext,
    ) -> Result<Decision, EngineError> {
        self.evaluate_with_raw(inputs, &[], ctx)
    }

    /// Like [`evaluate`](Self::evaluate), and also runs the conftest-style namespaces on each raw plan JSON
    /// (named by its origin in results) when any were selected.
    #[cfg(test)]
    pub(crate) fn evaluate_with_raw(
        &self,
        inputs: &[Input],
        raws: &[(&serde_json::Value, &str)],
        ctx: &EvalContext,
    ) -> Result<Decision, EngineError> {
        let prepared = self.prepared(ctx.now)?;
        let evaluated = eval::Evaluated::of(self, inputs.iter());
        let source = self.source(ctx, Some(&prepared))?;
        let mut results = eval::evaluate_inputs(self, &source, inputs.iter().collect(), ctx)?;
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

    /// The raw plan JSON text as an input for conftest-style rules, for [`crate::gate::GateRequest`]:
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

    /// Evaluates the inputs (each dropped as soon as it is evaluated) and each raw plan already converted by
    /// [`conftest_input`](Self::conftest_input) (dropped once its namespaces are), so a large plan's inputs and
    /// its results are never all in memory together. Only the gate calls this: it has checked `ctx.overrides`
    /// (naming each one's origin in its errors) and records the decision.
    pub(crate) fn evaluate_values(
        &self,
        inputs: Vec<Input>,
        raws: Vec<(regorus::Value, String)>,
        ctx: &EvalContext,
    ) -> Result<Decision, EngineError> {
        // The interpreter (conftest namespaces, or a bundle the VM cannot run) needs an engine with "now" in its
        // data, compiled for this evaluation; the VM needs only its program, compiled at load.
        let prepared = if self.has_conftest() || self.vm_program().is_none() {
            Some(self.prepared(ctx.now)?)
        } else {
            None
        };
        let evaluated = eval::Evaluated::of(self, inputs.iter());
        let slots: Vec<Option<Input>> = inputs.into_iter().map(Some).collect();
        let source = self.source(ctx, prepared.as_ref())?;
        let mut results = eval::evaluate_inputs(self, &source, slots, ctx)?;
        drop(source);
        if let Some(prepared) = prepared.as_ref().filter(|_| self.has_conftest()) {
            for (raw, origin) in raws {
                results.extend(conftest::evaluate_value(
                    &self.conftest_namespaces,
                    prepared,
                    raw,
                    &origin,
                )?);
            }
        }
        Ok(eval::finish(self, &evaluated, results, ctx))
    }
}

#[cfg(test)]
mod tests;
