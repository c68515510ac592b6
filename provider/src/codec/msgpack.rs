//! cty's msgpack encoding, the form of every `DynamicValue` Terraform exchanges with the provider over gRPC.
//!
//! Wire rules (as go-cty's `cty/msgpack`):
//! - unknown: a msgpack extension. cty writes type 0 with a 1-byte payload (`d4 00 00`) and so do we; on decode
//!   *any* extension is taken as unknown, as cty does (newer Terraform sends refined unknowns as type 12);
//! - null: nil;
//! - numbers: an integer when the value is one (int or uint), else float64 when the float is exactly the value,
//!   else a string with the decimal text. Decode accepts int, uint, float32/64 and decimal strings;
//! - objects: maps keyed by attribute name (sorted); lists, sets and tuples: arrays; maps: maps;
//! - `dynamic`: a 2-element array `[type JSON as bin, value]`; a null or unknown dynamic value is written bare.

use rmpv::Value as Raw;

use super::path_steps::{index_step, with_step};
use super::{canonical_cmp, exact_f64, infer_wire_type, number_from_f64, CodecError, WireType};
use crate::framework::{AttributePath, Number, Step, Type, Value};

/// Nesting limit for decoding: far beyond any schema, low enough that hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 512;

/// Decodes msgpack `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut rd = bytes;
    let raw = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH).map_err(|e| {
        CodecError::MalformedMsgpack {
            message: e.to_string(),
        }
    })?;
    if !rd.is_empty() {
        return Err(CodecError::TrailingData { count: rd.len() });
    }
    let mut path = AttributePath::root();
    from_raw(&raw, &WireType::from(ty), &mut path)
}

/// Encodes `v` as msgpack for type `ty`; fails when the value does not have the type's shape.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut buf = Vec::with_capacity(128);
    let mut path = AttributePath::root();
    write(&mut buf, v, &WireType::from(ty), &mut path)?;
    Ok(buf)
}

/// What a raw msgpack value is, for "got ..." in messages.
fn raw_kind(v: &Raw) -> String {
    match v {
        Raw::Nil => "null".into(),
        Raw::Boolean(_) => "bool".into(),
        Raw::Integer(_) => "integer".into(),
        Raw::F32(_) | Raw::F64(_) => "float".into(),
        Raw::String(s) if s.is_str() => "string".into(),
        Raw::String(_) => "string with invalid UTF-8".into(),
        Raw::Binary(_) => "binary".into(),
        Raw::Array(a) => format!("array of {} element(s)", a.len()),
        Raw::Map(_) => "map".into(),
        Raw::Ext(t, _) => format!("extension type {t}"),
    }
}

