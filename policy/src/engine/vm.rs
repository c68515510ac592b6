//! The bundle's aggregator compiled to regorus' register VM (RVM), once per loaded engine, and the evaluators that
//! run it: a plan with one resource (the provider, per planned resource) or thousands (`dbpolicy check`) pays the
//! compile once, and each evaluation only sets `data.dbplatform.now` and the input.

use crate::engine::load::AGGREGATOR_RULE;
use crate::engine::EngineError;

/// The aggregator compiled for the VM, with the bundle's data (`data.dbplatform.now` set to a placeholder that
/// [`CompiledProgram::data_at`] replaces per evaluation).
pub(crate) struct CompiledProgram {
    policy: regorus::CompiledPolicy,
    program: std::sync::Arc<regorus::rvm::Program>,
    data: regorus::Value,
}

/// Compiles the prepared engine's aggregator for the VM; `None` when the bundle uses something the VM
/// compiler does not support (then the interpreter evaluates, with the same results).
pub(crate) fn compile_program(prepared: &regorus::Engine) -> Option<CompiledProgram> {
    let mut e = prepared.clone();
    let data = e.get_data();
    let entry: regorus::Rc<str> = regorus::Rc::from(AGGREGATOR_RULE);
    let policy = e.compile_with_entrypoint(&entry).ok()?;
    let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
        &policy,
        &[AGGREGATOR_RULE],
    )
    .ok()?;
    Some(CompiledProgram {
        policy,
        program,
        data,
    })
}

impl CompiledProgram {
    /// The bundle's data with `data.dbplatform.now` = `now` (RFC 3339, seconds): rules never read the clock.
    pub(crate) fn data_at(&self, now: &str) -> Result<regorus::Value, EngineError> {
        let fail = |message: String| EngineError::Data {
            path: "data.dbplatform.now".into(),
            message,
        };
        let mut data = self.data.clone();
        let dbplatform = data
            .as_object_mut()
            .map_err(|e| fail(e.to_string()))?
            .get_mut(&regorus::Value::from("dbplatform"))
            .ok_or_else(|| fail("the bundle data has no `dbplatform` document".into()))?;
        dbplatform
            .as_object_mut()
            .map_err(|e| fail(e.to_string()))?
            .insert(regorus::Value::from("now"), regorus::Value::from(now));
        Ok(data)
    }
}

/// What each evaluation thread builds its [`Evaluator`] from.
pub(crate) enum Source<'a> {
    /// The compiled program and its data for this evaluation's "now".
    Vm(&'a CompiledProgram, regorus::Value),
    /// A prepared engine (with "now" in its data) for the tree-walking interpreter.
    Interpreter(&'a regorus::Engine),
}

/// One worker's evaluator.
pub(crate) enum Evaluator {
    Interpreter(Box<regorus::Engine>),
    Vm(Box<regorus::rvm::RegoVM>),
}

impl Evaluator {
    pub(crate) fn new(source: &Source) -> Result<Self, EngineError> {
        match source {
            Source::Vm(c, data) => {
                let mut vm = regorus::rvm::RegoVM::new_with_policy(c.policy.clone());
                // No instruction budget: the interpreter has none, and a resource with many tags or
                // parameters must not turn into an evaluation error.
                vm.set_max_instructions(usize::MAX);
                vm.load_program(c.program.clone());
                vm.set_data(data.clone()).map_err(|e| EngineError::Eval {
                    address: "<bundle>".into(),
                    message: format!("cannot load data into the policy VM: {e}"),
                })?;
                Ok(Evaluator::Vm(Box::new(vm)))
            }
            Source::Interpreter(prepared) => {
                Ok(Evaluator::Interpreter(Box::new((*prepared).clone())))
            }
        }
    }

    /// `[rule_id, violations]` pairs for one input document.
    pub(crate) fn eval(&mut self, input: regorus::Value) -> Result<regorus::Value, String> {
        match self {
            Evaluator::Interpreter(e) => {
                e.set_input(input);
                e.eval_rule(AGGREGATOR_RULE.to_string())
                    .map_err(|e| e.to_string())
            }
            Evaluator::Vm(vm) => {
                vm.set_input(input);
                vm.execute_entry_point_by_name(AGGREGATOR_RULE)
                    .map_err(|e| e.to_string())
            }
        }
    }
}
