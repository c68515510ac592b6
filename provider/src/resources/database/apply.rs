//! Applying `dbplatform_database`: destroy, create or update through the backend trait, and the state that
//! results. A create that fails after the backend accepted it keeps what exists in state (Terraform marks it
//! tainted): never an orphan.

use super::guardrails;
use super::rds;
use super::resource::DatabaseResource;
use super::rotation;
use super::spec::{backend_diagnostic, spec_from};
use super::state::{merge_instance, state_from, unknowns_to_null};
use policy::model::tiers::TierCatalogue;

use crate::backend::{DatabaseBackend, DatabaseInfo, DatabaseSpec, DeleteOptions};
use crate::framework::{ApplyRequest, ApplyResponse, AttributePath, Diagnostic, Value};

impl DatabaseResource {
    /// Destroys, creates or updates the database `req` plans.
    pub(super) async fn apply_change(&self, req: ApplyRequest) -> ApplyResponse {
        let mut resp = ApplyResponse::default();
        let (backend, tiers) = match (self.env.backend().await, self.env.tiers().await) {
            (Ok(b), Ok(t)) => (b, t),
            (Err(e), _) | (_, Err(e)) => {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(e);
                return resp;
            }
        };
        let default_tags = self.env.default_tags().await;

        if req.planned.is_null() {
            return destroy(&*backend, &tiers, &req, resp).await;
        }

        let mut spec = match spec_from(&req.planned, &tiers) {
            Ok(s) => s,
            Err(d) => {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(d);
                return resp;
            }
        };
        if backend.capabilities().instance_settings {
            if let Err(d) = add_instance_settings(&*backend, &req, &mut spec).await {
                resp.diagnostics.push(d);
                return resp;
            }
        }
        let finish = |resp: &mut ApplyResponse, info: &DatabaseInfo| {
            resp.new_state = state_from(info, Some(&req.planned), &*backend, &default_tags);
            merge_instance(&mut resp.new_state, info, Some(&req.planned));
            if req.planned.get("policy_decision").is_unknown() {
                resp.new_state.set(
                    "policy_decision",
                    guardrails::summary_from_private(&req.planned_private),
                );
            }
        };
        if req.prior.is_null() {
            match backend.create_tracked(&spec).await {
                Ok(info) => finish(&mut resp, &info),
                Err(f) => {
                    resp.new_state = req.prior.clone();
                    if let Some(info) = &f.instance {
                        finish(&mut resp, info);
                    } else if let Some(id) = &f.id {
                        // It may exist but could not be described: record the plan with its id; refresh settles it.
                        let mut st = unknowns_to_null(&req.planned);
                        st.set("id", Value::string(id));
                        resp.new_state = st;
                    }
                    resp.diagnostics.push(backend_diagnostic(
                        &format!("Could not create database {:?}", spec.name),
                        &f.error,
                    ));
                }
            }
        } else {
            match backend.update(&spec.name, &spec).await {
                Ok(out) if rotation::wanted(&req.prior, &req.planned) => {
                    match backend.rotate_master_password(&spec.name).await {
                        Ok(info) => {
                            finish(&mut resp, &info);
                            if let Err(d) = self.record_rotation(&req.prior, &info).await {
                                resp.diagnostics.push(d);
                            }
                        }
                        Err(e) => {
                            finish(&mut resp, &out.info);
                            // State keeps the old time, so the next plan shows the rotation again.
                            resp.diagnostics.push(backend_diagnostic(
                                &format!("Could not rotate the master password of {:?}", spec.name),
                                &e,
                            ));
                        }
                    }
                }
                Ok(out) => finish(&mut resp, &out.info),
                Err(e) => {
                    resp.new_state = req.prior.clone();
                    resp.diagnostics.push(backend_diagnostic(
                        &format!("Could not update database {:?}", spec.name),
                        &e,
                    ));
                }
            }
        }
        resp
    }
}

impl DatabaseResource {
    /// Puts a rotation on record when an audit log is configured (like restore tests, rotation works without one).
    async fn record_rotation(
        &self,
        prior: &Value,
        info: &DatabaseInfo,
    ) -> Result<(), crate::framework::Diagnostic> {
        if self.env.audit_configured().await? {
            self.env
                .record_access(rotation::record(prior, info))
                .await?;
        }
        Ok(())
    }
}

