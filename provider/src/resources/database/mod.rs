//! `dbplatform_database`: a golden-path database. The configuration names a tier; planning expands it from the
//! tier catalogue (Multi-AZ, backup retention, deletion protection, instance class ...), checks the guardrails and
//! shows restarts; apply hands a [`DatabaseSpec`] to the configured [`crate::backend::DatabaseBackend`].
//! Nothing here is specific to one backend.

pub mod env;
pub mod guardrails;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use policy::adapter::planned_state::ProviderPlan;
use policy::model::tiers::Tier;
use policy::model::Action;

use self::env::DatabaseEnv;
use crate::backend::aws::resource as aws_resource;
use crate::backend::aws::RdsInstance;
use crate::backend::{BackendError, DatabaseInfo, DatabaseSpec, DatabaseStatus, DeleteOptions};
use crate::framework::access::{get_bool, get_i64, get_string, get_string_map, Field};
use crate::framework::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostic, Diagnostics,
    ImportResponse, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Type,
    Value,
};

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_database";
/// Suffix of the master username when the configuration names none (`<db_name>_admin`).
pub const MASTER_USERNAME_SUFFIX: &str = "_admin";

/// The resource; cheap to clone through `Arc`.
pub struct DatabaseResource {
    env: Arc<dyn DatabaseEnv>,
}

