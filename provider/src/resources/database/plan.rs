//! Planning `dbplatform_database`: the tier fills in what the configuration leaves null, the backend checks the
//! settings and names restarts, and the guardrails decide (see [`super::guardrails`]).

use policy::adapter::planned_state::ProviderPlan;
use policy::model::Action;

use super::guardrails;
use super::inputs;
use super::rds;
use super::resource::DatabaseResource;
use super::rotation;
use super::schema::{CONFIGURABLE, TYPE_NAME};
use super::spec::{backend_diagnostic, expand, field_path, spec_from, string_map, tier_of};
use super::state::{json_unknown_paths, log_exports_value, substance};
use crate::backend::{DatabaseStatus, InstanceSettings};
use crate::framework::access::{get_string, get_string_map, Field};
use crate::framework::{AttributePath, Diagnostics, PlanRequest, PlanResponse, Value};

impl DatabaseResource {
    /// Tier expansion, backend checks, restart warnings and the guardrails for one planned change.
    pub(super) async fn plan_change(&self, req: PlanRequest) -> PlanResponse {
        let mut resp = PlanResponse {
            planned: req.planned.clone(),
            ..Default::default()
        };
        if req.planned.is_null() {
            return resp;
        }
        let (backend, tiers) = match (self.env.backend().await, self.env.tiers().await) {
            (Ok(b), Ok(t)) => (b, t),
            (Err(e), _) | (_, Err(e)) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        let tier_name = match get_string(&req.config, "tier").map(|f| {
            f.require_known(
                &AttributePath::attr("tier"),
                "the tier decides the database's settings",
            )
        }) {
            Ok(Ok(Some(t))) => t,
            Ok(Ok(None)) => return resp,
            Ok(Err(d)) | Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let tier = match tier_of(&tiers, &tier_name) {
            Ok(t) => t.clone(),
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let default_major = backend.default_engine_major();
        let capabilities = backend.capabilities();
        let instance_settings = capabilities.instance_settings;
        let mut planned = req.planned.clone();
        expand(
            &mut planned,
            &req.config,
            &req.prior_state,
            &tier,
            default_major.as_deref(),
        );
        let default_tags = self.env.default_tags().await;
        let unknown_default_tags = self.env.unknown_default_tags().await;
        let mut tags_all = default_tags.clone();
        // Every database carries its tier as a tag, so cost reports and guardrails see it without extra config.
        tags_all
            .entry("tier".to_string())
            .or_insert_with(|| tier_name.clone());
        // Default tags unknown until apply stay unknown in tags_all, unless the resource sets that tag itself.
        let with_unknown =
            |tags: &std::collections::BTreeMap<String, String>| match &unknown_default_tags {
                None => Value::Unknown,
                Some(keys) => {
                    let mut v = string_map(tags);
                    for k in keys.iter().filter(|k| !tags.contains_key(*k)) {
                        v.set(k, Value::Unknown);
                    }
                    v
                }
            };
        match get_string_map(&req.config, "tags") {
            Ok(Field::Known(t)) => {
                tags_all.extend(t);
                planned.set("tags_all", with_unknown(&tags_all));
            }
            Ok(Field::Unknown) => planned.set("tags_all", Value::Unknown),
            Ok(Field::Null) => planned.set("tags_all", with_unknown(&tags_all)),
            Err(d) => resp.diagnostics.push(d),
        }
        planned.set("backend", Value::string(backend.kind()));
        rds::plan_values(
            &mut planned,
            &req.config,
            &req.prior_state,
            instance_settings,
        );
        if instance_settings {
            // The region is the provider's; a tier with a DR region replicates backups there by default.
            planned.set(
                "region",
                backend.region().map_or(Value::Unknown, Value::string),
            );
            if req.config.get("backup_replication_region").is_null() {
                planned.set(
                    "backup_replication_region",
                    tier.dr_region.clone().map_or(Value::Null, Value::string),
                );
            }
        }
        planned.set(
            "log_exports",
            match planned.get("engine").as_str() {
                Some(engine) => log_exports_value(&*backend, engine),
                None => Value::Unknown,
            },
        );
        // Master password rotation: the tier's period unless configured; due when the password refresh read is
        // older than that, which shows as master_password_rotated_at known after apply.
        if let Some(d) = rotation::check(&req.config) {
            resp.diagnostics.push(d);
        }
        if req.config.get(rotation::DAYS).is_null() {
            planned.set(rotation::DAYS, rotation::default_days(&tier));
        }
        let rotated_at = rotation::planned_rotated_at(
            &req.prior_state,
            planned.get(rotation::DAYS),
            chrono::Utc::now(),
        );
        planned.set(rotation::ROTATED_AT, rotated_at);
        if let Some(endpoint) = capabilities
            .fixed_endpoint
            .filter(|_| req.prior_state.is_null())
        {
            planned.set("endpoint", Value::string(endpoint));
        }

        // Tiers the catalogue does not allow on this backend are refused: by the guardrails (DBP-TIER-001) when
        // policy checks run, else here, so the golden path holds with policy checks turned off too.
        let tier_allowed = tier.allows_backend(backend.kind());
        let mut own_tier_refusal = Diagnostics::new();
        if !tier_allowed {
            own_tier_refusal.error_at(
                AttributePath::attr("tier"),
                format!("Tier {tier_name} is not available on the {} backend", backend.kind()),
                format!(
                    "The tier catalogue allows {tier_name} only on: {}. Use {} for databases on the {} backend, or configure the provider with backend = \"aws\".",
                    tier.allowed_backends.join(", "),
                    tiers.tiers.iter().filter(|(_, t)| t.allows_backend(backend.kind())).map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" or "),
                    backend.kind()
                ),
            );
        }

        // Input checks, then the backend's, all reported together (with the guardrails below) in one round. The
        // backend sees `checked`: the plan with refused numbers clamped and refused arguments removed, so each
        // problem is named once.
        let mut checked = planned.clone();
        for d in inputs::check(&planned, &mut checked, instance_settings, backend.kind()) {
            resp.diagnostics.push(d);
        }
        // Backend checks need every configurable value known.
        let all_known = CONFIGURABLE
            .iter()
            .all(|n| checked.get(n).is_wholly_known());
        let spec = if all_known {
            spec_from(&checked, &tiers).ok()
        } else {
            None
        };
        if let Some(spec) = spec.as_ref().filter(|_| tier_allowed) {
            let mut full = spec.clone();
            if instance_settings {
                let base = InstanceSettings {
                    log_exports: backend.log_exports(&spec.engine),
                    ..InstanceSettings::default()
                };
                match rds::options_from(&checked, &base) {
                    Ok(settings) => full.instance = Some(settings),
                    Err(d) => resp.diagnostics.push(d),
                }
                if let Err(d) = rds::timeouts_from(&planned) {
                    resp.diagnostics.push(d);
                }
                for d in rds::plan_checks(&planned, &req.prior_state) {
                    resp.diagnostics.push(d);
                }
            }
            for e in backend.plan_problems(&full) {
                resp.diagnostics
                    .push(backend_diagnostic("Invalid database settings", &e));
            }
        }

        // Updates: restarts, drift, in-place limits.
        if !req.prior_state.is_null() {
            if let (Some(spec), Ok(prior)) = (&spec, spec_from(&req.prior_state, &tiers)) {
                for why in backend.restart_required(&prior, spec) {
                    let attr = if why.starts_with("parameters.") {
                        field_path(why.split_whitespace().next().unwrap_or("parameters"))
                    } else {
                        AttributePath::attr("instance_class")
                    };
                    resp.diagnostics.warning_at(
                        attr,
                        "Change requires a database restart",
                        format!("{why}: apply restarts the database server to take this setting, a short interruption for connected clients."),
                    );
                }
                if !capabilities.major_upgrade_in_place
                    && prior.engine_version.is_some()
                    && prior.engine_version != spec.engine_version
                {
                    resp.requires_replace
                        .push(AttributePath::attr("engine_version"));
                }
            }
            let prior_status = req.prior_state.get("status").as_str().unwrap_or("");
            if prior_status != DatabaseStatus::Available.as_str() && !prior_status.is_empty() {
                planned.set("status", Value::string(DatabaseStatus::Available.as_str()));
                resp.diagnostics.warning_at(
                    AttributePath::attr("status"),
                    "Database is not running",
                    format!(
                        "{} is {prior_status}; apply starts it.",
                        req.prior_state
                            .get("name")
                            .as_str()
                            .unwrap_or("the database")
                    ),
                );
            } else {
                planned.set("status", req.prior_state.get("status").clone());
            }
        } else {
            planned.set("status", Value::string(DatabaseStatus::Available.as_str()));
        }

        // Guardrails, on a change only: a no-op plan keeps the prior decision so it does not show as a diff.
        let changed =
            req.prior_state.is_null() || substance(&planned) != substance(&req.prior_state);
        let action = if req.prior_state.is_null() {
            Action::Create
        } else if changed {
            Action::Update
        } else {
            Action::NoOp
        };
        let plan = ProviderPlan {
            resource_type: TYPE_NAME.into(),
            address: None,
            action,
            before: req
                .prior_state
                .to_json()
                .filter(|_| !req.prior_state.is_null()),
            after: planned.to_json(),
            unknown: json_unknown_paths(&planned),
            sensitive: vec![],
            backend: backend.kind().into(),
            default_tags,
            terraform_version: None,
        };
        match self.env.evaluate_policy(plan).await {
            Ok(Some(decision)) => {
                resp.diagnostics.extend(guardrails::diagnostics(
                    &decision,
                    &guardrails::HintContext::new(&tier_name, &tier),
                ));
                if changed {
                    // Terraform plans again during apply and the decision id includes the time, so the value is
                    // "known after apply": the decision of the final plan travels to apply in the private data.
                    planned.set("policy_decision", Value::Unknown);
                    resp.planned_private = guardrails::summary_private(&decision);
                } else {
                    planned.set(
                        "policy_decision",
                        req.prior_state.get("policy_decision").clone(),
                    );
                }
            }
            Ok(None) => {
                resp.diagnostics.extend(own_tier_refusal);
                planned.set(
                    "policy_decision",
                    if changed {
                        Value::Null
                    } else {
                        req.prior_state.get("policy_decision").clone()
                    },
                );
            }
            Err(d) => {
                resp.diagnostics.push(d);
                resp.diagnostics.extend(own_tier_refusal);
            }
        }
        resp.planned = planned;
        resp
    }
}
