//! One `resource_changes` entry -> its normalized input (or the name it is counted under when the policy does not
//! read it), checked field by field with messages that name the entry.

use std::collections::BTreeSet;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::config::{default_tags, ConfigIndex};
use super::error::{json_error, kind_of, AdapterError};
use super::plan_inputs::ConfigLocation;
use super::related::{Lookups, Meta};
use crate::adapter::address::{self, module_config_path};
use crate::adapter::normalize::{self, base_kind, RawResource};
use crate::model::{Action, Input, PlanContext};

/// What one resource change gives.
pub(super) enum Built<'a> {
    /// Not a resource the policy reads: counted under this name.
    Skipped(String),
    Input(Box<BuiltInput<'a>>),
    /// An input built and dropped ([`ParseOptions::keep_inputs`](super::options::ParseOptions::keep_inputs) off).
    Counted,
}

/// An input with what reports and related-resource resolution need of it.
pub(super) struct BuiltInput<'a> {
    pub(super) input: Input,
    pub(super) location: ConfigLocation,
    pub(super) meta: Meta<'a>,
}

/// One `resource_changes` entry -> its input, or the name it is skipped under.
pub(super) fn build_change<'a>(
    i: usize,
    rc_text: &RawValue,
    config: &ConfigIndex<'a>,
    context: &PlanContext,
    file: &str,
) -> Result<Built<'a>, AdapterError> {
    // The whole file was read as JSON already: only a nesting deeper than the parser allows fails here.
    let mut rc: Value = serde_json::from_str(rc_text.get()).map_err(|e| json_error(e, file))?;
    // Moved out (not cloned) into the input; checked below in the same order as every other field.
    let (before, after) = match rc.get_mut("change").and_then(Value::as_object_mut) {
        Some(c) => (c.remove("before"), c.remove("after")),
        None => (None, None),
    };
    let wrong = |location: String, message: String| AdapterError::WrongType {
        file: file.to_string(),
        location,
        message,
    };
    let Some(rc) = rc.as_object() else {
        return Err(wrong(
            format!("resource_changes[{i}]"),
            format!("must be an object, got {}", kind_of(&rc)),
        ));
    };
    let addr = str_field(rc, "address").ok_or_else(|| {
        wrong(
            format!("resource_changes[{i}]"),
            "has no `address` string".into(),
        )
    })?;
    let loc = format!("resource_changes[{i}] ({addr})");
    let rtype =
        str_field(rc, "type").ok_or_else(|| wrong(loc.clone(), "has no `type` string".into()))?;
    // Every entry is checked, also of types no rule reads: a corrupt plan must not pass.
    let actions = validate(rc, &before, &after).map_err(|m| wrong(loc.clone(), m))?;
    let mode = str_field(rc, "mode").unwrap_or("managed");
    if mode == "data" {
        return Ok(Built::Skipped(format!("data.{rtype}")));
    }
    if base_kind(rtype).is_none() {
        return Ok(Built::Skipped(rtype.to_string()));
    }
    if rc.get("deposed").is_some_and(|d| !d.is_null()) {
        return Ok(Built::Skipped(format!("{rtype} (deposed)")));
    }
    // `forget` removes the resource from the state and leaves the database as it is: nothing to decide.
    if actions == ["forget"] {
        return Ok(Built::Skipped(format!("{rtype} (forget)")));
    }
    let parsed = address::parse(addr);
    let name = match str_field(rc, "name") {
        Some(n) => n.to_string(),
        None => parsed
            .as_ref()
            .map(|p| p.name.clone())
            .ok_or_else(|| wrong(loc.clone(), "has no `name` string".into()))?,
    };
    let module = match str_field(rc, "module_address") {
        Some(m) => m.to_string(),
        None => parsed
            .as_ref()
            .map(|p| p.module.clone())
            .unwrap_or_default(),
    };
    let index = match rc.get("index") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.clone()),
    };
    let Some(change) = rc.get("change").and_then(Value::as_object) else {
        return Err(wrong(loc, "has no `change` object".into()));
    };
    let action = match actions.as_slice() {
        // A new object replaces one that is forgotten (not destroyed): a create as far as rules go.
        ["create", "forget"] => Some(Action::Create),
        a => Action::from_plan_actions(a),
    }
    .ok_or_else(|| {
        wrong(
            loc.clone(),
            format!("change.actions {actions:?} is not an action Terraform plans"),
        )
    })?;
    let mut unknown = BTreeSet::new();
    if let Some(t) = change.get("after_unknown") {
        normalize::true_paths(t, "", &mut unknown);
    }
    let mut sensitive = BTreeSet::new();
    for key in ["before_sensitive", "after_sensitive"] {
        if let Some(t) = change.get(key) {
            normalize::true_paths(t, "", &mut sensitive);
        }
    }
    let cfg_module = module_config_path(&module);
    let cfg = config.resource(&cfg_module, rtype, &name);
    let provider_cfg = config.provider_for(cfg, rtype);
    let backend = if rtype.starts_with("aws_") {
        "aws".to_string()
    } else {
        provider_cfg
            .and_then(|p| p.pointer("/expressions/backend/constant_value"))
            .and_then(Value::as_str)
            .unwrap_or("aws")
            .to_string()
    };
    let raw = RawResource {
        address: addr.to_string(),
        module: module.clone(),
        resource_type: rtype.to_string(),
        name: name.clone(),
        index,
        action,
        before: before.filter(|v| !v.is_null()),
        after: after.filter(|v| !v.is_null()),
        unknown: unknown.into_iter().collect(),
        sensitive: sensitive.into_iter().collect(),
        backend,
        default_tags: provider_cfg.map(default_tags).unwrap_or_default(),
        provider_region: provider_cfg
            .and_then(|p| p.pointer("/expressions/region/constant_value"))
            .and_then(Value::as_str)
            .map(str::to_string),
        context: context.clone(),
    };
    let input = normalize::build(raw).map_err(|m| wrong(loc.clone(), m))?;
    let lookups = Lookups::of(&input);
    Ok(Built::Input(Box::new(BuiltInput {
        input,
        location: ConfigLocation {
            module: cfg_module,
            resource_type: rtype.to_string(),
            name,
        },
        meta: Meta {
            config: cfg,
            lookups,
        },
    })))
}

