//! Typed views over `terraform show -json` output — the state (`values`, `outputs`) and a saved plan
//! (`resource_changes`, `output_changes`, `planned_values`) — so tests ask "what is attribute X of
//! resource Y" instead of walking JSON by hand, and failures list what *is* there.

use serde_json::{Map, Value};

use crate::error::HarnessError;

/// How many managed resources a plan creates, updates in place, replaces and destroys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeCounts {
    /// Resources to create (`["create"]`).
    pub create: usize,
    /// Resources to update in place (`["update"]`).
    pub update: usize,
    /// Resources to replace (`["delete","create"]` or `["create","delete"]`).
    pub replace: usize,
    /// Resources to destroy (`["delete"]`).
    pub destroy: usize,
}

impl std::fmt::Display for ChangeCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} to create, {} to update, {} to replace, {} to destroy",
            self.create, self.update, self.replace, self.destroy
        )
    }
}

/// Looks up a dotted attribute path (`"a.b.0.c"`) in a JSON value. A numeric segment indexes a list; `#`
/// gives the length of a list or map (as in Terraform's flatmap `tags.#`).
pub fn lookup(value: &Value, path: &str) -> Option<Value> {
    let mut cur = value;
    let segments: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    for (i, seg) in segments.iter().enumerate() {
        if *seg == "#" && i + 1 == segments.len() {
            return match cur {
                Value::Array(a) => Some(Value::from(a.len())),
                Value::Object(o) => Some(Value::from(o.len())),
                _ => None,
            };
        }
        cur = match cur {
            Value::Object(o) => o.get(*seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur.clone())
}

/// State as printed by `terraform show -json` (format 0.1/0.2).
#[derive(Debug, Clone)]
pub struct State {
    raw: Value,
}

impl State {
    /// Wraps the JSON printed by `terraform show -json`.
    pub fn from_json(raw: Value) -> Self {
        State { raw }
    }

    /// The whole JSON document.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Every resource object (managed and data) in the root module and all child modules.
    pub fn resources(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        if let Some(root) = self.raw.pointer("/values/root_module") {
            collect_resources(root, &mut out);
        }
        out
    }

    /// Addresses of every resource in state, e.g. `data.dbplatform_tier.t1`, `dbplatform_database.db`.
    pub fn addresses(&self) -> Vec<String> {
        self.resources()
            .iter()
            .filter_map(|r| r.get("address").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    /// Addresses of managed resources only (what `terraform destroy` must remove).
    pub fn managed_addresses(&self) -> Vec<String> {
        self.resources()
            .iter()
            .filter(|r| r.get("mode").and_then(Value::as_str) == Some("managed"))
            .filter_map(|r| r.get("address").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    /// The resource object at `address`, if in state.
    pub fn resource(&self, address: &str) -> Option<&Value> {
        self.resources()
            .into_iter()
            .find(|r| r.get("address").and_then(Value::as_str) == Some(address))
    }

    /// The `values` of the resource at `address`; the error lists the addresses that exist.
    pub fn values(&self, address: &str) -> Result<&Value, HarnessError> {
        self.resource(address)
            .and_then(|r| r.get("values"))
            .ok_or_else(|| {
                HarnessError::Expectation(format!(
                    "{address} is not in state; state has: [{}]",
                    self.addresses().join(", ")
                ))
            })
    }

    /// Attribute `path` (dotted, see [`lookup`]) of the resource at `address`; null when the attribute
    /// exists with a null value. The error names the attributes that exist.
    pub fn attr(&self, address: &str, path: &str) -> Result<Value, HarnessError> {
        let values = self.values(address)?;
        lookup(values, path).ok_or_else(|| {
            let keys = values
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            HarnessError::Expectation(format!(
                "{address} has no attribute {path}; its attributes are: [{keys}]"
            ))
        })
    }

    /// The value of root output `name`, if present.
    pub fn output(&self, name: &str) -> Option<&Value> {
        self.raw.pointer(&format!("/values/outputs/{name}/value"))
    }

    /// All root outputs as `name -> {value, sensitive}`.
    pub fn outputs(&self) -> Map<String, Value> {
        self.raw
            .pointer("/values/outputs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// True when the state holds no resources at all.
    pub fn is_empty(&self) -> bool {
        self.resources().is_empty()
    }
}

fn collect_resources<'a>(module: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(rs) = module.get("resources").and_then(Value::as_array) {
        out.extend(rs.iter());
    }
    if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
        for child in children {
            collect_resources(child, out);
        }
    }
}

/// A saved plan as printed by `terraform show -json PLANFILE` (format 0.2 on Terraform 1.0).
#[derive(Debug, Clone)]
pub struct Plan {
    raw: Value,
}

impl Plan {
    /// Wraps the JSON printed by `terraform show -json PLANFILE`.
    pub fn from_json(raw: Value) -> Self {
        Plan { raw }
    }

    /// The whole JSON document (what `dbpolicy check` reads).
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    fn resource_changes(&self) -> impl Iterator<Item = &Value> {
        self.raw
            .get("resource_changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    /// Create/update/replace/destroy counts over managed resources (data source reads are not counted).
    pub fn counts(&self) -> ChangeCounts {
        let mut c = ChangeCounts::default();
        for rc in self.resource_changes() {
            if rc.get("mode").and_then(Value::as_str) == Some("data") {
                continue;
            }
            match actions(rc).as_slice() {
                ["create"] => c.create += 1,
                ["update"] => c.update += 1,
                ["delete", "create"] | ["create", "delete"] => c.replace += 1,
                ["delete"] => c.destroy += 1,
                _ => {}
            }
        }
        c
    }

    /// True when Terraform would report "No changes": every resource and output change is a no-op (or a
    /// data source read).
    pub fn is_noop(&self) -> bool {
        self.changes().is_empty()
    }

    /// Every change that is not a no-op, as `address: [actions]` lines, for failure messages.
    pub fn changes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for rc in self.resource_changes() {
            let acts = actions(rc);
            if matches!(acts.as_slice(), ["no-op"] | ["read"]) {
                continue;
            }
            let addr = rc.get("address").and_then(Value::as_str).unwrap_or("?");
            out.push(format!("{addr}: {acts:?}"));
        }
        if let Some(outs) = self.raw.get("output_changes").and_then(Value::as_object) {
            for (name, change) in outs {
                let acts: Vec<&str> = change
                    .get("actions")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if acts != ["no-op"] {
                    out.push(format!("output.{name}: {acts:?}"));
                }
            }
        }
        out
    }

    /// The `resource_changes` entry for `address`.
    pub fn resource_change(&self, address: &str) -> Option<&Value> {
        self.resource_changes()
            .find(|rc| rc.get("address").and_then(Value::as_str) == Some(address))
    }

    /// The planned value of root output `name` (absent when unknown until apply).
    pub fn planned_output(&self, name: &str) -> Option<&Value> {
        self.raw
            .pointer(&format!("/planned_values/outputs/{name}/value"))
    }

    /// The `output_changes` entry for output `name`.
    pub fn output_change(&self, name: &str) -> Option<&Value> {
        self.raw.pointer(&format!("/output_changes/{name}"))
    }
}

fn actions(rc: &Value) -> Vec<&str> {
    rc.pointer("/change/actions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_walks_objects_lists_and_lengths() {
        let v = json!({"a": {"b": [10, {"c": "x"}]}, "tags": {"k": "v"}});
        assert_eq!(lookup(&v, "a.b.1.c"), Some(json!("x")));
        assert_eq!(lookup(&v, "a.b.#"), Some(json!(2)));
        assert_eq!(lookup(&v, "tags.#"), Some(json!(1)));
        assert_eq!(lookup(&v, "a.nope"), None);
        assert_eq!(lookup(&v, "a.b.9"), None);
    }

    #[test]
    fn state_finds_resources_in_child_modules_and_names_missing_ones() {
        let s = State::from_json(
            json!({"values": {"outputs": {"o": {"value": 1, "sensitive": false}},
            "root_module": {"resources": [{"address": "data.x.a", "mode": "data", "values": {"n": 1}}],
            "child_modules": [{"resources": [{"address": "module.m.y.b", "mode": "managed", "values": {"id": "i"}}]}]}}}),
        );
        assert_eq!(s.addresses(), vec!["data.x.a", "module.m.y.b"]);
        assert_eq!(s.managed_addresses(), vec!["module.m.y.b"]);
        assert_eq!(s.attr("module.m.y.b", "id").ok(), Some(json!("i")));
        assert_eq!(s.output("o"), Some(&json!(1)));
        let e = s.attr("y.z", "id").expect_err("missing").to_string();
        assert_eq!(
            e,
            "y.z is not in state; state has: [data.x.a, module.m.y.b]"
        );
        let e = s.attr("data.x.a", "m").expect_err("missing").to_string();
        assert_eq!(e, "data.x.a has no attribute m; its attributes are: [n]");
        assert!(State::from_json(json!({"format_version": "0.1"})).is_empty());
    }

    #[test]
    fn plan_counts_managed_changes_and_lists_non_noops() {
        let p = Plan::from_json(json!({
            "resource_changes": [
                {"address": "a.c", "mode": "managed", "change": {"actions": ["create"]}},
                {"address": "a.u", "mode": "managed", "change": {"actions": ["update"]}},
                {"address": "a.r", "mode": "managed", "change": {"actions": ["delete", "create"]}},
                {"address": "a.r2", "mode": "managed", "change": {"actions": ["create", "delete"]}},
                {"address": "a.d", "mode": "managed", "change": {"actions": ["delete"]}},
                {"address": "a.n", "mode": "managed", "change": {"actions": ["no-op"]}},
                {"address": "data.a.x", "mode": "data", "change": {"actions": ["read"]}}],
            "output_changes": {"o": {"actions": ["create"]}, "p": {"actions": ["no-op"]}}}));
        assert_eq!(
            p.counts(),
            ChangeCounts {
                create: 1,
                update: 1,
                replace: 2,
                destroy: 1
            }
        );
        assert!(!p.is_noop());
        assert_eq!(p.changes().len(), 6);
        assert!(p.changes().contains(&"output.o: [\"create\"]".to_string()));
        let noop = Plan::from_json(json!({"output_changes": {"p": {"actions": ["no-op"]}}}));
        assert!(noop.is_noop());
    }
}
