//! Data source `dbplatform_access_review`: who can do what on one database, read from the database itself
//! (roles, what each holds, its members, whether it logs in and until when), as evidence for access reviews.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::backend::roles::review::review;
use crate::framework::access::{get_string, Field};
use crate::framework::{
    Attribute, AttributePath, Block, DataSource, Diagnostic, ReadDataRequest, ReadDataResponse,
    Schema, Type, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;
use crate::resources::role::admin_client;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_access_review";

/// The data source.
pub struct AccessReviewDataSource {
    env: Arc<dyn DatabaseEnv>,
}

impl AccessReviewDataSource {
    /// Reads through `env`'s backend.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

fn role_type() -> Type {
    let list = Type::List(Box::new(Type::String));
    Type::Object(BTreeMap::from([
        ("name".to_string(), Type::String),
        ("login".to_string(), Type::Bool),
        ("valid_until".to_string(), Type::String),
        ("template".to_string(), Type::String),
        ("grants".to_string(), list.clone()),
        ("members".to_string(), list),
    ]))
}

fn strings(v: &[String]) -> Value {
    Value::List(v.iter().map(Value::string).collect())
}

#[async_trait]
impl DataSource for AccessReviewDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Who can do what on one database, read from the database: roles, their grants, members, logins and expiry.")
                .attribute(Attribute::required("database_id", Type::String, "id of the dbplatform_database to review."))
                .attribute(Attribute::computed("reviewed_at", Type::String, "When the database was read, RFC 3339."))
                .attribute(Attribute::computed(
                    "roles",
                    Type::List(Box::new(role_type())),
                    "Every role except PostgreSQL's own and the provider's: name, login, valid_until (null: no expiry), template (null: not made by dbplatform_role), grants, members.",
                )),
        )
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut resp = ReadDataResponse::default();
        let db = match get_string(&req.config, "database_id") {
            Ok(Field::Known(d)) => d,
            Ok(_) => {
                resp.diagnostics.push(
                    Diagnostic::error(
                        "database_id required",
                        "Set database_id to the database to review.",
                    )
                    .at(AttributePath::attr("database_id")),
                );
                return resp;
            }
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let roles = match admin_client(backend.as_ref(), &db).await {
            Ok((client, dbname)) => review(&client, &dbname).await,
            Err(e) => Err(e),
        };
        match roles {
            Err(e) => resp.diagnostics.push(Diagnostic::error(
                format!("Cannot review access to {db:?}"),
                e.to_string(),
            )),
            Ok(roles) => {
                let list = roles
                    .iter()
                    .map(|r| {
                        Value::object([
                            ("name", Value::string(&r.name)),
                            ("login", Value::Bool(r.login)),
                            (
                                "valid_until",
                                r.valid_until
                                    .clone()
                                    .map(Value::string)
                                    .unwrap_or(Value::Null),
                            ),
                            (
                                "template",
                                r.template
                                    .map(|t| Value::string(t.name()))
                                    .unwrap_or(Value::Null),
                            ),
                            ("grants", strings(&r.grants)),
                            ("members", strings(&r.members)),
                        ])
                    })
                    .collect();
                resp.state = Value::object([
                    ("database_id", Value::string(&db)),
                    (
                        "reviewed_at",
                        Value::string(
                            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        ),
                    ),
                    ("roles", Value::List(list)),
                ]);
            }
        }
        resp
    }
}
