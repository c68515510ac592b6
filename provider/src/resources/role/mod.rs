//! `dbplatform_role`: a least-privilege role from a template on a `dbplatform_database`, applied over SQL with
//! the provider's administrative access ([`crate::backend::DatabaseBackend::admin_connection`]). Refresh reads
//! the real grants into `grants`; the plan always proposes the template's exact list, so a grant added or
//! revoked by hand is a visible change that apply undoes. Import by `database/role`.

pub mod schema;

use std::sync::Arc;

use async_trait::async_trait;

use crate::backend::roles::reconcile::{parse_comment, read_role};
use crate::backend::roles::{converge, drop_role, observe, Template};
use crate::backend::{BackendError, DatabaseBackend};
use crate::framework::access::{get_string, get_string_list, Field};
use crate::framework::{
    ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, ImportResponse, PlanRequest,
    PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_role";

/// The resource.
pub struct RoleResource {
    env: Arc<dyn DatabaseEnv>,
}

impl RoleResource {
    /// A role resource reaching databases through `env`'s backend.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

/// An administrative SQL session on database `db` (its application database).
pub(crate) async fn admin_client(
    backend: &dyn DatabaseBackend,
    db: &str,
) -> Result<(tokio_postgres::Client, String), BackendError> {
    let conn = backend.admin_connection(db).await?;
    let client = conn.connect().await?;
    Ok((client, conn.dbname))
}

fn backend_error(what: &str, e: &BackendError) -> Diagnostic {
    Diagnostic::error(format!("Cannot {what}"), e.to_string())
}

#[async_trait]
impl Resource for RoleResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        schema::validate(config)
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let mut planned = req.planned.clone();
        if planned.is_null() {
            return PlanResponse {
                planned,
                ..Default::default()
            };
        }
        if let (Ok(Field::Known(db)), Ok(Field::Known(name))) = (
            get_string(&planned, "database_id"),
            get_string(&planned, "name"),
        ) {
            planned.set("id", Value::string(format!("{db}/{name}")));
        }
        // The plan is the template's exact list: when refresh read something else, the difference is the drift.
        let template = get_string(&planned, "template")
            .ok()
            .and_then(Field::known)
            .and_then(|t| Template::parse(&t));
        let schemas = get_string_list(&planned, "schemas")
            .ok()
            .and_then(Field::known);
        let grants = match (template, schemas) {
            (Some(t), Some(s)) => schema::grants_value(&t.grants(&s)),
            _ => Value::Unknown,
        };
        planned.set("grants", grants);
        PlanResponse {
            planned,
            ..Default::default()
        }
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut resp = ApplyResponse {
            new_state: req.prior.clone(),
            ..Default::default()
        };
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        if req.planned.is_null() {
            let db = req
                .prior
                .get("database_id")
                .as_str()
                .unwrap_or_default()
                .to_string();
            let name = req
                .prior
                .get("name")
                .as_str()
                .unwrap_or_default()
                .to_string();
            match admin_client(backend.as_ref(), &db).await {
                Err(BackendError::NotFound { .. }) => resp.new_state = Value::Null,
                Err(e) => resp
                    .diagnostics
                    .push(backend_error(&format!("drop role {name:?}"), &e)),
                Ok((client, dbname)) => match drop_role(&client, &dbname, &name).await {
                    Ok(()) => resp.new_state = Value::Null,
                    Err(e) => resp
                        .diagnostics
                        .push(backend_error(&format!("drop role {name:?}"), &e)),
                },
            }
            return resp;
        }
        let (db, mut spec) = match schema::spec_of(&req.planned) {
            Ok(x) => x,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        // The write-only password is read from the configuration, on create and when its version changes.
        let version_changed = req.prior.is_null()
            || req.prior.get("password_wo_version") != req.planned.get("password_wo_version");
        if version_changed {
            spec.password = req.config.get("password_wo").as_str().map(str::to_string);
        }
        let what = format!("set up role {:?} on database {db:?}", spec.name);
        let (client, dbname) = match admin_client(backend.as_ref(), &db).await {
            Ok(c) => c,
            Err(e) => {
                resp.diagnostics.push(backend_error(&what, &e));
                return resp;
            }
        };
        match converge(&client, &dbname, &spec).await {
            Err(e) => resp.diagnostics.push(backend_error(&what, &e)),
            Ok(facts) => {
                let mut state = req.planned.clone();
                let expected = spec.template.grants(&spec.schemas);
                state.set("grants", schema::grants_value(&facts.grants));
                if facts.grants != expected {
                    let extra: Vec<String> = facts
                        .grants
                        .difference(&expected)
                        .map(ToString::to_string)
                        .collect();
                    let missing: Vec<String> = expected
                        .difference(&facts.grants)
                        .map(ToString::to_string)
                        .collect();
                    resp.diagnostics.error(
                        format!("Role {:?} does not match its template after apply", spec.name),
                        format!("extra: [{}]; missing: [{}]. Something else changes this role's grants at the same time.", extra.join(", "), missing.join(", ")),
                    );
                }
                resp.new_state = state;
            }
        }
        resp
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
        let db = req
            .current
            .get("database_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = req
            .current
            .get("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let template = req
            .current
            .get("template")
            .as_str()
            .and_then(Template::parse);
        let schemas = get_string_list(&req.current, "schemas")
            .ok()
            .and_then(Field::known)
            .unwrap_or_else(|| vec!["public".into()]);
        let (client, dbname) = match admin_client(backend.as_ref(), &db).await {
            Ok(c) => c,
            Err(BackendError::NotFound { .. }) => {
                resp.new_state = Value::Null;
                return resp;
            }
            Err(e) => {
                resp.diagnostics
                    .push(backend_error(&format!("read role {name:?}"), &e));
                return resp;
            }
        };
        let Some(template) = template else {
            resp.diagnostics.error("Unknown role template in state", format!("role {name:?}: set template to one of readonly, readwrite, migrator, monitoring."));
            return resp;
        };
        match read_role(&client, &dbname, &name, template, &schemas).await {
            Err(e) => resp
                .diagnostics
                .push(backend_error(&format!("read role {name:?}"), &e)),
            Ok(None) => resp.new_state = Value::Null,
            Ok(Some(facts)) => {
                let s = &mut resp.new_state;
                s.set("id", Value::string(format!("{db}/{name}")));
                s.set("login", Value::Bool(facts.login));
                s.set("connection_limit", Value::int(facts.connection_limit));
                s.set("grants", schema::grants_value(&facts.grants));
            }
        }
        resp
    }

    async fn import(&self, id: &str) -> ImportResponse {
        let mut resp = ImportResponse::default();
        let Some((db, name)) = id
            .split_once('/')
            .filter(|(d, n)| !d.is_empty() && !n.is_empty())
        else {
            resp.diagnostics.error(
                "Invalid import id",
                format!("{id:?}: import a role as DATABASE/ROLE, e.g. terraform import dbplatform_role.ro orders/orders_readonly"),
            );
            return resp;
        };
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        let what = format!("import role {name:?} of database {db:?}");
        let facts = match admin_client(backend.as_ref(), db).await {
            Err(e) => Err(e),
            Ok((client, dbname)) => {
                observe(
                    &client,
                    &dbname,
                    name,
                    &Default::default(),
                    &Default::default(),
                )
                .await
            }
        };
        let facts = match facts {
            Ok(Some(f)) => f,
            Ok(None) => {
                resp.diagnostics.error(
                    format!("Cannot {what}"),
                    format!("there is no role {name:?} in database {db:?}."),
                );
                return resp;
            }
            Err(e) => {
                resp.diagnostics.push(backend_error(&what, &e));
                return resp;
            }
        };
        let Some((template, schemas)) = facts.comment.as_deref().and_then(parse_comment) else {
            resp.diagnostics.error(
                format!("Cannot {what}"),
                format!("role {name:?} was not made by dbplatform_role (its comment does not name a template), so the template it should follow is unknown; create a dbplatform_role with another name and move its members over."),
            );
            return resp;
        };
        resp.imported.push(Value::object([
            ("id", Value::string(id)),
            ("database_id", Value::string(db)),
            ("name", Value::string(name)),
            ("template", Value::string(template.name())),
            (
                "schemas",
                Value::List(schemas.into_iter().map(Value::string).collect()),
            ),
            ("login", Value::Bool(facts.login)),
            ("connection_limit", Value::int(facts.connection_limit)),
            ("tags", Value::Null),
            ("password_wo", Value::Null),
            ("password_wo_version", Value::Null),
            ("grants", Value::Null),
        ]));
        resp
    }
}