/// Destroys the database in `req.prior`, refusing under deletion protection, with the `timeouts.delete` wait on
/// backends that take one.
async fn destroy(
    backend: &dyn DatabaseBackend,
    tiers: &TierCatalogue,
    req: &ApplyRequest,
    mut resp: ApplyResponse,
) -> ApplyResponse {
    let name = req
        .prior
        .get("name")
        .as_str()
        .unwrap_or_default()
        .to_string();
    if req.prior.get("deletion_protection").as_bool() == Some(true) {
        resp.new_state = req.prior.clone();
        resp.diagnostics.push(
            Diagnostic::error(
                "Deletion protection is on",
                decommission_steps(&name, &req.prior, tiers),
            )
            .at(AttributePath::attr("deletion_protection")),
        );
        return resp;
    }
    let mut opts = DeleteOptions {
        skip_final_backup: req.prior.get("skip_final_snapshot").as_bool() == Some(true),
        final_backup_name: req
            .prior
            .get("final_snapshot_identifier")
            .as_str()
            .map(str::to_string),
        timeout: None,
    };
    if backend.capabilities().instance_settings {
        match rds::timeouts_from(&req.prior) {
            Ok(t) => opts.timeout = t.delete,
            Err(d) => {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(d);
                return resp;
            }
        }
    }
    match backend.delete(&name, &opts).await {
        Ok(out) => {
            resp.new_state = Value::Null;
            if let Some(fb) = out.final_backup {
                tracing::info!("final backup of {name} kept at {}", fb.location);
            }
        }
        Err(e) => {
            resp.new_state = req.prior.clone();
            resp.diagnostics.push(backend_diagnostic(
                &format!("Could not destroy database {name:?}"),
                &e,
            ));
        }
    }
    resp
}

/// Puts the managed-instance settings and `timeouts` the plan asks for into `spec`, on top of the current
/// instance's settings (update) or the defaults (create).
async fn add_instance_settings(
    backend: &dyn DatabaseBackend,
    req: &ApplyRequest,
    spec: &mut DatabaseSpec,
) -> Result<(), Diagnostic> {
    let timeouts = rds::timeouts_from(&req.planned)?;
    let current = if req.prior.is_null() {
        None
    } else {
        backend.read(&spec.name).await.map_err(|e| {
            backend_diagnostic(&format!("Could not update database {:?}", spec.name), &e)
        })?
    };
    let mut base = current
        .and_then(|i| i.details)
        .map(|d| d.settings)
        .unwrap_or_default();
    base.log_exports = backend.log_exports(&spec.engine);
    spec.instance = Some(rds::options_from(&req.planned, &base)?);
    spec.timeouts = timeouts;
    Ok(())
}

/// The rule that requires deletion protection on a tier, and the one that guards destroys.
const DELETION_PROTECTION_RULE: &str = "DBP-DEL-001";
const DESTROY_OVERRIDE_RULE: &str = "DBP-DEL-003";

/// How to destroy a database under deletion protection, step by step, naming what its tier's guardrails need:
/// turning protection off breaks the hard-mandatory DBP-DEL-001 on tiers that require it, so that apply needs an
/// approved exception (recorded with the decision in the audit log); tiers with `override_required_for_destroy`
/// also need a DBP-DEL-003 override for the destroy itself.
pub(crate) fn decommission_steps(name: &str, prior: &Value, tiers: &TierCatalogue) -> String {
    let tier_name = prior.get("tier").as_str().unwrap_or_default();
    let tier = tiers.get(tier_name);
    let backup = if prior.get("skip_final_snapshot").as_bool() == Some(true) {
        "skip_final_snapshot = true: no final backup is kept".to_string()
    } else {
        "a final backup/snapshot is kept (final_snapshot_identifier)".to_string()
    };
    let Some(t) = tier.filter(|t| t.deletion_protection) else {
        return format!(
            "Database {name:?} has deletion_protection = true, so it was not destroyed. Set deletion_protection = \
             false, run terraform apply, then destroy again ({backup})."
        );
    };
    let label = format!("dbplatform_database {name:?}");
    let entry = guardrails::exception_entry(
        DELETION_PROTECTION_RULE,
        &label,
        chrono::Utc::now().date_naive(),
        t.max_exception_days.min(14),
    );
    let destroy_override = if t.override_required_for_destroy {
        format!(
            " {tier_name} also needs a recorded override for the destroy ({DESTROY_OVERRIDE_RULE}): add policy {{ \
             override {{ rule = \"{DESTROY_OVERRIDE_RULE}\", by = \"you@example.com\", reason = \"decommission ...\" }} }} \
             to the provider block for that run, and `dbpolicy check --override {DESTROY_OVERRIDE_RULE}` in CI."
        )
    } else {
        String::new()
    };
    format!(
        "Database {name:?} has deletion_protection = true, so it was not destroyed. To decommission it:\n\
         1. {tier_name} requires deletion protection (guardrail {DELETION_PROTECTION_RULE}, hard-mandatory: it cannot be \
         overridden), so turning it off needs an approved exception. Add this entry to the provider's \
         policy.exceptions_file (owner, reason, ticket and approver filled in), with policy.audit_log set so the \
         decision that uses it is recorded:\n\n{entry}\n\n\
         2. Set deletion_protection = false and run terraform apply (the plan shows the rule as exempted).\n\
         3. Run terraform destroy again: {backup}.{destroy_override}\n\
         4. Remove the exception from the file."
    )
}
