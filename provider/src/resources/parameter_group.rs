//! `dbplatform_parameter_group`: an RDS DB parameter group on the golden path. The engine family comes from
//! `engine` + `engine_version` (postgres16, mysql8.0); TLS is always forced (`rds.force_ssl` /
//! `require_secure_transport`) and the tier's baseline parameters are merged under the user's. Each parameter's
//! apply method (immediate, or pending-reboot for static ones) is shown, and changing a static parameter warns
//! that attached databases need a reboot. Only on `backend = "aws"`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::backend::aws::parameter_group::{ParameterGroupInfo, ParameterGroupSpec};
use crate::backend::aws::parameters::{apply_method, effective_parameters};
use crate::backend::aws::spec::{major_of, parameter_group_family, TIER_TAG_KEY};
use crate::backend::aws::AwsBackend;
use crate::backend::BackendError;
use crate::config::{BackendKind, ProviderState};
use crate::framework::access::{get_string, get_string_map, Field};
use crate::framework::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostic, Diagnostics,
    ImportResponse, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Type,
    Value,
};

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_parameter_group";
/// Description RDS stores when the configuration gives none.
pub const DEFAULT_DESCRIPTION: &str = "Managed by dbplatform";

/// The resource.
pub struct ParameterGroupResource {
    state: Arc<ProviderState>,
}

impl ParameterGroupResource {
    /// A resource using the provider's configuration (it needs backend = "aws").
    pub fn new(state: Arc<ProviderState>) -> Self {
        Self { state }
    }

    async fn backend(&self) -> Result<Arc<AwsBackend>, Diagnostic> {
        let cfg = self
            .state
            .known_config(&["backend", "aws"], "parameter groups live in RDS")
            .await?;
        if cfg.backend != BackendKind::Aws {
            return Err(Diagnostic::error(
                "Parameter groups need the aws backend",
                format!(
                    "{TYPE_NAME} creates an RDS DB parameter group, but the provider is configured with backend = \"{}\". Set backend = \"aws\", or set parameters on dbplatform_database instead.",
                    cfg.backend
                ),
            ));
        }
        self.state.aws_backend(&cfg)
    }

    async fn default_tags(&self) -> BTreeMap<String, String> {
        self.state
            .config()
            .await
            .map(|c| c.default_tags.clone())
            .unwrap_or_default()
    }
}

