//! Data source `dbplatform_database`: looks up an existing database by name, so other configurations can
//! connect to it (endpoint, port, where the master password is) without managing it.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::framework::access::{get_string, Field};
use crate::framework::{
    Attribute, AttributePath, Block, DataSource, Diagnostic, ReadDataRequest, ReadDataResponse,
    Schema, Type, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_database";

/// The data source.
pub struct DatabaseDataSource {
    env: Arc<dyn DatabaseEnv>,
}

impl DatabaseDataSource {
    /// A data source reading through `env`'s backend.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

const COMPUTED: &[(&str, &str)] = &[
    ("id", "Database identifier."),
    ("tier", "Tier the database was created with."),
    ("engine", "Engine."),
    ("engine_version", "Major version."),
    ("engine_version_actual", "Full version running."),
    ("endpoint", "Host to connect to."),
    ("connection_string", "libpq URI without the password."),
    ("master_username", "Owner role."),
    ("db_name", "Application database."),
    (
        "master_user_secret_path",
        "Where the master password is (file or secret ARN), never the password.",
    ),
    ("status", "available, stopped, ..."),
    ("backend", "local or aws."),
];

#[async_trait]
impl DataSource for DatabaseDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let mut b = Block::new("Reads an existing dbplatform database by name.").attribute(
            Attribute::required("name", Type::String, "Name of the database."),
        );
        for (n, d) in COMPUTED {
            b = b.attribute(Attribute::computed(n, Type::String, d));
        }
        b = b
            .attribute(Attribute::computed(
                "port",
                Type::Number,
                "Port to connect to.",
            ))
            .attribute(Attribute::computed(
                "tags",
                Type::Map(Box::new(Type::String)),
                "Tags (including default tags).",
            ));
        Schema::new(0, b)
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut resp = ReadDataResponse::default();
        let name = match get_string(&req.config, "name") {
            Ok(Field::Known(n)) => n,
            Ok(_) => {
                resp.diagnostics.error_at(
                    AttributePath::attr("name"),
                    "Database name required",
                    "Set name to the database to read.",
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
        match backend.read(&name).await {
            Ok(Some(info)) => {
                let s = &info.spec;
                let mut m = BTreeMap::new();
                let mut put = |k: &str, v: Value| {
                    m.insert(k.to_string(), v);
                };
                put("name", Value::string(&s.name));
                put("id", Value::string(&info.id));
                put("tier", Value::string(&s.tier));
                put("engine", Value::string(&s.engine));
                put(
                    "engine_version",
                    Value::string(
                        s.engine_version
                            .clone()
                            .unwrap_or_else(|| info.engine_version_actual.split('.').next().unwrap_or_default().to_string()),
                    ),
                );
                put("engine_version_actual", Value::string(&info.engine_version_actual));
                put("endpoint", Value::string(&info.endpoint));
                put("port", Value::int(i64::from(info.port)));
                put("connection_string", Value::string(&info.connection_string));
                put("master_username", Value::string(&s.master_username));
                put("db_name", Value::string(&s.db_name));
                put("master_user_secret_path", Value::string(&info.master_user_secret));
                put("status", Value::string(info.status.as_str()));
                put("backend", Value::string(backend.kind()));
                put("tags", Value::Map(s.tags.iter().map(|(k, v)| (k.clone(), Value::string(v))).collect()));
                resp.state = Value::Object(m);
            }
            Ok(None) => resp.diagnostics.push(
                Diagnostic::error(
                    "Database not found",
                    format!("No database named {name:?} exists on the {} backend; check the name or create it with a dbplatform_database resource.", backend.kind()),
                )
                .at(AttributePath::attr("name")),
            ),
            Err(e) => resp.diagnostics.push(Diagnostic::error(format!("Could not read database {name:?}"), e.to_string())),
        }
        resp
    }
}
