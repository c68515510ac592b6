//! From a `dbplatform.decision/v1` document to a decision record. Recording it (and failing closed when that is
//! impossible) is the decision gate's job: `crate::gate::decide`.
//!
//! Only what the rules concluded is copied (ids, statuses, paths, messages, exception and override metadata);
//! the input itself is represented by its hash, so sensitive values never reach the log.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::AuditError;
use super::hashing::{canonical_bytes, sha256_tagged};
use super::record::{
    BundleInfo, DecisionRecord, DecisionResult, ExceptionUse, Finding, OverrideUse, RecordBody,
    ResourceResult, RuleRef, SourceInfo, TerraformInfo,
};

/// Name under which the embedded bundle appears in `bundles`.
pub const DEFAULT_BUNDLE: &str = "dbplatform";

/// What the caller knows about an evaluation besides the decision document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionMeta {
    /// `cli` or `provider`.
    pub source: String,
    /// Version of the CLI or provider (`env!("CARGO_PKG_VERSION")`).
    pub version: String,
    pub terraform_workspace: Option<String>,
    pub terraform_version: Option<String>,
    /// [`input_sha256`] of the normalized input(s).
    pub input_sha256: String,
    /// Bundle name; `dbplatform` when `None`.
    pub bundle_name: Option<String>,
}

/// `sha256:` + hex over the RFC 8785 form of the normalized input (the same input gives the same hash).
pub fn input_sha256(normalized_input: &Value) -> Result<String, AuditError> {
    Ok(sha256_tagged(&canonical_bytes(normalized_input)?))
}

fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Builds the record body of a decision (a `dbplatform.decision/v1` document as JSON).
pub fn decision_record(decision: &Value, meta: &DecisionMeta) -> Result<RecordBody, AuditError> {
    let decision_id = decision
        .get("decision_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuditError::Decision("`decision_id` is missing".into()))?
        .to_string();
    let outcome = decision
        .get("outcome")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            AuditError::Decision(format!("decision {decision_id}: `outcome` is missing"))
        })?
        .to_string();
    let revision = decision
        .get("bundle_hash")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            AuditError::Decision(format!("decision {decision_id}: `bundle_hash` is missing"))
        })?
        .to_string();
    if meta.source != "cli" && meta.source != "provider" {
        return Err(AuditError::Decision(format!(
            "source {:?} must be \"cli\" or \"provider\"",
            meta.source
        )));
    }
    let rules = decision
        .get("rules")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| RuleRef {
                    id: s(r, "id"),
                    version: r.get("version").and_then(Value::as_str).map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();

    let mut order: Vec<String> = Vec::new();
    let mut by_address: BTreeMap<String, ResourceResult> = BTreeMap::new();
    let mut exceptions = Vec::new();
    let mut overrides = Vec::new();
    for r in decision
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let address = s(r, "address");
        let rule_id = s(r, "rule_id");
        let status = s(r, "status");
        let entry = by_address.entry(address.clone()).or_insert_with(|| {
            order.push(address.clone());
            ResourceResult {
                address: address.clone(),
                rules: BTreeMap::new(),
                findings: Vec::new(),
            }
        });
        entry.rules.insert(rule_id.clone(), status.clone());
        if status != "pass" {
            entry.findings.push(Finding {
                rule_id: rule_id.clone(),
                status: status.clone(),
                path: s(r, "path"),
                message: s(r, "message"),
            });
        }
        if let Some(e) = r.get("exception").filter(|e| e.is_object()) {
            exceptions.push(ExceptionUse {
                id: s(e, "id"),
                rule_id: rule_id.clone(),
                address: address.clone(),
                owner: s(e, "owner"),
                ticket: s(e, "ticket"),
                approved_by: s(e, "approved_by"),
                expires: s(e, "expires"),
            });
        }
        if let Some(o) = r.get("override").filter(|o| o.is_object()) {
            overrides.push(OverrideUse {
                rule_id: rule_id.clone(),
                address: address.clone(),
                reason: s(o, "reason"),
                by: s(o, "by"),
            });
        }
    }
    let resources = order
        .into_iter()
        .filter_map(|a| by_address.remove(&a))
        .collect();
    let summary = decision
        .get("summary")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_u64().map(|n| (k.clone(), n)))
                .collect()
        })
        .unwrap_or_default();
    let terraform = if meta.terraform_workspace.is_some() || meta.terraform_version.is_some() {
        Some(TerraformInfo {
            workspace: meta.terraform_workspace.clone(),
            version: meta.terraform_version.clone(),
        })
    } else {
        None
    };
    let mut bundles = BTreeMap::new();
    bundles.insert(
        meta.bundle_name
            .clone()
            .unwrap_or_else(|| DEFAULT_BUNDLE.to_string()),
        BundleInfo { revision, rules },
    );
    let ci = match decision.get("ci") {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value(v.clone()).map_err(|e| {
            AuditError::Decision(format!("decision {decision_id}: `ci` is not valid: {e}"))
        })?),
    };
    Ok(RecordBody::Decision(Box::new(DecisionRecord {
        decision_id,
        evaluated_at: decision
            .get("timestamp")
            .and_then(Value::as_str)
            .map(str::to_string),
        source: SourceInfo {
            kind: meta.source.clone(),
            version: meta.version.clone(),
        },
        terraform,
        input_sha256: meta.input_sha256.clone(),
        bundles,
        result: DecisionResult { summary, resources },
        exceptions,
        overrides,
        outcome,
        ci,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decision() -> Value {
        json!({
            "schema": "dbplatform.decision/v1",
            "decision_id": "0b6f7c1e-0000-4000-8000-000000000001",
            "timestamp": "2026-11-25T10:00:00Z",
            "bundle_hash": "sha256:abc",
            "rules": [{"id": "DBP-ENC-001", "title": "t", "version": "1.0.0", "severity": "high", "enforcement": "hard-mandatory"}],
            "results": [
                {"rule_id": "DBP-ENC-001", "status": "pass", "address": "aws_db_instance.a"},
                {"rule_id": "DBP-BAK-001", "status": "exempted", "address": "aws_db_instance.a", "path": "backup_retention_period",
                 "message": "too short", "exception": {"id": "EX-1", "owner": "payments", "ticket": "SEC-1",
                 "approved_by": "cso", "reason": "r", "expires": "2026-12-01"}},
                {"rule_id": "DBP-MON-001", "status": "overridden", "address": "aws_db_instance.b",
                 "override": {"rule_id": "DBP-MON-001", "reason": "migration window", "by": "alice"}}
            ],
            "summary": {"resources": 2, "pass": 1, "exempted": 1, "overridden": 1},
            "outcome": "pass"
        })
    }

    fn meta() -> DecisionMeta {
        DecisionMeta {
            source: "cli".into(),
            version: "0.1.0".into(),
            terraform_workspace: Some("prod".into()),
            terraform_version: None,
            input_sha256: input_sha256(&json!({"x": 1})).unwrap(),
            bundle_name: None,
        }
    }

    #[test]
    fn decision_becomes_a_record_grouped_by_resource() {
        let RecordBody::Decision(d) = decision_record(&decision(), &meta()).unwrap() else {
            panic!("not a decision body")
        };
        assert_eq!(d.bundles["dbplatform"].revision, "sha256:abc");
        assert_eq!(
            d.bundles["dbplatform"].rules[0].version.as_deref(),
            Some("1.0.0")
        );
        assert_eq!(d.result.resources.len(), 2);
        assert_eq!(d.result.resources[0].rules["DBP-BAK-001"], "exempted");
        assert_eq!(d.exceptions[0].ticket, "SEC-1");
        assert_eq!(d.overrides[0].by, "alice");
        assert_eq!(d.terraform.unwrap().workspace.as_deref(), Some("prod"));
    }

    #[test]
    fn missing_decision_id_is_named() {
        let err = decision_record(&json!({"outcome": "pass"}), &meta())
            .unwrap_err()
            .to_string();
        assert!(err.contains("decision_id"), "{err}");
    }
}