/// The schema.
pub fn schema() -> Schema {
    let s = Type::String;
    let map = Type::Map(Box::new(Type::String));
    Schema::new(
        0,
        Block::new("An RDS DB parameter group with TLS forced and the tier's baseline parameters merged under yours.")
            .attribute(Attribute::computed("id", s.clone(), "The group name.").use_state_for_unknown())
            .attribute(
                Attribute::required("name", s.clone(), "Group name: letters, digits and hyphens, starting with a letter.")
                    .requires_replace(),
            )
            .attribute(Attribute::required("engine", s.clone(), "postgres or mysql.").requires_replace())
            .attribute(
                Attribute::required("engine_version", s.clone(), "Major version, e.g. \"16\" or \"8.0\"; decides the family.")
                    .requires_replace(),
            )
            .attribute(Attribute::required("tier", s.clone(), "Tier whose baseline parameters are merged in."))
            .attribute(
                Attribute::optional_computed("description", s.clone(), "Description (RDS cannot change it in place).")
                    .default_value(Value::string(DEFAULT_DESCRIPTION))
                    .requires_replace(),
            )
            .attribute(Attribute::optional("parameters", map.clone(), "Your parameters; they win over the tier baseline (TLS cannot be turned off)."))
            .attribute(Attribute::optional("tags", map.clone(), "Tags; merged over the provider's default_tags."))
            .attribute(Attribute::computed("family", s.clone(), "Parameter group family, e.g. postgres16 or mysql8.0."))
            .attribute(Attribute::computed(
                "effective_parameters",
                map.clone(),
                "Every parameter the group sets: tier baseline, then yours, then the TLS settings.",
            ))
            .attribute(Attribute::computed(
                "apply_methods",
                map,
                "How each effective parameter reaches attached databases: immediate, or pending-reboot for static ones.",
            ))
            .attribute(Attribute::computed("arn", s, "The group's ARN.").use_state_for_unknown()),
    )
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

fn known_string(v: &Value, name: &str) -> Option<String> {
    match get_string(v, name) {
        Ok(Field::Known(s)) => Some(s),
        _ => None,
    }
}

fn known_map(v: &Value, name: &str) -> Result<Option<BTreeMap<String, String>>, Diagnostic> {
    match get_string_map(v, name)? {
        Field::Known(m) => Ok(Some(m)),
        Field::Null => Ok(Some(BTreeMap::new())),
        Field::Unknown => Ok(None),
    }
}

/// What the configuration (or plan) asks for, once everything is known.
struct Desired {
    name: String,
    engine: String,
    engine_version: String,
    tier: String,
    description: String,
    user: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
}

impl Desired {
    fn from_value(v: &Value) -> Result<Option<Self>, Diagnostic> {
        let (Some(name), Some(engine), Some(engine_version), Some(tier)) = (
            known_string(v, "name"),
            known_string(v, "engine"),
            known_string(v, "engine_version"),
            known_string(v, "tier"),
        ) else {
            return Ok(None);
        };
        let (Some(user), Some(tags)) = (known_map(v, "parameters")?, known_map(v, "tags")?) else {
            return Ok(None);
        };
        let description =
            known_string(v, "description").unwrap_or_else(|| DEFAULT_DESCRIPTION.to_string());
        Ok(Some(Self {
            name,
            engine,
            engine_version,
            tier,
            description,
            user,
            tags,
        }))
    }

    fn family(&self) -> Result<String, BackendError> {
        parameter_group_family(&self.engine, &self.engine_version)
    }

    fn effective(&self) -> Result<BTreeMap<String, String>, BackendError> {
        effective_parameters(&self.engine, &self.tier, "1.2", &self.user)
    }
}

fn field_diag(summary: &str, e: &BackendError) -> Diagnostic {
    let d = Diagnostic::error(summary, e.to_string());
    match e {
        BackendError::Invalid { field, .. } => match field.split_once('.') {
            Some(("parameters", key)) => d.at(AttributePath::attr("parameters").join_key(key)),
            _ => d.at(AttributePath::attr(field.as_str())),
        },
        _ => d,
    }
}

fn methods(engine: &str, params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    params
        .keys()
        .map(|k| (k.clone(), apply_method(engine, k).to_string()))
        .collect()
}

/// The state for a group as RDS reports it; `user` is the user's share of its parameters.
fn state_of(
    info: &ParameterGroupInfo,
    engine: &str,
    version: &str,
    tier: &str,
    user: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    configured: &Value,
) -> Value {
    let configured_tags = configured.get("tags");
    let configured_params = configured.get("parameters");
    let mut m = BTreeMap::new();
    m.insert("id".into(), Value::string(&info.name));
    m.insert("name".into(), Value::string(&info.name));
    m.insert("engine".into(), Value::string(engine));
    m.insert("engine_version".into(), Value::string(version));
    m.insert("tier".into(), Value::string(tier));
    m.insert("description".into(), Value::string(&info.description));
    m.insert(
        "parameters".into(),
        if user.is_empty() && configured_params.is_null() {
            Value::Null
        } else {
            string_map(user)
        },
    );
    m.insert(
        "tags".into(),
        if tags.is_empty() && configured_tags.is_null() {
            Value::Null
        } else {
            string_map(tags)
        },
    );
    m.insert("family".into(), Value::string(&info.family));
    m.insert("effective_parameters".into(), string_map(&info.parameters));
    m.insert(
        "apply_methods".into(),
        string_map(&methods(engine, &info.parameters)),
    );
    m.insert("arn".into(), Value::string(&info.arn));
    Value::Object(m)
}

/// Splits what RDS holds into (engine, major version, tier, the user's parameters, the user's tags).
fn recover(
    info: &ParameterGroupInfo,
    default_tags: &BTreeMap<String, String>,
) -> (
    String,
    String,
    String,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
) {
    let engine = if info.family.starts_with("mysql") {
        "mysql"
    } else {
        "postgres"
    }
    .to_string();
    let version = major_of(&engine, info.family.trim_start_matches(engine.as_str()));
    let tier = info.tags.get(TIER_TAG_KEY).cloned().unwrap_or_default();
    let baseline =
        effective_parameters(&engine, &tier, "1.2", &BTreeMap::new()).unwrap_or_default();
    let user = info
        .parameters
        .iter()
        .filter(|(k, v)| baseline.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tags = info
        .tags
        .iter()
        .filter(|(k, v)| {
            !k.starts_with("dbplatform:")
                && k.as_str() != TIER_TAG_KEY
                && default_tags.get(*k) != Some(*v)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (engine, version, tier, user, tags)
}

#[async_trait]
impl Resource for ParameterGroupResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(engine) = known_string(config, "engine") {
            if engine != "postgres" && engine != "mysql" {
                d.error_at(
                    AttributePath::attr("engine"),
                    "Unsupported engine",
                    format!("engine {engine:?} is not supported; use \"postgres\" or \"mysql\"."),
                );
                return d;
            }
            if let Some(v) = known_string(config, "engine_version") {
                let numeric = !v.is_empty()
                    && v.split('.')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
                if !numeric || major_of(&engine, &v) != v {
                    d.error_at(
                        AttributePath::attr("engine_version"),
                        "Invalid engine_version",
                        format!(
                            "{v:?} is not a {engine} major version; use e.g. {}.",
                            if engine == "mysql" {
                                "\"8.0\""
                            } else {
                                "\"16\""
                            }
                        ),
                    );
                }
            }
        }
        if let Some(name) = known_string(config, "name") {
            if !crate::backend::aws::parameters::valid_group_name(&name) {
                d.error_at(
                    AttributePath::attr("name"),
                    "Invalid parameter group name",
                    format!("{name:?} is not valid: letters, digits and hyphens, starting with a letter, no \"--\", not ending with a hyphen."),
                );
            }
        }
        if let (Some(engine), Ok(Some(user))) = (
            known_string(config, "engine"),
            known_map(config, "parameters"),
        ) {
            if let Err(e) = effective_parameters(
                &engine,
                known_string(config, "tier").as_deref().unwrap_or(""),
                "1.2",
                &user,
            ) {
                d.push(field_diag("Invalid parameter", &e));
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
        if let Err(d) = self.backend().await {
            resp.diagnostics.push(d);
            return resp;
        }
        let desired = match Desired::from_value(&req.planned) {
            Ok(Some(d)) => d,
            Ok(None) => {
                for n in ["family", "effective_parameters", "apply_methods"] {
                    resp.planned.set(n, Value::Unknown);
                }
                return resp;
            }
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        match (desired.family(), desired.effective()) {
            (Ok(family), Ok(effective)) => {
                resp.planned.set("family", Value::string(family));
                resp.planned.set(
                    "apply_methods",
                    string_map(&methods(&desired.engine, &effective)),
                );
                // Static parameters changing on an existing group: attached databases need a reboot.
                if let Some(prior) = req.prior_state.get("effective_parameters").as_entries() {
                    let rebooting: Vec<&str> = effective
                        .iter()
                        .filter(|(k, v)| prior.get(*k).and_then(Value::as_str) != Some(v.as_str()))
                        .filter(|(k, _)| apply_method(&desired.engine, k) == "pending-reboot")
                        .map(|(k, _)| k.as_str())
                        .collect();
                    if !rebooting.is_empty() {
                        resp.diagnostics.warning_at(
                            AttributePath::attr("parameters"),
                            "Attached databases need a reboot",
                            format!(
                                "{} {} static: RDS applies the change at each attached database's next reboot (their status shows pending-reboot until then).",
                                rebooting.join(", "),
                                if rebooting.len() == 1 { "is" } else { "are" }
                            ),
                        );
                    }
                }
                resp.planned
                    .set("effective_parameters", string_map(&effective));
            }
            (Err(e), _) | (_, Err(e)) => resp
                .diagnostics
                .push(field_diag("Invalid parameter group", &e)),
        }
        if req.prior_state.is_null() {
            resp.planned.set("id", Value::string(&desired.name));
        }
        resp
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut resp = ApplyResponse {
            new_state: req.prior.clone(),
            ..Default::default()
        };
        let backend = match self.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        if req.planned.is_null() {
            let name = req
                .prior
                .get("name")
                .as_str()
                .unwrap_or_default()
                .to_string();
            match backend.delete_parameter_group(&name).await {
                Ok(()) => resp.new_state = Value::Null,
                Err(e) => resp.diagnostics.push(field_diag(
                    &format!("Could not delete parameter group {name:?}"),
                    &e,
                )),
            }
            return resp;
        }
        let desired = match Desired::from_value(&req.planned) {
            Ok(Some(d)) => d,
            Ok(None) => {
                resp.diagnostics.error("Unknown values at apply", "name, engine, engine_version, tier, parameters and tags must be known at apply.");
                return resp;
            }
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let (family, effective) = match (desired.family(), desired.effective()) {
            (Ok(f), Ok(e)) => (f, e),
            (Err(e), _) | (_, Err(e)) => {
                resp.diagnostics
                    .push(field_diag("Invalid parameter group", &e));
                return resp;
            }
        };
        let mut tags = self.default_tags().await;
        tags.extend(desired.tags.clone());
        tags.insert(TIER_TAG_KEY.into(), desired.tier.clone());
        let spec = ParameterGroupSpec {
            name: desired.name.clone(),
            family,
            engine: desired.engine.clone(),
            description: desired.description.clone(),
            parameters: effective,
            tags,
        };
        match backend.ensure_parameter_group(&spec).await {
            Ok(info) => {
                resp.new_state = state_of(
                    &info,
                    &desired.engine,
                    &desired.engine_version,
                    &desired.tier,
                    &desired.user,
                    &desired.tags,
                    &req.planned,
                );
            }
            Err(e) => {
                // A group created before a later step failed is still ours: keep it in state.
                if req.prior.is_null() {
                    if let Ok(Some(info)) = backend.read_parameter_group(&desired.name).await {
                        resp.new_state = state_of(
                            &info,
                            &desired.engine,
                            &desired.engine_version,
                            &desired.tier,
                            &desired.user,
                            &desired.tags,
                            &req.planned,
                        );
                    }
                }
                resp.diagnostics.push(field_diag(
                    &format!("Could not apply parameter group {:?}", desired.name),
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
        let backend = match self.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let name = req
            .current
            .get("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        match backend.read_parameter_group(&name).await {
            Ok(None) => resp.new_state = Value::Null,
            Ok(Some(info)) => {
                let default_tags = self.default_tags().await;
                let (engine, version, tier, user, tags) = recover(&info, &default_tags);
                let engine = req
                    .current
                    .get("engine")
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or(engine);
                let version = req
                    .current
                    .get("engine_version")
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or(version);
                let tier = if tier.is_empty() {
                    req.current
                        .get("tier")
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                } else {
                    tier
                };
                resp.new_state =
                    state_of(&info, &engine, &version, &tier, &user, &tags, &req.current);
            }
            Err(e) => resp.diagnostics.push(field_diag(
                &format!("Could not read parameter group {name:?}"),
                &e,
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
        match backend.read_parameter_group(id).await {
            Ok(Some(info)) => {
                let default_tags = self.default_tags().await;
                let (engine, version, tier, user, tags) = recover(&info, &default_tags);
                resp.imported.push(state_of(&info, &engine, &version, &tier, &user, &tags, &Value::Null));
            }
            Ok(None) => resp.diagnostics.error(
                "Parameter group not found",
                format!("No RDS DB parameter group named {id:?} exists in this region; check the name and the provider's aws.region."),
            ),
            Err(e) => resp.diagnostics.push(field_diag(&format!("Could not import parameter group {id:?}"), &e)),
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_valid_for_terraform() {
        assert!(crate::framework::planning::schema_problems(&schema().block).is_empty());
    }

    #[test]
    fn recover_splits_baseline_user_and_tags() {
        let info = ParameterGroupInfo {
            name: "pg".into(),
            family: "postgres16".into(),
            description: DEFAULT_DESCRIPTION.into(),
            arn: "arn:aws:rds:us-east-1:1:pg:pg".into(),
            parameters: effective_parameters(
                "postgres",
                "tier-1",
                "1.2",
                &BTreeMap::from([("work_mem".to_string(), "8192".to_string())]),
            )
            .unwrap_or_default(),
            tags: BTreeMap::from([
                ("tier".to_string(), "tier-1".to_string()),
                ("dbplatform:managed".to_string(), "true".to_string()),
                ("owner".to_string(), "payments".to_string()),
                ("team".to_string(), "db".to_string()),
            ]),
        };
        let defaults = BTreeMap::from([("owner".to_string(), "payments".to_string())]);
        let (engine, version, tier, user, tags) = recover(&info, &defaults);
        assert_eq!(
            (engine.as_str(), version.as_str(), tier.as_str()),
            ("postgres", "16", "tier-1")
        );
        assert_eq!(
            user,
            BTreeMap::from([("work_mem".to_string(), "8192".to_string())])
        );
        assert_eq!(
            tags,
            BTreeMap::from([("team".to_string(), "db".to_string())])
        );
        let mysql = ParameterGroupInfo {
            family: "mysql8.0".into(),
            ..info
        };
        let (engine, version, ..) = recover(&mysql, &defaults);
        assert_eq!((engine.as_str(), version.as_str()), ("mysql", "8.0"));
    }
}