impl DatabaseResource {
    /// A resource using `env` for its backend, tiers and guardrails.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

/// The schema, shared with the data source's description of the same fields.
pub fn schema() -> Schema {
    let s = Type::String;
    let b = Type::Bool;
    let n = Type::Number;
    let map = Type::Map(Box::new(Type::String));
    Schema::new(
        0,
        aws_resource::add_attributes(Block::new("A golden-path database: pick a tier, the platform fills in the rest and checks the guardrails.")
            .attribute(Attribute::computed("id", s.clone(), "Database identifier (its name).").use_state_for_unknown())
            .attribute(
                Attribute::required("name", s.clone(), "Database identifier: lowercase letters, digits and hyphens.")
                    .requires_replace(),
            )
            .attribute(
                Attribute::optional_computed("engine", s.clone(), "Engine: postgres (local and aws) or mysql (aws).")
                    .default_value(Value::string("postgres"))
                    .requires_replace(),
            )
            .attribute(
                Attribute::optional_computed("engine_version", s.clone(), "Major engine version, e.g. \"15\".")
                    .use_state_for_unknown(),
            )
            .attribute(Attribute::required("tier", s.clone(), "Tier from the catalogue: tier-0 ... tier-3."))
            .attribute(
                Attribute::optional_computed("instance_class", s.clone(), "Instance class; defaults to the tier's.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("db_name", s.clone(), "Application database; defaults to the name with _ for -.")
                    .use_state_for_unknown()
                    .requires_replace(),
            )
            .attribute(
                Attribute::optional_computed(
                    "master_username",
                    s.clone(),
                    "Owner role of the application database; defaults to <db_name>_admin (never a well-known name).",
                )
                .use_state_for_unknown()
                .requires_replace(),
            )
            .attribute(Attribute::optional_computed("multi_az", b.clone(), "Standby in another zone; from the tier.").use_state_for_unknown())
            .attribute(
                Attribute::optional_computed("backup_retention_days", n.clone(), "Days backups are kept; from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("deletion_protection", b.clone(), "Refuse destroy; from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("performance_insights", b.clone(), "Performance Insights (aws); from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(
                Attribute::optional_computed("monitoring_interval_seconds", n.clone(), "Enhanced monitoring interval (aws); from the tier.")
                    .use_state_for_unknown(),
            )
            .attribute(Attribute::computed(
                "log_exports",
                Type::List(Box::new(Type::String)),
                "Engine logs exported to CloudWatch Logs (aws: postgresql, or error and slowquery for MySQL; always on).",
            ))
            .attribute(
                Attribute::optional_computed("skip_final_snapshot", b.clone(), "Destroy without a final backup.")
                    .default_value(Value::Bool(false)),
            )
            .attribute(Attribute::optional("final_snapshot_identifier", s.clone(), "Name of the final backup taken on destroy."))
            .attribute(Attribute::optional("parameters", map.clone(), "Engine settings, e.g. { work_mem = \"8MB\" }."))
            .attribute(Attribute::optional("tags", map.clone(), "Tags; merged over the provider's default_tags."))
            .attribute(Attribute::computed("tags_all", map.clone(), "tags merged over the provider's default_tags."))
            .attribute(Attribute::computed("endpoint", s.clone(), "Host to connect to.").use_state_for_unknown())
            .attribute(Attribute::computed("port", n.clone(), "Port to connect to.").use_state_for_unknown())
            .attribute(Attribute::computed("status", s.clone(), "available, stopped, ..."))
            .attribute(
                Attribute::computed("connection_string", s.clone(), "libpq URI without the password.").use_state_for_unknown(),
            )
            .attribute(
                Attribute::computed(
                    "master_user_secret_path",
                    s.clone(),
                    "Where the master password is: a 0600 file (local) or a Secrets Manager ARN (aws). Never the password.",
                )
                .use_state_for_unknown(),
            )
            .attribute(Attribute::computed("data_dir", s.clone(), "The database's directory (local backend).").use_state_for_unknown())
            .attribute(
                Attribute::computed("engine_version_actual", s.clone(), "Full version running, e.g. 15.13.").use_state_for_unknown(),
            )
            .attribute(Attribute::computed("backend", s.clone(), "Backend the database runs on: local or aws.").use_state_for_unknown())
            .attribute(Attribute::computed(
                "policy_decision",
                map,
                "Guardrail decision at the last plan that changed the database: decision_id, outcome, counts.",
            ))),
    )
}

/// The attributes a user configures (everything else is computed).
const CONFIGURABLE: &[&str] = &[
    "name",
    "engine",
    "engine_version",
    "tier",
    "instance_class",
    "db_name",
    "master_username",
    "multi_az",
    "backup_retention_days",
    "deletion_protection",
    "performance_insights",
    "monitoring_interval_seconds",
    "skip_final_snapshot",
    "final_snapshot_identifier",
    "parameters",
    "tags",
];

/// `"parameters.work_mem"` -> `parameters["work_mem"]`; other names are top-level attributes.
fn field_path(field: &str) -> AttributePath {
    match field.split_once('.') {
        Some((map @ ("parameters" | "tags"), key)) => AttributePath::attr(map).join_key(key),
        _ => AttributePath::attr(field),
    }
}

/// Turns a backend error into a diagnostic, on the attribute it names when it names one.
pub fn backend_diagnostic(summary: &str, e: &BackendError) -> Diagnostic {
    match e {
        BackendError::Invalid { field, message }
            if !field.contains('.') || field.starts_with("parameters.") =>
        {
            Diagnostic::error(summary, format!("{field}: {message}")).at(field_path(field))
        }
        BackendError::DeletionProtected { .. } => {
            Diagnostic::error(summary, e.to_string()).at(AttributePath::attr("deletion_protection"))
        }
        _ => Diagnostic::error(summary, e.to_string()),
    }
}

fn tier_of<'a>(
    tiers: &'a policy::model::tiers::TierCatalogue,
    name: &str,
) -> Result<&'a Tier, Diagnostic> {
    tiers.get(name).ok_or_else(|| {
        Diagnostic::error(
            "Unknown tier",
            format!(
                "tier {name:?} is not in the tier catalogue; valid tiers are {}.",
                tiers.names().join(", ")
            ),
        )
        .at(AttributePath::attr("tier"))
    })
}

/// Fills the attributes the configuration leaves null from the tier (and other defaults) into `planned`.
fn expand(
    planned: &mut Value,
    config: &Value,
    prior: &Value,
    tier: &Tier,
    default_major: Option<&str>,
) {
    let set_if_null = |planned: &mut Value, name: &str, v: Value| {
        if config.get(name).is_null() {
            planned.set(name, v);
        }
    };
    set_if_null(planned, "multi_az", Value::Bool(tier.multi_az));
    set_if_null(
        planned,
        "backup_retention_days",
        Value::int(i64::from(tier.min_backup_retention_days)),
    );
    set_if_null(
        planned,
        "deletion_protection",
        Value::Bool(tier.deletion_protection),
    );
    set_if_null(
        planned,
        "instance_class",
        Value::string(&tier.default_instance_class),
    );
    set_if_null(
        planned,
        "performance_insights",
        Value::Bool(tier.performance_insights),
    );
    set_if_null(
        planned,
        "monitoring_interval_seconds",
        Value::int(i64::from(tier.monitoring_interval_seconds)),
    );
    if config.get("engine").is_null() {
        planned.set("engine", Value::string("postgres"));
    }
    if config.get("skip_final_snapshot").is_null() {
        planned.set("skip_final_snapshot", Value::Bool(false));
    }
    if config.get("db_name").is_null() {
        let v = match (prior.get("db_name"), config.get("name")) {
            (Value::String(p), _) => Value::string(p.clone()),
            (_, Value::String(n)) => Value::string(n.replace('-', "_")),
            _ => Value::Unknown,
        };
        planned.set("db_name", v);
    }
    if config.get("master_username").is_null() {
        let v = match (prior.get("master_username"), planned.get("db_name")) {
            (Value::String(p), _) => Value::string(p.clone()),
            (_, Value::String(db)) => Value::string(format!("{db}{MASTER_USERNAME_SUFFIX}")),
            _ => Value::Unknown,
        };
        planned.set("master_username", v);
    }
    if config.get("engine_version").is_null() {
        let v = match (prior.get("engine_version"), default_major) {
            (Value::String(p), _) => Value::string(p.clone()),
            (_, Some(m)) => Value::string(m),
            _ => Value::Unknown,
        };
        planned.set("engine_version", v);
    }
}

/// Reads a spec out of a (known) planned or state value.
fn spec_from(
    v: &Value,
    tiers: &policy::model::tiers::TierCatalogue,
) -> Result<DatabaseSpec, Diagnostic> {
    let s = |n: &str| -> Result<String, Diagnostic> {
        get_string(v, n)?.known().ok_or_else(|| {
            Diagnostic::error("Missing value", format!("{n} must be known at apply"))
                .at(AttributePath::attr(n))
        })
    };
    let b = |n: &str| -> Result<bool, Diagnostic> { Ok(get_bool(v, n)?.known().unwrap_or(false)) };
    let tier_name = s("tier")?;
    let tier = tier_of(tiers, &tier_name)?;
    let retention = get_i64(v, "backup_retention_days")?
        .known()
        .unwrap_or(i64::from(tier.min_backup_retention_days));
    let retention = u32::try_from(retention).map_err(|_| {
        Diagnostic::error(
            "Invalid backup retention",
            format!("backup_retention_days must be 0 to 35, got {retention}."),
        )
        .at(AttributePath::attr("backup_retention_days"))
    })?;
    Ok(DatabaseSpec {
        name: s("name")?,
        engine: s("engine")?,
        engine_version: get_string(v, "engine_version")?.known(),
        tier: tier_name,
        instance_class: s("instance_class")?,
        db_name: s("db_name")?,
        master_username: s("master_username")?,
        multi_az: b("multi_az")?,
        backup_retention_days: retention,
        point_in_time_recovery: tier.point_in_time_recovery || retention > 0,
        deletion_protection: b("deletion_protection")?,
        tls_required: !tier.min_tls_version.is_empty(),
        min_tls_version: tier.min_tls_version.clone(),
        parameters: get_string_map(v, "parameters")?.known().unwrap_or_default(),
        tags: get_string_map(v, "tags_all")?
            .known()
            .or(get_string_map(v, "tags")?.known())
            .unwrap_or_default(),
    })
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

/// The tags a user configured, recovered from everything the backend holds: without the provider's default tags
/// and the automatic `tier` tag, unless the configuration (`configured`) sets them itself.
fn user_tags(
    spec: &DatabaseSpec,
    default_tags: &BTreeMap<String, String>,
    configured: &Value,
) -> BTreeMap<String, String> {
    spec.tags
        .iter()
        .filter(|(k, v)| {
            let explicit = !configured.get(k).is_null();
            explicit
                || (default_tags.get(*k) != Some(*v) && !(k.as_str() == "tier" && **v == spec.tier))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Puts what only RDS reports (ARN, storage, windows, pending modifications ...) into a state value.
fn merge_aws(state: &mut Value, inst: &RdsInstance, base: Option<&Value>) {
    for (k, v) in aws_resource::state_values(Some(inst), base) {
        state.set(&k, v);
    }
}

/// A database as the backend sees it, with the RDS view on the aws backend.
async fn read_full(
    backend: &dyn crate::backend::DatabaseBackend,
    name: &str,
) -> Result<Option<(DatabaseInfo, Option<RdsInstance>)>, BackendError> {
    match backend.as_aws() {
        Some(aws) => Ok(aws
            .describe_instance(name)
            .await?
            .map(|i| (i.info.clone(), Some(i)))),
        None => Ok(backend.read(name).await?.map(|i| (i, None))),
    }
}

/// A value with every unknown replaced by null (state can hold no unknowns).
fn unknowns_to_null(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(xs) => Value::List(xs.iter().map(unknowns_to_null).collect()),
        Value::Set(xs) => Value::Set(xs.iter().map(unknowns_to_null).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, x)| (k.clone(), unknowns_to_null(x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), unknowns_to_null(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The RDS-only settings a plan asks for, on top of the current instance's (update) or the defaults (create).
fn aws_options(
    planned: &Value,
    engine: &str,
    current: Option<&RdsInstance>,
) -> Result<crate::backend::aws::spec::AwsOptions, Diagnostic> {
    let mut base = current.map(|i| i.aws.clone()).unwrap_or_default();
    base.log_exports = crate::backend::aws::spec::required_log_exports("aws", engine);
    aws_resource::options_from(planned, &base)
}

/// Create or update on RDS with every RDS-only setting and the `timeouts` block. A create that fails after RDS
/// accepted it keeps the instance in state (Terraform marks it tainted): never an orphan.
async fn apply_on_aws(
    aws: &crate::backend::aws::AwsBackend,
    req: &ApplyRequest,
    spec: DatabaseSpec,
    default_tags: &BTreeMap<String, String>,
    mut resp: ApplyResponse,
) -> ApplyResponse {
    let creating = req.prior.is_null();
    let timeouts = match aws_resource::timeouts_from(&req.planned) {
        Ok(t) => t,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let current = if creating {
        None
    } else {
        match aws.describe_instance(&spec.name).await {
            Ok(i) => i,
            Err(e) => {
                resp.diagnostics.push(backend_diagnostic(
                    &format!("Could not update database {:?}", spec.name),
                    &e,
                ));
                return resp;
            }
        }
    };
    let opts = match aws_options(&req.planned, &spec.engine, current.as_ref()) {
        Ok(o) => o,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let rds_req = crate::backend::aws::spec::RdsInstanceSpec {
        spec: spec.clone(),
        aws: opts,
    };
    let finish = |resp: &mut ApplyResponse, inst: &RdsInstance| {
        resp.new_state = state_from(&inst.info, Some(&req.planned), "aws", default_tags);
        merge_aws(&mut resp.new_state, inst, Some(&req.planned));
        if req.planned.get("policy_decision").is_unknown() {
            resp.new_state.set(
                "policy_decision",
                guardrails::summary_from_private(&req.planned_private),
            );
        }
    };
    if creating {
        match aws.create_instance(&rds_req, timeouts.create).await {
            Ok(inst) => finish(&mut resp, &inst),
            Err(f) => {
                if let Some(inst) = &f.instance {
                    finish(&mut resp, inst);
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
        match aws.modify_instance(&rds_req, timeouts.update).await {
            Ok(inst) => finish(&mut resp, &inst),
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

/// `log_exports` as a list value: what the backend exports for this engine (see the aws backend).
fn log_exports_value(backend: &str, engine: &str) -> Value {
    Value::List(
        crate::backend::aws::spec::required_log_exports(backend, engine)
            .into_iter()
            .map(Value::string)
            .collect(),
    )
}

/// The state after apply/read/import: configuration-like attributes from `base` (the plan) where it has them,
/// everything the backend knows from `info`.
fn state_from(
    info: &DatabaseInfo,
    base: Option<&Value>,
    backend: &str,
    default_tags: &BTreeMap<String, String>,
) -> Value {
    let spec = &info.spec;
    let mut m = BTreeMap::new();
    let user_tags: BTreeMap<String, String> = match base.map(|b| b.get("tags")) {
        Some(Value::Map(t)) => t
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        Some(_) => BTreeMap::new(),
        // Import/read without a plan: tags are what the backend has beyond the defaults.
        None => user_tags(spec, default_tags, &Value::Null),
    };
    m.insert("id".into(), Value::string(&info.id));
    m.insert("name".into(), Value::string(&spec.name));
    m.insert("engine".into(), Value::string(&spec.engine));
    m.insert(
        "engine_version".into(),
        Value::string(spec.engine_version.clone().unwrap_or_else(|| {
            info.engine_version_actual
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string()
        })),
    );
    m.insert("tier".into(), Value::string(&spec.tier));
    m.insert("instance_class".into(), Value::string(&spec.instance_class));
    m.insert("db_name".into(), Value::string(&spec.db_name));
    m.insert(
        "master_username".into(),
        Value::string(&spec.master_username),
    );
    m.insert("multi_az".into(), Value::Bool(spec.multi_az));
    m.insert(
        "backup_retention_days".into(),
        Value::int(i64::from(spec.backup_retention_days)),
    );
    m.insert(
        "deletion_protection".into(),
        Value::Bool(spec.deletion_protection),
    );
    m.insert(
        "performance_insights".into(),
        base.map(|b| b.get("performance_insights").clone())
            .unwrap_or(Value::Bool(false)),
    );
    m.insert(
        "monitoring_interval_seconds".into(),
        base.map(|b| b.get("monitoring_interval_seconds").clone())
            .unwrap_or(Value::int(0)),
    );
    m.insert(
        "log_exports".into(),
        log_exports_value(backend, &spec.engine),
    );
    m.insert(
        "skip_final_snapshot".into(),
        base.map(|b| b.get("skip_final_snapshot").clone())
            .unwrap_or(Value::Bool(false)),
    );
    m.insert(
        "final_snapshot_identifier".into(),
        base.map(|b| b.get("final_snapshot_identifier").clone())
            .unwrap_or(Value::Null),
    );
    m.insert(
        "parameters".into(),
        if spec.parameters.is_empty() && base.is_none_or(|b| b.get("parameters").is_null()) {
            Value::Null
        } else {
            string_map(&spec.parameters)
        },
    );
    m.insert(
        "tags".into(),
        if user_tags.is_empty() && base.is_none_or(|b| b.get("tags").is_null()) {
            Value::Null
        } else {
            string_map(&user_tags)
        },
    );
    m.insert("tags_all".into(), string_map(&spec.tags));
    m.insert("endpoint".into(), Value::string(&info.endpoint));
    m.insert("port".into(), Value::int(i64::from(info.port)));
    m.insert("status".into(), Value::string(info.status.as_str()));
    m.insert(
        "connection_string".into(),
        Value::string(&info.connection_string),
    );
    m.insert(
        "master_user_secret_path".into(),
        Value::string(&info.master_user_secret),
    );
    m.insert(
        "timeouts".into(),
        base.map(|b| b.get("timeouts").clone())
            .unwrap_or(Value::Null),
    );
    m.extend(aws_resource::state_values(None, base));
    m.insert(
        "data_dir".into(),
        info.data_dir
            .as_ref()
            .map(|d| Value::string(d.display().to_string()))
            .unwrap_or(Value::Null),
    );
    m.insert(
        "engine_version_actual".into(),
        Value::string(&info.engine_version_actual),
    );
    m.insert("backend".into(), Value::string(backend));
    m.insert(
        "policy_decision".into(),
        match base.map(|b| b.get("policy_decision")) {
            Some(v) if !v.is_unknown() => v.clone(),
            _ => Value::Null,
        },
    );
    Value::Object(m)
}

/// The plan with everything but `policy_decision` and `status`, to tell a real change from a no-op.
fn substance(v: &Value) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.remove("policy_decision");
        m.remove("status");
    }
    v
}

fn json_unknown_paths(v: &Value) -> Vec<String> {
    match v {
        Value::Object(m) => m
            .iter()
            .filter(|(_, x)| !x.is_wholly_known())
            .map(|(k, _)| k.clone())
            .collect(),
        _ => vec![],
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
        if let Ok(Field::Known(n)) = get_i64(config, "backup_retention_days") {
            if !(0..=35).contains(&n) {
                d.error_at(
                    AttributePath::attr("backup_retention_days"),
                    "Invalid backup retention",
                    format!("backup_retention_days must be between 0 and 35 days, got {n}."),
                );
            }
        }
        d
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
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
        let default_major = if backend.kind() == "local" {
            crate::backend::local::pg::PgBinaries::locate(None)
                .ok()
                .map(|b| b.major)
        } else {
            None
        };
        let mut planned = req.planned.clone();
        expand(
            &mut planned,
            &req.config,
            &req.prior_state,
            &tier,
            default_major.as_deref(),
        );
        let default_tags = self.env.default_tags().await;
        let mut tags_all = default_tags.clone();
        // Every database carries its tier as a tag, so cost reports and guardrails see it without extra config.
        tags_all
            .entry("tier".to_string())
            .or_insert_with(|| tier_name.clone());
        match get_string_map(&req.config, "tags") {
            Ok(Field::Known(t)) => {
                tags_all.extend(t);
                planned.set("tags_all", string_map(&tags_all));
            }
            Ok(Field::Unknown) => planned.set("tags_all", Value::Unknown),
            Ok(Field::Null) => planned.set("tags_all", string_map(&tags_all)),
            Err(d) => resp.diagnostics.push(d),
        }
        planned.set("backend", Value::string(backend.kind()));
        aws_resource::plan_values(
            &mut planned,
            &req.config,
            &req.prior_state,
            backend.as_aws().is_some(),
        );
        planned.set(
            "log_exports",
            match planned.get("engine").as_str() {
                Some(engine) => log_exports_value(backend.kind(), engine),
                None => Value::Unknown,
            },
        );
        if req.prior_state.is_null() && backend.kind() == "local" {
            planned.set("endpoint", Value::string("127.0.0.1"));
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

        // Backend checks need every configurable value known.
        let all_known = CONFIGURABLE
            .iter()
            .all(|n| planned.get(n).is_wholly_known());
        let spec = if all_known {
            spec_from(&planned, &tiers).ok()
        } else {
            None
        };
        if let Some(spec) = spec.as_ref().filter(|_| tier_allowed) {
            if let Err(e) = backend.validate_spec(spec) {
                resp.diagnostics
                    .push(backend_diagnostic("Invalid database settings", &e));
            }
            if backend.as_aws().is_some() && backend.validate_spec(spec).is_ok() {
                match aws_options(&planned, &spec.engine, None) {
                    Ok(aws) => {
                        let req = crate::backend::aws::spec::RdsInstanceSpec {
                            spec: spec.clone(),
                            aws,
                        };
                        if let Err(e) = crate::backend::aws::spec::validate(&req) {
                            resp.diagnostics
                                .push(backend_diagnostic("Invalid database settings", &e));
                        }
                    }
                    Err(d) => resp.diagnostics.push(d),
                }
                if let Err(d) = aws_resource::timeouts_from(&planned) {
                    resp.diagnostics.push(d);
                }
                for d in aws_resource::plan_checks(&planned, &req.prior_state) {
                    resp.diagnostics.push(d);
                }
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
                if backend.kind() == "local"
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
                resp.diagnostics.extend(guardrails::diagnostics(&decision));
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

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
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

        // Destroy.
        if req.planned.is_null() {
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
                        format!("Database {name:?} has deletion_protection = true, so it was not destroyed. Set deletion_protection = false, run terraform apply, then destroy again."),
                    )
                    .at(AttributePath::attr("deletion_protection")),
                );
                return resp;
            }
            let opts = DeleteOptions {
                skip_final_backup: req.prior.get("skip_final_snapshot").as_bool() == Some(true),
                final_backup_name: req
                    .prior
                    .get("final_snapshot_identifier")
                    .as_str()
                    .map(str::to_string),
            };
            let deleted = match backend.as_aws() {
                Some(aws) => match aws_resource::timeouts_from(&req.prior) {
                    Ok(t) => aws.delete_instance(&name, &opts, t.delete).await,
                    Err(d) => {
                        resp.new_state = req.prior.clone();
                        resp.diagnostics.push(d);
                        return resp;
                    }
                },
                None => backend.delete(&name, &opts).await,
            };
            match deleted {
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
            return resp;
        }

        let spec = match spec_from(&req.planned, &tiers) {
            Ok(s) => s,
            Err(d) => {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(d);
                return resp;
            }
        };
        if let Some(aws) = backend.as_aws() {
            return apply_on_aws(aws, &req, spec, &default_tags, resp).await;
        }
        let result = if req.prior.is_null() {
            backend.create(&spec).await
        } else {
            backend.update(&spec.name, &spec).await.map(|o| o.info)
        };
        match result {
            Ok(info) => {
                resp.new_state =
                    state_from(&info, Some(&req.planned), backend.kind(), &default_tags);
                if req.planned.get("policy_decision").is_unknown() {
                    resp.new_state.set(
                        "policy_decision",
                        guardrails::summary_from_private(&req.planned_private),
                    );
                }
            }
            Err(e) => {
                resp.new_state = req.prior.clone();
                // A create that failed while the backend was working (e.g. the wait for "available" timed out)
                // may have left a database: record it, so Terraform marks it tainted instead of orphaning it.
                // Not for AlreadyExists/Invalid, where an existing database is not ours.
                if req.prior.is_null() && matches!(e, BackendError::Command { .. }) {
                    if let Ok(Some(info)) = backend.read(&spec.name).await {
                        resp.new_state =
                            state_from(&info, Some(&req.planned), backend.kind(), &default_tags);
                        if req.planned.get("policy_decision").is_unknown() {
                            resp.new_state.set(
                                "policy_decision",
                                guardrails::summary_from_private(&req.planned_private),
                            );
                        }
                    }
                }
                let what = if req.prior.is_null() {
                    "create"
                } else {
                    "update"
                };
                resp.diagnostics.push(backend_diagnostic(
                    &format!("Could not {what} database {:?}", spec.name),
                    &e,
                ));
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
        let Some(name) = req.current.get("name").as_str().map(str::to_string) else {
            return resp;
        };
        match read_full(&*backend, &name).await {
            Ok(None) => resp.new_state = Value::Null,
            Ok(Some((info, rds))) => {
                let default_tags = self.env.default_tags().await;
                resp.new_state =
                    state_from(&info, Some(&req.current), backend.kind(), &default_tags);
                if let Some(i) = &rds {
                    merge_aws(&mut resp.new_state, i, Some(&req.current));
                    if let Some(w) = aws_resource::pending_warning(i) {
                        resp.diagnostics.warning_at(
                            AttributePath::attr("pending_modifications"),
                            "Pending RDS modifications",
                            w,
                        );
                    }
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
        let found = match read_full(&*backend, id).await {
            Ok(Some(x)) => Ok(x),
            Ok(None) => Err(BackendError::NotFound {
                backend: backend.kind(),
                name: id.to_string(),
            }),
            Err(e) => Err(e),
        };
        match found {
            Ok((info, rds)) => {
                let default_tags = self.env.default_tags().await;
                let mut state = state_from(&info, None, backend.kind(), &default_tags);
                if let Some(i) = &rds {
                    merge_aws(&mut state, i, None);
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

#[cfg(test)]
mod tests {
    use super::*;
    use policy::model::tiers::TierCatalogue;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn tier_expansion_fills_only_what_config_leaves_null() {
        let cat = TierCatalogue::embedded();
        let tier = cat.get("tier-2").unwrap();
        let config = obj(&[
            ("name", Value::string("orders-eu")),
            ("tier", Value::string("tier-2")),
            ("backup_retention_days", Value::int(10)),
        ]);
        let mut planned = config.clone();
        expand(&mut planned, &config, &Value::Null, tier, Some("15"));
        assert_eq!(planned.get("backup_retention_days"), &Value::int(10));
        assert_eq!(planned.get("deletion_protection"), &Value::Bool(true));
        assert_eq!(
            planned.get("instance_class"),
            &Value::string("db.t4g.medium")
        );
        assert_eq!(planned.get("db_name"), &Value::string("orders_eu"));
        assert_eq!(planned.get("engine_version"), &Value::string("15"));
        assert_eq!(
            planned.get("master_username"),
            &Value::string("orders_eu_admin")
        );
    }

    fn base_config(extra: &[(&str, Value)]) -> Value {
        let mut v = obj(&[
            ("name", Value::string("orders")),
            ("tier", Value::string("tier-3")),
        ]);
        for n in CONFIGURABLE {
            if v.get(n).is_null() {
                v.set(n, Value::Null);
            }
        }
        for (k, x) in extra {
            v.set(k, x.clone());
        }
        v
    }

    async fn plan(prior: Value, config: Value) -> PlanResponse {
        let env = Arc::new(env::StaticEnv::local("/nonexistent"));
        let r = DatabaseResource::new(env);
        r.plan(PlanRequest {
            prior_state: prior,
            proposed: config.clone(),
            config: config.clone(),
            prior_private: vec![],
            planned: config,
        })
        .await
    }

    #[tokio::test]
    async fn restart_changes_and_stopped_databases_are_warned_about() {
        let created = plan(Value::Null, base_config(&[])).await;
        assert!(
            !created.diagnostics.has_errors(),
            "{:?}",
            created.diagnostics
        );
        let mut prior = created.planned.clone();
        prior.set("status", Value::string("stopped"));
        let resp = plan(
            prior,
            base_config(&[("instance_class", Value::string("db.t4g.medium"))]),
        )
        .await;
        let texts: Vec<String> = resp
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.summary, d.detail))
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("requires a database restart")
                    && t.contains("shared_buffers 32MB -> 128MB")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("orders is stopped; apply starts it")),
            "{texts:?}"
        );
        assert_eq!(resp.planned.get("status"), &Value::string("available"));
    }

    #[tokio::test]
    async fn without_policy_the_provider_still_refuses_tiers_the_backend_does_not_allow() {
        let resp = plan(
            Value::Null,
            base_config(&[("tier", Value::string("tier-1"))]),
        )
        .await;
        let d = resp
            .diagnostics
            .iter()
            .find(|d| d.summary.contains("not available on the local backend"));
        let d = d.unwrap_or_else(|| panic!("{:?}", resp.diagnostics));
        assert_eq!(d.attribute, Some(AttributePath::attr("tier")));
        assert!(d.detail.contains("tier-2 or tier-3"), "{}", d.detail);
        // One refusal per cause: no multi_az error from the backend for a tier that cannot run here anyway.
        assert!(!resp
            .diagnostics
            .iter()
            .any(|d| d.detail.contains("multi_az")));
    }

    #[test]
    fn unknown_tier_lists_valid_ones() {
        let cat = TierCatalogue::embedded();
        let e = tier_of(&cat, "gold").unwrap_err();
        assert!(
            e.detail.contains("tier-0, tier-1, tier-2, tier-3"),
            "{}",
            e.detail
        );
        assert_eq!(e.attribute, Some(AttributePath::attr("tier")));
    }

    #[test]
    fn backend_errors_land_on_their_attribute() {
        let e = BackendError::Invalid {
            field: "parameters.work_mem".into(),
            message: "bad".into(),
        };
        let d = backend_diagnostic("x", &e);
        assert_eq!(
            d.attribute,
            Some(AttributePath::attr("parameters").join_key("work_mem"))
        );
    }
}
