//! The audit log a provider configuration writes to, and appending one record to it without blocking the
//! async runtime. Shared by plan-time decisions, restore-test results and apply outcomes.

use policy::audit::{AuditConfig, AuditLog, RecordBody};

use super::settings::ProviderConfig;
use crate::framework::Diagnostic;

/// The audit log settings when an audit log is configured: `policy.audit_log`, else `DBPOLICY_AUDIT_LOG` (with
/// `DBPOLICY_AUDIT_KEY`, `DBPOLICY_AUDIT_PG`, `DBPOLICY_AUDIT_MAX_BYTES`); `None` when neither names a log, so
/// plans without an audit log do not write to a default location behind the user's back.
pub fn provider_audit_config(cfg: &ProviderConfig) -> Result<Option<AuditConfig>, Diagnostic> {
    let env_set = cfg
        .env
        .audit_log
        .as_deref()
        .is_some_and(|v| !v.trim().is_empty());
    if cfg.policy.audit_log.is_none() && !env_set {
        return Ok(None);
    }
    AuditConfig::resolve(cfg.policy.audit_log.as_deref())
        .map(Some)
        .map_err(|e| {
            Diagnostic::error(
                "Invalid audit log settings",
                format!(
                    "The audit log settings (policy.audit_log and the DBPOLICY_AUDIT_* environment variables) are \
                     invalid: {e}. Fix them, or unset them to plan without an audit log."
                ),
            )
        })
}

/// Appends one record off the async runtime: the audit API blocks on a file lock and fsync (and, with a
/// PostgreSQL sink, runs its own client). The error is the reason, for the caller's diagnostic.
pub async fn append_record(audit: AuditConfig, body: RecordBody) -> Result<(), String> {
    match tokio::task::spawn_blocking(move || AuditLog::from_config(&audit)?.append(body)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("the audit writer stopped unexpectedly: {e}")),
    }
}
