//! Putting a decision on record: the audit sink, the input hash and the decision record.

use crate::audit::DecisionMeta;
use crate::audit::{decision_record, input_sha256, AuditConfig, AuditError, AuditLog, RecordBody};
use crate::gate::{GateError, Provenance};
use crate::model::decision::Decision;

/// Where the gate records decisions. [`AuditConfig`] is the real one (hash-chained file, optional signing key and
/// PostgreSQL sink); tests may use their own.
pub trait DecisionSink {
    /// Where records go, for error messages (the log file).
    fn location(&self) -> String;
    /// Appends one record; an error means the record is not on the log.
    fn append(&self, body: RecordBody) -> Result<(), AuditError>;
}

impl DecisionSink for AuditConfig {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn append(&self, body: RecordBody) -> Result<(), AuditError> {
        AuditLog::from_config(self)?.append(body).map(|_| ())
    }
}

/// The audit record's `input_sha256`: the hash of the normalized inputs as evaluated
/// ([`Input`](crate::model::input::Input)s, or references to the inputs of several plan files, which serialize
/// the same).
pub(crate) fn input_hash<I: serde::Serialize>(
    inputs: &[I],
    sink: &dyn DecisionSink,
) -> Result<String, GateError> {
    let fail = |source| GateError::InputHash {
        location: sink.location(),
        source,
    };
    let json = serde_json::to_value(inputs)
        .map_err(|e| fail(AuditError::Encode(format!("the inputs: {e}"))))?;
    input_sha256(&json).map_err(fail)
}

/// Appends the decision record; any failure is [`GateError::NotRecorded`].
pub(crate) fn record(
    sink: &dyn DecisionSink,
    decision: &Decision,
    provenance: &Provenance,
    input_sha256: String,
) -> Result<(), GateError> {
    let fail = |source| GateError::NotRecorded {
        location: sink.location(),
        decision_id: decision.decision_id.clone(),
        source,
    };
    let json = serde_json::to_value(decision)
        .map_err(|e| fail(AuditError::Encode(format!("the decision: {e}"))))?;
    let meta = DecisionMeta {
        source: provenance.source.as_str().into(),
        version: provenance.version.clone(),
        terraform_workspace: provenance.terraform_workspace.clone(),
        terraform_version: provenance.terraform_version.clone(),
        input_sha256,
        bundle_name: provenance.bundle_name.clone(),
    };
    let body = decision_record(&json, &meta).map_err(fail)?;
    sink.append(body).map_err(fail)
}
