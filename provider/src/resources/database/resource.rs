//! The `dbplatform_database` resource type: its handle and the [`Resource`] implementation. Planning and apply
//! have their own files ([`super::plan`], [`super::apply`]); read and import are here.

use std::sync::Arc;

use async_trait::async_trait;

use super::env_trait::DatabaseEnv;
use super::rds;
use super::schema::{schema, TYPE_NAME};
use super::spec::{backend_diagnostic, string_map, tier_of, user_tags};
use super::state::{merge_instance, state_from};
use crate::framework::access::{get_string, Field};
use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Diagnostic, Diagnostics, ImportResponse,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// The resource; cheap to clone through `Arc`.
pub struct DatabaseResource {
    pub(super) env: Arc<dyn DatabaseEnv>,
}

impl DatabaseResource {
    /// A resource using `env` for its backend, tiers and guardrails.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

#[async_trait]
impl Resource for DatabaseResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Ok(Field::Known(t)) = get_string(config, "tier") {
            if let Ok(tiers) = self.env.tiers().await {
                if let Err(e) = tier_of(&tiers, &t) {
                    d.push(e);
                }
            }
        }
        // Numbers are range-checked at plan (see `inputs`), with the other input errors and the guardrails, so
        // every problem shows in one round.
        d
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        self.plan_change(req).await
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        self.apply_change(req).await
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: req.current.clone(),
            private: req.private.clone(),
            ..Default::default()
        };
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        let Some(name) = req.current.get("name").as_str().map(str::to_string) else {
            return resp;
        };
        match backend.read(&name).await {
            Ok(None) => resp.new_state = Value::Null,
            Ok(Some(info)) => {
                let default_tags = self.env.default_tags().await;
                resp.new_state = state_from(&info, Some(&req.current), &*backend, &default_tags);
                merge_instance(&mut resp.new_state, &info, Some(&req.current));
                // Settings applied as planned and checked here: the service now reports a different value.
                for d in rds::disagreements(&info, &req.current) {
                    resp.diagnostics.push(d);
                }
                if let Some(w) = rds::pending_warning(&info) {
                    resp.diagnostics.warning_at(
                        AttributePath::attr("pending_modifications"),
                        "Pending RDS modifications",
                        w,
                    );
                }
                // Drift in the backend's own record of tags shows up as a diff on the next plan.
                let user_tags = user_tags(&info.spec, &default_tags, req.current.get("tags"));
                if !req.current.get("tags").is_null() || !user_tags.is_empty() {
                    resp.new_state.set("tags", string_map(&user_tags));
                }
            }
            Err(e) => resp.diagnostics.push(backend_diagnostic(
                &format!("Could not read database {name:?}"),
                &e,
            )),
        }
        resp
    }

    async fn import(&self, id: &str) -> ImportResponse {
        let mut resp = ImportResponse::default();
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        // The backend's import: only a complete database is adopted, else it names what is missing.
        match backend.import(id).await {
            Ok(info) => {
                let default_tags = self.env.default_tags().await;
                let mut state = state_from(&info, None, &*backend, &default_tags);
                merge_instance(&mut state, &info, None);
                // No configuration on import: the tier's rotation period, as a plan without one would set.
                if let Ok(tiers) = self.env.tiers().await {
                    if let Some(t) = tiers.get(&info.spec.tier) {
                        state.set(super::rotation::DAYS, super::rotation::default_days(t));
                    }
                }
                resp.imported.push(state);
            }
            Err(e) => resp.diagnostics.push(Diagnostic::error(
                "Cannot import database",
                format!("{e}. Import takes the database name, e.g. terraform import dbplatform_database.main orders."),
            )),
        }
        resp
    }
}
