//! `DynamicValue` <-> [`Value`] by a schema type. msgpack is what Terraform sends and what we answer with; JSON
//! is accepted when msgpack is empty; both empty (or the message absent) means null.

use crate::codec::{self, CodecError};
use crate::framework::{Diagnostic, Type, Value};
use crate::proto::tfplugin6 as pb;

/// Decodes a value Terraform sent.
pub fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, CodecError> {
    match dv {
        Some(dv) if !dv.msgpack.is_empty() => codec::msgpack::decode(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => codec::json::decode(&dv.json, ty),
        _ => Ok(Value::Null),
    }
}

/// Encodes a value for Terraform (msgpack).
pub fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, CodecError> {
    Ok(pb::DynamicValue {
        msgpack: codec::msgpack::encode(v, ty)?,
        json: Vec::new(),
    })
}

/// The diagnostic for a value from Terraform that does not fit the schema (`what`: "configuration",
/// "prior state", ...). Points at the attribute when the codec knows it.
pub fn invalid_from_terraform(what: &str, type_name: &str, err: &CodecError) -> Diagnostic {
    let d = Diagnostic::error(
        "Invalid value from Terraform",
        format!(
            "Invalid value from Terraform: the {what} for {type_name} could not be decoded: {err}. This usually \
             means the state or plan was written by another version of the dbplatform provider; run \
             `terraform init -upgrade` or report a bug."
        ),
    );
    match err.path().filter(|p| !p.steps.is_empty()) {
        Some(p) => d.at(p.clone()),
        None => d,
    }
}

/// The diagnostic for a value the provider produced that does not fit its own schema (a provider bug).
pub fn invalid_from_provider(what: &str, type_name: &str, err: &CodecError) -> Diagnostic {
    Diagnostic::error(
        "Provider produced an invalid value",
        format!(
            "The dbplatform provider produced a {what} for {type_name} that does not match its schema: {err}. \
             This is a bug in the provider; please report it."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn obj_type() -> Type {
        Type::Object(BTreeMap::from([("name".to_string(), Type::String)]))
    }

    #[test]
    fn empty_is_null_and_round_trip() {
        assert_eq!(decode(None, &obj_type()).unwrap(), Value::Null);
        assert_eq!(
            decode(Some(&pb::DynamicValue::default()), &obj_type()).unwrap(),
            Value::Null
        );
        let v = Value::Object(BTreeMap::from([("name".to_string(), Value::string("a"))]));
        let dv = encode(&v, &obj_type()).unwrap();
        assert_eq!(decode(Some(&dv), &obj_type()).unwrap(), v);
        let js = pb::DynamicValue {
            msgpack: vec![],
            json: br#"{"name":"b"}"#.to_vec(),
        };
        assert_eq!(
            decode(Some(&js), &obj_type()).unwrap().get("name"),
            &Value::string("b")
        );
    }

    #[test]
    fn malformed_is_a_diagnostic() {
        let bad = pb::DynamicValue {
            msgpack: vec![0xc1, 0xff, 0x00],
            json: vec![],
        };
        let err = decode(Some(&bad), &obj_type()).unwrap_err();
        let d = invalid_from_terraform("configuration", "dbplatform_database", &err);
        assert!(
            d.detail.starts_with("Invalid value from Terraform"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("dbplatform_database"));
    }
}
