//! What a front end asks the gate: the inputs, the overrides (with where each came from), the enforcement mode,
//! "now" and who is asking. Neutral types only, so the policy crate never depends on a front end.

use chrono::{DateTime, Utc};

use crate::engine::OnUnknown;
use crate::gate::EnforcementMode;
use crate::model::baseline::Baseline;
use crate::model::decision::Override;
use crate::model::input::Input;

/// Which front end asks, recorded in the decision and its audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `dbpolicy check`.
    Cli,
    /// The Terraform provider at plan time.
    Provider,
}

impl Source {
    /// The name used in decisions and audit records (`cli`, `provider`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cli => "cli",
            Source::Provider => "provider",
        }
    }
}

/// Who produced the decision, for its audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub source: Source,
    /// Version of the CLI or provider (`env!("CARGO_PKG_VERSION")` of the front end).
    pub version: String,
    /// Terraform workspace (`TF_WORKSPACE`, `--workspace`), when known.
    pub terraform_workspace: Option<String>,
    /// Version of Terraform that produced the plan, when known.
    pub terraform_version: Option<String>,
    /// Bundle name in the record; `dbplatform` when `None`.
    pub bundle_name: Option<String>,
}

impl Provenance {
    /// `source` at `version`, with no Terraform details and the default bundle name.
    pub fn new(source: Source, version: impl Into<String>) -> Self {
        Provenance {
            source,
            version: version.into(),
            terraform_workspace: None,
            terraform_version: None,
            bundle_name: None,
        }
    }
}

/// An override as a front end received it: the override itself and where it was written, so an error can name
/// the place to fix (`--override`, `policy.override[0]`, `DBPLATFORM_OVERRIDES entry 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedOverride {
    pub origin: String,
    pub rule: Override,
}

/// A `--skip-rule` as the caller gave it, with where it was written for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedSkip {
    /// Where it was written (`--skip-rule`).
    pub origin: String,
    pub rule_id: String,
}

/// One evaluation for the gate. Build it with [`GateRequest::new`] and set the fields that differ.
pub struct GateRequest {
    /// Normalized inputs, one per resource; consumed by evaluation (each is dropped once evaluated).
    pub inputs: Vec<Input>,
    /// conftest compatibility: each raw plan as converted by
    /// [`PolicyEngine::conftest_input`](crate::engine::PolicyEngine::conftest_input), with its origin.
    pub raws: Vec<(regorus::Value, String)>,
    /// Resources in the plan when that differs from `inputs.len()` (the CLI counts resources whose inputs it did
    /// not keep because no rule reads them).
    pub resources: Option<usize>,
    pub overrides: Vec<RequestedOverride>,
    pub mode: EnforcementMode,
    /// How unknown-until-apply results count; `None`: fail for hard-mandatory rules, warn otherwise.
    pub on_unknown: Option<OnUnknown>,
    /// "now" for rules (`data.dbplatform.now`), exception expiry and the decision timestamp.
    pub now: DateTime<Utc>,
    pub provenance: Provenance,
    /// `--soft-fail`: recorded in the decision; the outcome is kept, only the front end's exit code changes.
    pub soft_fail: bool,
    /// Rules whose findings the caller skips for this run (never hard-mandatory ones).
    pub skip_rules: Vec<RequestedSkip>,
    /// Findings already accepted: matching ones become `baselined`.
    pub baseline: Option<Baseline>,
    /// Several plan files in one check (`dbpolicy check A.json B.json`): each is evaluated in turn and every
    /// result is labeled with its file (`input`), then they make one decision (one audit record). Used
    /// besides `inputs`/`raws`, which are evaluated first and left unlabeled.
    pub files: Vec<InputFile>,
}

/// One plan file's inputs, for a check of several files.
pub struct InputFile {
    /// The file as named by the caller; written into each of its results.
    pub name: String,
    pub inputs: Vec<Input>,
    /// conftest inputs of the file, as in [`GateRequest::raws`].
    pub raws: Vec<(regorus::Value, String)>,
}

impl GateRequest {
    /// A request to evaluate `inputs` in enforce mode, with no overrides and no conftest inputs.
    pub fn new(inputs: Vec<Input>, now: DateTime<Utc>, provenance: Provenance) -> Self {
        GateRequest {
            inputs,
            raws: vec![],
            resources: None,
            overrides: vec![],
            mode: EnforcementMode::Enforce,
            on_unknown: None,
            now,
            provenance,
            soft_fail: false,
            skip_rules: vec![],
            baseline: None,
            files: vec![],
        }
    }
}
