//! The plan's `configuration` section: resources by module path (for their references) and provider
//! configurations (for default tags and the dbplatform backend).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// Constant default tags of a provider configuration (`default_tags { tags = {...} }` block or a map attribute).
pub(super) fn default_tags(provider: &Value) -> BTreeMap<String, String> {
    let Some(dt) = provider.pointer("/expressions/default_tags") else {
        return BTreeMap::new();
    };
    let constant = match dt {
        Value::Array(blocks) => blocks
            .first()
            .and_then(|b| b.pointer("/tags/constant_value")),
        other => other.get("constant_value"),
    };
    match constant {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The plan's `configuration` section indexed by module path and resource, to read references and providers.
pub(super) struct ConfigIndex<'a> {
    resources: HashMap<String, &'a Value>,
    providers: Option<&'a Map<String, Value>>,
}

impl<'a> ConfigIndex<'a> {
    pub(super) fn new(config: Option<&'a Value>) -> Self {
        let mut resources = HashMap::new();
        if let Some(root) = config.and_then(|c| c.get("root_module")) {
            Self::walk(root, "", &mut resources);
        }
        let providers = config
            .and_then(|c| c.get("provider_config"))
            .and_then(Value::as_object);
        ConfigIndex {
            resources,
            providers,
        }
    }

    fn walk(module: &'a Value, path: &str, out: &mut HashMap<String, &'a Value>) {
        if let Some(rs) = module.get("resources").and_then(Value::as_array) {
            for r in rs {
                if r.get("mode").and_then(Value::as_str) == Some("data") {
                    continue;
                }
                if let (Some(t), Some(n)) = (
                    r.get("type").and_then(Value::as_str),
                    r.get("name").and_then(Value::as_str),
                ) {
                    out.insert(join(path, &format!("{t}.{n}")), r);
                }
            }
        }
        if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
            for (name, call) in calls {
                if let Some(m) = call.get("module") {
                    Self::walk(m, &join(path, &format!("module.{name}")), out);
                }
            }
        }
    }

    pub(super) fn resource(&self, module_path: &str, rtype: &str, name: &str) -> Option<&'a Value> {
        self.resources
            .get(&join(module_path, &format!("{rtype}.{name}")))
            .copied()
    }

    /// The provider configuration a resource uses: its `provider_config_key`, else the root config of its provider.
    pub(super) fn provider_for(&self, resource: Option<&Value>, rtype: &str) -> Option<&'a Value> {
        let providers = self.providers?;
        if let Some(key) = resource
            .and_then(|r| r.get("provider_config_key"))
            .and_then(Value::as_str)
        {
            if let Some(p) = providers.get(key) {
                return Some(p);
            }
            if let Some((_, short)) = key.rsplit_once(':') {
                if let Some(p) = providers.get(short) {
                    return Some(p);
                }
            }
        }
        let local = rtype.split('_').next().unwrap_or(rtype);
        providers.get(local)
    }
}

/// `prefix.rest`, or `rest` at the root module.
pub(super) fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}.{rest}")
    }
}
