//! The loaded, compiled bundle as data: what [`PolicyEngine::load`] builds and evaluation reads. Loading and
//! evaluating live in `engine/mod.rs` and `engine/eval.rs`; this file only holds the state and its read-only views,
//! so evaluation can depend on it without depending back on the code that calls evaluation.

use crate::engine::conftest;
use crate::engine::input_fields;
use crate::engine::load::PolicyFile;
use crate::engine::metadata::RuleMeta;
use crate::engine::vm::CompiledProgram;
use crate::model::decision::RuleInfo;
use crate::model::exception::Exception;
use crate::model::TierCatalogue;

/// A loaded, compiled bundle. Cheap to share; `evaluate` takes `&self`.
pub struct PolicyEngine {
    /// All modules plus the aggregator and static data, without `data.dbplatform.now`.
    pub(crate) base: regorus::Engine,
    pub(crate) rules: Vec<RuleMeta>,
    pub(crate) files: Vec<PolicyFile>,
    pub(crate) bundle_hash: String,
    pub(crate) tiers: TierCatalogue,
    pub(crate) exceptions: Vec<Exception>,
    /// conftest namespaces to evaluate on the raw plan (empty = none).
    pub(crate) conftest_namespaces: Vec<conftest::Namespace>,
    /// The aggregator compiled for the VM at load, shared by every later evaluation (`None`: the bundle needs the
    /// interpreter).
    pub(crate) program: Option<CompiledProgram>,
    /// Evaluate with the tree-walking interpreter even when the bundle compiles to the VM (for comparison).
    pub(crate) interpreter_only: bool,
    /// The parts of `input` the modules can read; the rest is left out of each document handed to them.
    pub(crate) input_selection: input_fields::Selection,
}

impl PolicyEngine {
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
    pub(crate) fn rule_infos(&self) -> Vec<RuleInfo> {
        let mut v: Vec<RuleInfo> = self.rules.iter().map(RuleMeta::info).collect();
        v.extend(
            self.conftest_namespaces
                .iter()
                .flat_map(conftest::Namespace::infos),
        );
        v
    }
}
