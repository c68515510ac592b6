//! cty types: the codec decodes and encodes values by these, because msgpack and JSON carry no types.

use std::collections::BTreeMap;

/// A Terraform (cty) type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    /// `DynamicPseudoType`: the value carries its own type on the wire.
    Dynamic,
}

impl Type {
    /// The JSON type constraint Terraform expects in a schema's `type` bytes (e.g. `["list","string"]`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(fields) => {
                let m: serde_json::Map<String, serde_json::Value> = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect();
                json!(["object", m])
            }
        }
    }

    /// Parses a JSON type constraint (the inverse of [`Type::to_json`]), used for dynamic values.
    pub fn from_json(v: &serde_json::Value) -> Option<Type> {
        match v {
            serde_json::Value::String(s) => match s.as_str() {
                "string" => Some(Type::String),
                "number" => Some(Type::Number),
                "bool" => Some(Type::Bool),
                "dynamic" => Some(Type::Dynamic),
                _ => None,
            },
            serde_json::Value::Array(a) if a.len() == 2 => {
                let kind = a[0].as_str()?;
                match kind {
                    "list" => Some(Type::List(Box::new(Type::from_json(&a[1])?))),
                    "set" => Some(Type::Set(Box::new(Type::from_json(&a[1])?))),
                    "map" => Some(Type::Map(Box::new(Type::from_json(&a[1])?))),
                    "object" => {
                        let o = a[1].as_object()?;
                        let mut fields = BTreeMap::new();
                        for (k, t) in o {
                            fields.insert(k.clone(), Type::from_json(t)?);
                        }
                        Some(Type::Object(fields))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Short name for diagnostics ("list of string").
    pub fn friendly(&self) -> String {
        match self {
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::Dynamic => "any".into(),
            Type::List(t) => format!("list of {}", t.friendly()),
            Type::Set(t) => format!("set of {}", t.friendly()),
            Type::Map(t) => format!("map of {}", t.friendly()),
            Type::Object(_) => "object".into(),
        }
    }
}
