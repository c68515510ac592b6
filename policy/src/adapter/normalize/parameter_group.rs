//! Settings of parameter groups (`aws_db_parameter_group`, `aws_rds_cluster_parameter_group`,
//! `dbplatform_parameter_group`): the family and the parameters, read from the aws `parameter` set or the
//! dbplatform `parameters` map alike.

use std::collections::BTreeMap;

use serde_json::Value;

use super::spec::{Spec, Src, Ty};

pub(super) const PARAMETER_GROUP: &[Spec] = &[
    ("family", Ty::Str, Src::Attr("family")),
    ("parameters", Ty::StrList, Src::Parameters),
];

fn param_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
/// Parameter name -> value from an aws `parameter` set or a dbplatform `parameters` map.
pub(super) fn parameters_of(v: &Value) -> Result<Option<BTreeMap<String, String>>, String> {
    if let Some(Value::Object(m)) = v.get("parameters") {
        return Ok(Some(
            m.iter()
                .filter_map(|(k, x)| param_value(x).map(|s| (k.clone(), s)))
                .collect(),
        ));
    }
    match v.get("parameter") {
        None | Some(Value::Null) => Ok(Some(BTreeMap::new())),
        Some(Value::Array(items)) => {
            let mut out = BTreeMap::new();
            for it in items {
                let name = it.get("name").and_then(Value::as_str);
                let value = it.get("value").and_then(param_value);
                match (name, value) {
                    (Some(n), Some(val)) => {
                        out.insert(n.to_string(), val);
                    }
                    (Some(_), None) => {}
                    _ => {
                        return Err(format!(
                        "attribute parameter must be a set of {{name, value}} objects, got {it}"
                    ))
                    }
                }
            }
            Ok(Some(out))
        }
        Some(other) => Err(format!(
            "attribute parameter must be a set of {{name, value}} objects, got {other}"
        )),
    }
}
