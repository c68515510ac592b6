//! `dbplatform_replica`: a read replica of a `dbplatform_database`. Locally a hot standby streaming over TLS,
//! on aws an RDS read replica (same or another region). Refresh reads the replication lag; a stopped standby is
//! drift that apply repairs (it starts it), a broken one (running, not streaming) is replaced.
//!
//! Files: [`schema`] (attributes), this file (the resource: plan, apply, read, import).

pub mod schema;

use std::sync::Arc;

use async_trait::async_trait;

use crate::backend::replica::{ReplicaInfo, ReplicaSpec};
use crate::backend::DatabaseBackend;
use crate::framework::access::{get_bool, get_string, get_string_map, Field};
use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Diagnostic, Diagnostics, ImportResponse, Number,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_replica";

/// The resource.
pub struct ReplicaResource {
    env: Arc<dyn DatabaseEnv>,
}

impl ReplicaResource {
    /// A replica resource using `env`'s backend and tier catalogue.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }

    async fn backend(&self) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
        let b = self.env.backend().await?;
        if b.replicas().is_none() {
            return Err(Diagnostic::error(
                "Replicas are not available on this backend",
                format!(
                    "backend {:?} has no read replicas; use the local or aws backend.",
                    b.kind()
                ),
            ));
        }
        Ok(b)
    }

    /// The spec a known plan asks for; `instance_class` the source's when unset.
    async fn spec(
        &self,
        v: &Value,
        backend: &dyn DatabaseBackend,
    ) -> Result<ReplicaSpec, Diagnostic> {
        let name = get_string(v, "name")?.known().unwrap_or_default();
        let source = get_string(v, "source_database_id")?
            .known()
            .unwrap_or_default();
        let instance_class = match get_string(v, "instance_class")? {
            Field::Known(c) => c,
            _ => self.default_class(&source, backend).await?,
        };
        Ok(ReplicaSpec {
            name,
            source,
            instance_class,
            region: get_string(v, "region")?.known(),
            kms_key_id: get_string(v, "kms_key_id")?.known(),
            tags: get_string_map(v, "tags")?.known().unwrap_or_default(),
            deletion_protection: get_bool(v, "deletion_protection")?.known().unwrap_or(false),
            timeouts: crate::resources::database::rds::timeouts_from(v)?,
        })
    }

    /// The source's own instance class (a replica that can keep up with its source's writes, and what
    /// `dbpolicy check` assumes for a replica without one); an error naming `source_database_id` when the source
    /// does not exist.
    async fn default_class(
        &self,
        source: &str,
        backend: &dyn DatabaseBackend,
    ) -> Result<String, Diagnostic> {
        let info = backend
            .read(source)
            .await
            .map_err(|e| Diagnostic::error("Cannot read the source database", e.to_string()).at(AttributePath::attr("source_database_id")))?
            .ok_or_else(|| {
                Diagnostic::error(
                    "Source database not found",
                    format!("database {source:?} does not exist on the {} backend; set source_database_id to a dbplatform_database's id.", backend.kind()),
                )
                .at(AttributePath::attr("source_database_id"))
            })?;
        Ok(info.spec.instance_class)
    }
}

/// The state for an observed replica, on top of `base` (the plan or prior state).
pub(crate) fn state_from(base: &Value, info: &ReplicaInfo) -> Value {
    let mut s = if base.is_null() {
        Value::Object(Default::default())
    } else {
        base.clone()
    };
    for a in schema::ALL_ATTRS.iter().chain(["timeouts"].iter()) {
        if s.get(a).is_unknown() || s.as_entries().is_some_and(|m| !m.contains_key(*a)) {
            s.set(a, Value::Null);
        }
    }
    s.set("id", Value::string(&info.id));
    s.set("name", Value::string(&info.id));
    s.set("source_database_id", Value::string(&info.source));
    s.set("instance_class", Value::string(&info.instance_class));
    s.set("endpoint", Value::string(&info.endpoint));
    s.set("port", Value::int(i64::from(info.port)));
    s.set("connection_string", Value::string(&info.connection_string));
    s.set("status", Value::string(&info.status));
    s.set(
        "replication_lag_seconds",
        info.replication_lag_seconds
            .and_then(|l| Number::parse(&format!("{l:.3}")))
            .map(Value::Number)
            .unwrap_or(Value::Null),
    );
    s.set(
        "replication_tls",
        info.replication_tls.map(Value::Bool).unwrap_or(Value::Null),
    );
    s.set("deletion_protection", Value::Bool(info.deletion_protection));
    if s.get("tags").is_null() && !info.tags.is_empty() {
        s.set(
            "tags",
            Value::Map(
                info.tags
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::string(v)))
                    .collect(),
            ),
        );
    }
    s
}