/// The action lists Terraform writes in `change.actions` (`terraform show -json`, 0.12 to 1.15).
const ACTIONS: &[&[&str]] = &[
    &["no-op"],
    &["create"],
    &["read"],
    &["update"],
    &["delete"],
    &["forget"],
    &["delete", "create"],
    &["create", "delete"],
    &["create", "forget"],
];

/// Checks the shape of one `resource_changes` entry (whatever its type): `mode` (when present), `name`, `change.actions` from
/// Terraform's closed set, `before`/`after` objects or null, `after_unknown` and the sensitivity maps objects or
/// booleans. Returns the actions.
fn validate<'v>(
    rc: &'v Map<String, Value>,
    before: &Option<Value>,
    after: &Option<Value>,
) -> Result<Vec<&'v str>, String> {
    match rc.get("mode") {
        Some(Value::String(m)) if m == "managed" || m == "data" => {}
        Some(Value::String(m)) => {
            return Err(format!(
                "mode {m:?} is not a mode Terraform plans (managed or data)"
            ))
        }
        Some(v) => return Err(format!("mode must be a string, got {}", kind_of(v))),
        // Terraform always writes it; hand-written plans often leave it out, and mean a managed resource.
        None => {}
    }
    if let Some(v) = rc.get("name").filter(|v| !v.is_string()) {
        return Err(format!("name must be a string, got {}", kind_of(v)));
    }
    let Some(change) = rc.get("change").and_then(Value::as_object) else {
        return Err("has no `change` object".into());
    };
    let actions: Vec<&str> = match change.get("actions") {
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
            a.iter().filter_map(Value::as_str).collect()
        }
        _ => return Err("change.actions must be a list of strings".into()),
    };
    if !ACTIONS.contains(&actions.as_slice()) {
        return Err(format!(
            "change.actions {actions:?} is not an action Terraform plans (no-op, create, read, update, delete, forget, or a replace: delete+create, create+delete)"
        ));
    }
    for (key, v) in [("before", before), ("after", after)] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_null() && !v.is_object()) {
            return Err(format!(
                "change.{key} must be an object or null, got {}",
                kind_of(v)
            ));
        }
    }
    for key in ["after_unknown", "before_sensitive", "after_sensitive"] {
        if let Some(v) = change
            .get(key)
            .filter(|v| !v.is_null() && !v.is_object() && !v.is_boolean())
        {
            return Err(format!(
                "change.{key} must be an object or a boolean, got {}",
                kind_of(v)
            ));
        }
    }
    Ok(actions)
}

/// A string field of a JSON object.
pub(super) fn str_field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}