fn from_raw(v: &Raw, ty: &WireType, path: &mut AttributePath) -> Result<Value, CodecError> {
    if let Raw::Ext(..) = v {
        return Ok(Value::Unknown);
    }
    if let WireType::Dynamic | WireType::Any = ty {
        return decode_dynamic(v, path);
    }
    if let Raw::Nil = v {
        return Ok(Value::Null);
    }
    match ty {
        WireType::String => match v {
            Raw::String(s) => match s.as_str() {
                Some(s) => Ok(Value::String(s.to_string())),
                None => Err(CodecError::mismatch(path, ty, raw_kind(v))),
            },
            Raw::Binary(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(Value::String(s.to_string())),
                Err(_) => Err(CodecError::mismatch(
                    path,
                    ty,
                    "binary that is not UTF-8 text",
                )),
            },
            _ => Err(CodecError::mismatch(path, ty, raw_kind(v))),
        },
        WireType::Bool => match v {
            Raw::Boolean(b) => Ok(Value::Bool(*b)),
            _ => Err(CodecError::mismatch(path, ty, raw_kind(v))),
        },
        WireType::Number => decode_number(v, path).map(Value::Number),
        WireType::List(e) => {
            let items = v
                .as_array()
                .ok_or_else(|| CodecError::mismatch(path, ty, raw_kind(v)))?;
            decode_elements(items, e, path).map(Value::List)
        }
        WireType::Set(e) => {
            let items = v
                .as_array()
                .ok_or_else(|| CodecError::mismatch(path, ty, raw_kind(v)))?;
            decode_elements(items, e, path).map(|els| Value::Set(super::canonical_set(els)))
        }
        WireType::Tuple(ts) => {
            let items = v
                .as_array()
                .ok_or_else(|| CodecError::mismatch(path, ty, raw_kind(v)))?;
            if items.len() != ts.len() {
                return Err(CodecError::mismatch(
                    path,
                    ty,
                    format!(
                        "array of {} element(s) (the tuple has {})",
                        items.len(),
                        ts.len()
                    ),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.iter().zip(ts).enumerate() {
                out.push(with_step(path, index_step(i), |p| from_raw(item, t, p))?);
            }
            Ok(Value::List(out))
        }
        WireType::Map(e) => {
            let entries = v
                .as_map()
                .ok_or_else(|| CodecError::mismatch(path, ty, raw_kind(v)))?;
            let mut out = std::collections::BTreeMap::new();
            for (k, item) in entries {
                let key = map_key(k, path)?;
                if out.contains_key(key) {
                    return Err(CodecError::DuplicateKey {
                        path: path.clone(),
                        key: key.to_string(),
                    });
                }
                let val = with_step(path, Step::ElementKeyString(key.to_string()), |p| {
                    from_raw(item, e, p)
                })?;
                out.insert(key.to_string(), val);
            }
            Ok(Value::Map(out))
        }
        WireType::Object(fields) => {
            let entries = v
                .as_map()
                .ok_or_else(|| CodecError::mismatch(path, ty, raw_kind(v)))?;
            let mut out = std::collections::BTreeMap::new();
            for (k, item) in entries {
                let name = map_key(k, path)?;
                let Some(aty) = fields.get(name) else {
                    return Err(CodecError::UnsupportedAttribute {
                        path: path.clone(),
                        name: name.to_string(),
                        valid: valid_names(fields),
                    });
                };
                if out.contains_key(name) {
                    return Err(CodecError::DuplicateKey {
                        path: path.clone(),
                        key: name.to_string(),
                    });
                }
                let val = with_step(path, Step::Attribute(name.to_string()), |p| {
                    from_raw(item, aty, p)
                })?;
                out.insert(name.to_string(), val);
            }
            for name in fields.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        WireType::Dynamic | WireType::Any => decode_dynamic(v, path),
    }
}

/// Attribute names of an object type, for "this object's attributes are ..." messages.
pub(crate) fn valid_names(fields: &std::collections::BTreeMap<String, WireType>) -> String {
    if fields.is_empty() {
        "(none)".to_string()
    } else {
        fields
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn map_key<'a>(k: &'a Raw, path: &AttributePath) -> Result<&'a str, CodecError> {
    match k {
        Raw::String(s) => s.as_str().ok_or_else(|| CodecError::TypeMismatch {
            path: path.clone(),
            expected: "string key".into(),
            got: "key with invalid UTF-8".into(),
        }),
        other => Err(CodecError::TypeMismatch {
            path: path.clone(),
            expected: "string key".into(),
            got: format!("{} key", raw_kind(other)),
        }),
    }
}

fn decode_elements(
    items: &[Raw],
    e: &WireType,
    path: &mut AttributePath,
) -> Result<Vec<Value>, CodecError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(with_step(path, index_step(i), |p| from_raw(item, e, p))?);
    }
    Ok(out)
}

fn decode_number(v: &Raw, path: &AttributePath) -> Result<Number, CodecError> {
    let expected = WireType::Number;
    match v {
        Raw::Integer(i) => {
            if let Some(x) = i.as_i64() {
                Ok(Number::from(x))
            } else if let Some(x) = i.as_u64() {
                Ok(Number::from(x))
            } else {
                Err(CodecError::mismatch(
                    path,
                    &expected,
                    "integer out of range",
                ))
            }
        }
        Raw::F32(f) => number_from_f64(f64::from(*f))
            .ok_or_else(|| CodecError::mismatch(path, &expected, format!("non-finite float {f}"))),
        Raw::F64(f) => number_from_f64(*f)
            .ok_or_else(|| CodecError::mismatch(path, &expected, format!("non-finite float {f}"))),
        Raw::String(s) => match s.as_str() {
            Some(text) => Number::parse(text).ok_or_else(|| CodecError::InvalidNumber {
                path: path.clone(),
                text: text.into(),
            }),
            None => Err(CodecError::mismatch(path, &expected, raw_kind(v))),
        },
        other => Err(CodecError::mismatch(path, &expected, raw_kind(other))),
    }
}

fn decode_dynamic(v: &Raw, path: &mut AttributePath) -> Result<Value, CodecError> {
    let items = match v {
        Raw::Nil => return Ok(Value::Null),
        Raw::Array(items) if items.len() == 2 => items,
        other => {
            return Err(CodecError::InvalidDynamic {
                path: path.clone(),
                message: format!("expected a [type, value] array, got {}", raw_kind(other)),
            })
        }
    };
    let type_bytes: &[u8] = match &items[0] {
        Raw::Binary(b) => b,
        Raw::String(s) => s.as_bytes(),
        other => {
            return Err(CodecError::InvalidDynamic {
                path: path.clone(),
                message: format!("type must be JSON bytes, got {}", raw_kind(other)),
            })
        }
    };
    let type_json: serde_json::Value =
        serde_json::from_slice(type_bytes).map_err(|e| CodecError::InvalidDynamic {
            path: path.clone(),
            message: format!("type is not JSON: {e}"),
        })?;
    let ty = WireType::from_json(&type_json).map_err(|message| CodecError::InvalidDynamic {
        path: path.clone(),
        message,
    })?;
    from_raw(&items[1], &ty, path)
}

/// What a framework value is, for "got ..." in encode errors.
pub(crate) fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Unknown => "unknown",
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
    }
}