/// A backend error as a diagnostic, on its attribute when it names one.
pub(crate) fn backend_error(summary: &str, e: crate::backend::BackendError) -> Diagnostic {
    match &e {
        crate::backend::BackendError::Invalid { field, message } => {
            Diagnostic::error(summary, message.clone()).at(AttributePath::attr(field))
        }
        _ => Diagnostic::error(summary, e.to_string()),
    }
}

#[async_trait]
impl Resource for ReplicaResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let mut resp = PlanResponse {
            planned: req.planned.clone(),
            ..Default::default()
        };
        if req.planned.is_null() {
            return resp;
        }
        let backend = match self.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let Some(replicas) = backend.replicas() else {
            return resp;
        };
        // Checks that need only the configuration (the source may not exist yet).
        if req.config.is_wholly_known() || req.config.get("name").as_str().is_some() {
            let partial = ReplicaSpec {
                name: req
                    .config
                    .get("name")
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                source: req
                    .config
                    .get("source_database_id")
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                instance_class: String::new(),
                region: req.config.get("region").as_str().map(str::to_string),
                kms_key_id: req.config.get("kms_key_id").as_str().map(str::to_string),
                tags: Default::default(),
                deletion_protection: false,
                timeouts: Default::default(),
            };
            for e in replicas.replica_problems(&partial).await {
                resp.diagnostics.push(backend_error("Invalid replica", e));
            }
        }
        if req.prior_state.is_null() {
            return resp;
        }
        let status = req
            .prior_state
            .get("status")
            .as_str()
            .unwrap_or("")
            .to_string();
        match status.as_str() {
            "stopped" => {
                // Apply starts it; what it reads afterwards is known then.
                for a in ["status", "replication_lag_seconds", "replication_tls"] {
                    resp.planned.set(a, Value::Unknown);
                }
                resp.diagnostics.warning_at(
                    AttributePath::attr("status"),
                    "Replica is stopped",
                    format!("replica {} is stopped; apply starts it.", req.prior_state.get("name").as_str().unwrap_or("?")),
                );
            }
            "broken" => {
                resp.planned.set("status", Value::Unknown);
                resp.requires_replace.push(AttributePath::attr("status"));
                resp.diagnostics.warning_at(
                    AttributePath::attr("status"),
                    "Replica is not replicating",
                    "the replica runs but does not stream from its source; apply replaces it with a fresh copy (the source holds the data).",
                );
            }
            "promoted" => resp.diagnostics.warning_at(
                AttributePath::attr("status"),
                "Replica is the primary",
                "a failover drill with keep_promoted = true promoted this replica; it is left as it is (it holds the newest data). A drill with keep_promoted = false switches back.",
            ),
            _ => {}
        }
        resp
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut resp = ApplyResponse::default();
        let backend = match self.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let Some(replicas) = backend.replicas() else {
            return resp;
        };
        if req.planned.is_null() {
            let name = req
                .prior
                .get("name")
                .as_str()
                .unwrap_or_default()
                .to_string();
            let region = req.prior.get("region").as_str();
            if let Err(e) = replicas.delete_replica(&name, region).await {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(backend_error(
                    &format!("Destroying replica {name:?} failed"),
                    e,
                ));
            }
            return resp;
        }
        let spec = match self.spec(&req.planned, backend.as_ref()).await {
            Ok(s) => s,
            Err(d) => {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let result = if req.prior.is_null() {
            if let Some(e) = replicas.replica_problems(&spec).await.into_iter().next() {
                resp.diagnostics.push(backend_error("Invalid replica", e));
                return resp;
            }
            replicas.create_replica(&spec).await
        } else {
            replicas.update_replica(&spec).await
        };
        match result {
            Ok(info) => resp.new_state = state_from(&req.planned, &info),
            Err(e) => {
                resp.new_state = req.prior.clone();
                if req.prior.is_null() {
                    // A create that failed may have left a replica behind on RDS: record it (tainted).
                    if let Ok(Some(info)) = replicas
                        .read_replica(&spec.name, spec.region.as_deref())
                        .await
                    {
                        resp.new_state = state_from(&req.planned, &info);
                    }
                }
                resp.diagnostics
                    .push(backend_error(&format!("Replica {:?} failed", spec.name), e));
            }
        }
        resp
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: req.current.clone(),
            private: req.private.clone(),
            diagnostics: Diagnostics::new(),
        };
        let backend = match self.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let Some(replicas) = backend.replicas() else {
            return resp;
        };
        let name = req
            .current
            .get("name")
            .as_str()
            .or(req.current.get("id").as_str())
            .unwrap_or_default()
            .to_string();
        match replicas
            .read_replica(&name, req.current.get("region").as_str())
            .await
        {
            Ok(Some(info)) => resp.new_state = state_from(&req.current, &info),
            Ok(None) => resp.new_state = Value::Null,
            Err(e) => resp.diagnostics.push(backend_error(
                &format!("Reading replica {name:?} failed"),
                e,
            )),
        }
        resp
    }

    async fn import(&self, id: &str) -> ImportResponse {
        let mut resp = ImportResponse::default();
        let backend = match self.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let Some(replicas) = backend.replicas() else {
            return resp;
        };
        match replicas.import_replica(id).await {
            Ok(info) => {
                let mut s = state_from(&Value::Null, &info);
                s.set("deletion_protection", Value::Bool(info.deletion_protection));
                s.set(
                    "region",
                    info.region
                        .clone()
                        .map(Value::string)
                        .unwrap_or(Value::Null),
                );
                // The key is configuration only for a replica in another region (where it is required).
                if info.region.is_some() {
                    s.set(
                        "kms_key_id",
                        info.kms_key_id
                            .clone()
                            .map(Value::string)
                            .unwrap_or(Value::Null),
                    );
                }
                resp.imported.push(s);
            }
            Err(e) => resp.diagnostics.push(backend_error(
                &format!("Importing replica {id:?} failed"),
                e,
            )),
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    async fn plan_with(status: &str, config_extra: &[(&str, Value)]) -> PlanResponse {
        let env = Arc::new(crate::resources::database::env::StaticEnv::local(
            "/nonexistent",
        ));
        let r = ReplicaResource::new(env);
        let mut cfg = vec![
            ("name", Value::string("orders-ro")),
            ("source_database_id", Value::string("orders")),
        ];
        cfg.extend_from_slice(config_extra);
        let config = obj(&cfg);
        let mut prior_pairs = cfg.clone();
        prior_pairs.push(("status", Value::string(status)));
        let prior = obj(&prior_pairs);
        r.plan(PlanRequest {
            prior_state: prior.clone(),
            proposed: prior.clone(),
            config,
            prior_private: vec![],
            planned: prior,
        })
        .await
    }

    #[tokio::test]
    async fn a_stopped_standby_is_started_and_a_broken_one_replaced() {
        let stopped = plan_with("stopped", &[]).await;
        assert!(stopped.planned.get("status").is_unknown());
        assert!(stopped.requires_replace.is_empty());
        assert!(stopped
            .diagnostics
            .iter()
            .any(|d| d.summary == "Replica is stopped"));
        let broken = plan_with("broken", &[]).await;
        assert!(broken
            .requires_replace
            .contains(&AttributePath::attr("status")));
        let fine = plan_with("streaming", &[]).await;
        assert!(fine.requires_replace.is_empty() && fine.diagnostics.iter().next().is_none());
        assert_eq!(fine.planned.get("status").as_str(), Some("streaming"));
    }

    #[tokio::test]
    async fn the_local_backend_refuses_regions_and_kms_keys_on_their_attributes() {
        let p = plan_with(
            "streaming",
            &[
                ("region", Value::string("eu-west-1")),
                ("kms_key_id", Value::string("k")),
            ],
        )
        .await;
        let at: Vec<_> = p
            .diagnostics
            .iter()
            .filter_map(|d| d.attribute.clone())
            .collect();
        assert!(
            at.contains(&AttributePath::attr("region")),
            "{:?}",
            p.diagnostics
        );
        assert!(
            at.contains(&AttributePath::attr("kms_key_id")),
            "{:?}",
            p.diagnostics
        );
    }

    #[test]
    fn the_schema_is_valid() {
        assert!(
            crate::framework::planning::schema_problems(&schema::schema().block).is_empty(),
            "{:?}",
            crate::framework::planning::schema_problems(&schema::schema().block)
        );
        assert!(crate::framework::planning::schema_problems(
            &crate::resources::failover_drill::schema::schema().block
        )
        .is_empty());
    }
}