fn werr<E: std::fmt::Display>(e: E) -> CodecError {
    CodecError::Write {
        message: e.to_string(),
    }
}

fn len_u32(n: usize, path: &AttributePath) -> Result<u32, CodecError> {
    u32::try_from(n).map_err(|_| CodecError::Write {
        message: format!("at {path}: {n} elements exceed msgpack's limit"),
    })
}

fn write(
    buf: &mut Vec<u8>,
    v: &Value,
    ty: &WireType,
    path: &mut AttributePath,
) -> Result<(), CodecError> {
    use rmp::encode as enc;
    match (ty, v) {
        (_, Value::Unknown) => {
            enc::write_ext_meta(buf, 1, 0).map_err(werr)?;
            buf.push(0);
            Ok(())
        }
        (_, Value::Null) => enc::write_nil(buf).map_err(werr),
        (WireType::Dynamic | WireType::Any, v) => {
            let t = infer_wire_type(v);
            let type_json = serde_json::to_vec(&t.to_json()).map_err(werr)?;
            enc::write_array_len(buf, 2).map_err(werr)?;
            enc::write_bin(buf, &type_json).map_err(werr)?;
            write(buf, v, &t, path)
        }
        (WireType::String, Value::String(s)) => enc::write_str(buf, s).map_err(werr),
        (WireType::Bool, Value::Bool(b)) => enc::write_bool(buf, *b).map_err(werr),
        (WireType::Number, Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                enc::write_sint(buf, i).map(|_| ()).map_err(werr)
            } else if let Some(u) = n.as_u64() {
                enc::write_uint(buf, u).map(|_| ()).map_err(werr)
            } else if let Some(f) = exact_f64(n) {
                enc::write_f64(buf, f).map_err(werr)
            } else {
                enc::write_str(buf, n.as_str()).map_err(werr)
            }
        }
        (WireType::List(e), Value::List(items) | Value::Set(items)) => {
            enc::write_array_len(buf, len_u32(items.len(), path)?).map_err(werr)?;
            for (i, item) in items.iter().enumerate() {
                with_step(path, index_step(i), |p| write(buf, item, e, p))?;
            }
            Ok(())
        }
        (WireType::Set(e), Value::List(items) | Value::Set(items)) => {
            let sorted = sorted_set_refs(items);
            enc::write_array_len(buf, len_u32(sorted.len(), path)?).map_err(werr)?;
            for (i, item) in sorted.into_iter().enumerate() {
                with_step(path, index_step(i), |p| write(buf, item, e, p))?;
            }
            Ok(())
        }
        (WireType::Tuple(ts), Value::List(items)) if ts.len() == items.len() => {
            enc::write_array_len(buf, len_u32(items.len(), path)?).map_err(werr)?;
            for (i, (item, t)) in items.iter().zip(ts).enumerate() {
                with_step(path, index_step(i), |p| write(buf, item, t, p))?;
            }
            Ok(())
        }
        (WireType::Map(e), Value::Map(m) | Value::Object(m)) => {
            enc::write_map_len(buf, len_u32(m.len(), path)?).map_err(werr)?;
            for (k, item) in m {
                enc::write_str(buf, k).map_err(werr)?;
                with_step(path, Step::ElementKeyString(k.clone()), |p| {
                    write(buf, item, e, p)
                })?;
            }
            Ok(())
        }
        (WireType::Object(fields), Value::Object(m) | Value::Map(m)) => {
            if let Some(extra) = m.keys().find(|k| !fields.contains_key(*k)) {
                return Err(CodecError::UnsupportedAttribute {
                    path: path.clone(),
                    name: extra.clone(),
                    valid: valid_names(fields),
                });
            }
            enc::write_map_len(buf, len_u32(fields.len(), path)?).map_err(werr)?;
            for (name, aty) in fields {
                enc::write_str(buf, name).map_err(werr)?;
                let item = m.get(name).unwrap_or(&Value::Null);
                with_step(path, Step::Attribute(name.clone()), |p| {
                    write(buf, item, aty, p)
                })?;
            }
            Ok(())
        }
        (t, v) => Err(CodecError::mismatch(path, t, value_kind(v))),
    }
}

/// Set elements in canonical order without wholly known duplicates, by reference (no clones while encoding).
pub(crate) fn sorted_set_refs(items: &[Value]) -> Vec<&Value> {
    let mut refs: Vec<&Value> = items.iter().collect();
    refs.sort_by(|a, b| canonical_cmp(a, b));
    refs.dedup_by(|a, b| a.is_wholly_known() && a == b);
    refs
}
