//! DynamicValue codec: msgpack and JSON by schema, with null and unknown.
//!
//! Terraform sends every configuration, plan and state value as a `DynamicValue`: cty's msgpack encoding (or,
//! for stored state, cty's JSON encoding). Neither encoding carries types, so both directions need the schema's
//! [`Type`]. This module is the one place that knows those wire rules; resources only ever see
//! [`framework::Value`](crate::framework::Value).
//!
//! Shared rules (the `msgpack` and `json` submodules hold the format-specific ones):
//! - Objects decode to [`Value::Object`] with every attribute of the type present (missing ones become null);
//!   attribute names the type does not have are rejected with [`CodecError::UnsupportedAttribute`].
//! - Sets decode (and encode) with their elements in one canonical order, and wholly known duplicates removed,
//!   so two sets with the same elements compare equal with `==` whatever order they came in.
//! - Numbers keep every digit ([`Number`] holds decimal text).
//! - `Type::Dynamic` values carry their type on the wire. On decode the type is read from the wire (tuples become
//!   lists); on encode it is inferred from the value's shape (see [`infer_type`]).

pub mod json;
pub mod msgpack;
mod path_steps;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::framework::{AttributePath, Number, Type, Value};

/// Why a value could not be decoded or encoded. Every variant that concerns one value names its attribute path,
/// so a message reads like `at tags["owner"]: expected string, got integer`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    /// The wire (or in-memory) value has a different shape than the schema type demands.
    #[error("{}: expected {expected}, got {got}", at(path))]
    TypeMismatch {
        path: AttributePath,
        expected: String,
        got: String,
    },
    /// An object carries an attribute the schema does not define.
    #[error(
        "{}: unsupported attribute {name:?}; this object's attributes are: {valid}",
        at(path)
    )]
    UnsupportedAttribute {
        path: AttributePath,
        name: String,
        valid: String,
    },
    /// An object or map carries the same key twice.
    #[error("{}: duplicate key {key:?}", at(path))]
    DuplicateKey { path: AttributePath, key: String },
    /// A number given as text is not a finite decimal number.
    #[error(
        "{}: expected number, got {text:?} which is not a finite decimal number",
        at(path)
    )]
    InvalidNumber { path: AttributePath, text: String },
    /// Unknown values exist only at plan time and have no JSON form (state never holds them).
    #[error(
        "{}: an unknown value cannot be encoded as JSON (state must be wholly known)",
        at(path)
    )]
    UnknownInJson { path: AttributePath },
    /// A `Type::Dynamic` value whose wire wrapper (type + value) is malformed.
    #[error("{}: invalid dynamic value: {message}", at(path))]
    InvalidDynamic {
        path: AttributePath,
        message: String,
    },
    /// The msgpack bytes are truncated or not msgpack at all.
    #[error("malformed msgpack: {message}")]
    MalformedMsgpack { message: String },
    /// The JSON text is not JSON.
    #[error("malformed JSON at byte {offset}: {message}")]
    MalformedJson { offset: usize, message: String },
    /// Bytes remain after one complete value.
    #[error("{count} unexpected trailing byte(s) after the value")]
    TrailingData { count: usize },
    /// Writing the encoded output failed (cannot happen for in-memory buffers; kept so nothing panics).
    #[error("cannot write encoded value: {message}")]
    Write { message: String },
}

impl CodecError {
    /// The attribute path the error concerns, when it concerns one value (not for malformed input).
    pub fn path(&self) -> Option<&AttributePath> {
        match self {
            CodecError::TypeMismatch { path, .. }
            | CodecError::UnsupportedAttribute { path, .. }
            | CodecError::DuplicateKey { path, .. }
            | CodecError::InvalidNumber { path, .. }
            | CodecError::UnknownInJson { path }
            | CodecError::InvalidDynamic { path, .. } => Some(path),
            CodecError::MalformedMsgpack { .. }
            | CodecError::MalformedJson { .. }
            | CodecError::TrailingData { .. }
            | CodecError::Write { .. } => None,
        }
    }

    pub(crate) fn mismatch(
        path: &AttributePath,
        expected: &WireType,
        got: impl Into<String>,
    ) -> Self {
        CodecError::TypeMismatch {
            path: path.clone(),
            expected: expected.friendly(),
            got: got.into(),
        }
    }
}

/// "at PATH" for messages; the whole value reads "at the top level".
fn at(path: &AttributePath) -> String {
    if path.steps.is_empty() {
        "at the top level".to_string()
    } else {
        format!("at {path}")
    }
}

/// The types that can appear on the wire: the framework's [`Type`] plus cty tuples, which only reach us inside
/// dynamic values (decoded as lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireType {
    String,
    Number,
    Bool,
    List(Box<WireType>),
    Set(Box<WireType>),
    Map(Box<WireType>),
    Object(BTreeMap<String, WireType>),
    Tuple(Vec<WireType>),
    Dynamic,
    /// Inference only: no constraint yet (null, unknown or no elements); unifies with anything and becomes
    /// `Dynamic` once inference is done. `Dynamic` during inference means elements that really differ.
    Any,
}

impl From<&Type> for WireType {
    fn from(t: &Type) -> Self {
        match t {
            Type::String => WireType::String,
            Type::Number => WireType::Number,
            Type::Bool => WireType::Bool,
            Type::List(e) => WireType::List(Box::new(e.as_ref().into())),
            Type::Set(e) => WireType::Set(Box::new(e.as_ref().into())),
            Type::Map(e) => WireType::Map(Box::new(e.as_ref().into())),
            Type::Object(f) => {
                WireType::Object(f.iter().map(|(k, v)| (k.clone(), v.into())).collect())
            }
            Type::Dynamic => WireType::Dynamic,
        }
    }
}

impl WireType {
    /// Short name for messages ("list of string").
    pub(crate) fn friendly(&self) -> String {
        match self {
            WireType::String => "string".into(),
            WireType::Number => "number".into(),
            WireType::Bool => "bool".into(),
            WireType::Dynamic | WireType::Any => "any value".into(),
            WireType::List(t) => format!("list of {}", t.friendly()),
            WireType::Set(t) => format!("set of {}", t.friendly()),
            WireType::Map(t) => format!("map of {}", t.friendly()),
            WireType::Object(_) => "object".into(),
            WireType::Tuple(_) => "tuple".into(),
        }
    }

    /// cty's JSON type constraint (`["list","string"]`), written into dynamic values.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            WireType::String => json!("string"),
            WireType::Number => json!("number"),
            WireType::Bool => json!("bool"),
            WireType::Dynamic | WireType::Any => json!("dynamic"),
            WireType::List(t) => json!(["list", t.to_json()]),
            WireType::Set(t) => json!(["set", t.to_json()]),
            WireType::Map(t) => json!(["map", t.to_json()]),
            WireType::Object(f) => {
                let m: serde_json::Map<String, serde_json::Value> =
                    f.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                json!(["object", m])
            }
            WireType::Tuple(ts) => json!([
                "tuple",
                ts.iter().map(WireType::to_json).collect::<Vec<_>>()
            ]),
        }
    }

    /// Parses cty's JSON type constraint, including tuples and the optional-attributes form of objects.
    pub(crate) fn from_json(v: &serde_json::Value) -> Result<WireType, String> {
        use serde_json::Value as J;
        match v {
            J::String(s) => match s.as_str() {
                "string" => Ok(WireType::String),
                "number" => Ok(WireType::Number),
                "bool" => Ok(WireType::Bool),
                "dynamic" => Ok(WireType::Dynamic),
                other => Err(format!("unknown primitive type {other:?}")),
            },
            J::Array(a) if (2..=3).contains(&a.len()) => {
                let kind = a[0].as_str().ok_or("type kind must be a string")?;
                match (kind, a.len()) {
                    ("list", 2) => Ok(WireType::List(Box::new(WireType::from_json(&a[1])?))),
                    ("set", 2) => Ok(WireType::Set(Box::new(WireType::from_json(&a[1])?))),
                    ("map", 2) => Ok(WireType::Map(Box::new(WireType::from_json(&a[1])?))),
                    ("object", _) => {
                        let o = a[1]
                            .as_object()
                            .ok_or("object attribute types must be a JSON object")?;
                        let mut fields = BTreeMap::new();
                        for (k, t) in o {
                            fields.insert(k.clone(), WireType::from_json(t)?);
                        }
                        Ok(WireType::Object(fields))
                    }
                    ("tuple", 2) => {
                        let items = a[1]
                            .as_array()
                            .ok_or("tuple element types must be a JSON array")?;
                        Ok(WireType::Tuple(
                            items
                                .iter()
                                .map(WireType::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    (other, n) => Err(format!(
                        "unsupported type constraint {other:?} with {n} elements"
                    )),
                }
            }
            other => Err(format!("{other} is not a type constraint")),
        }
    }
}

/// Infers a wire type for a value held at a `Type::Dynamic` position, which must travel with its type.
///
/// Strings, numbers and bools map to themselves; objects to objects; maps to a map of their unified element
/// type; lists to a list when their elements share a type and to a tuple otherwise; sets to a set (of `dynamic`
/// when elements differ). Null and unknown elements unify with anything. A null or unknown value itself infers
/// `dynamic` (cty writes those without a type wrapper).
pub fn infer_type(v: &Value) -> Type {
    to_framework_type(&infer_wire_type(v))
}

/// Wire-level inference (may produce tuples, which the framework [`Type`] lacks).
pub(crate) fn infer_wire_type(v: &Value) -> WireType {
    finalize(infer(v))
}

/// Replaces inference wildcards by `dynamic`.
fn finalize(t: WireType) -> WireType {
    match t {
        WireType::Any => WireType::Dynamic,
        WireType::List(e) => WireType::List(Box::new(finalize(*e))),
        WireType::Set(e) => WireType::Set(Box::new(finalize(*e))),
        WireType::Map(e) => WireType::Map(Box::new(finalize(*e))),
        WireType::Object(f) => {
            WireType::Object(f.into_iter().map(|(k, t)| (k, finalize(t))).collect())
        }
        WireType::Tuple(ts) => WireType::Tuple(ts.into_iter().map(finalize).collect()),
        other => other,
    }
}

/// The type of a value, with wildcards (`Any`) where nothing constrains it. Collections whose elements really
/// differ get element type `Dynamic` (sets, maps) or become tuples (lists).
fn infer(v: &Value) -> WireType {
    match v {
        Value::Null | Value::Unknown => WireType::Any,
        Value::Bool(_) => WireType::Bool,
        Value::Number(_) => WireType::Number,
        Value::String(_) => WireType::String,
        Value::Object(m) => {
            WireType::Object(m.iter().map(|(k, v)| (k.clone(), infer(v))).collect())
        }
        Value::Map(m) => {
            WireType::Map(Box::new(unify_all(m.values()).unwrap_or(WireType::Dynamic)))
        }
        Value::Set(e) => WireType::Set(Box::new(unify_all(e.iter()).unwrap_or(WireType::Dynamic))),
        Value::List(e) => match unify_all(e.iter()) {
            Some(t) => WireType::List(Box::new(t)),
            None => WireType::Tuple(e.iter().map(infer).collect()),
        },
    }
}

/// The common type of all values, `None` when two disagree.
fn unify_all<'a>(values: impl Iterator<Item = &'a Value>) -> Option<WireType> {
    let mut acc = WireType::Any;
    for v in values {
        acc = unify(&acc, &infer(v))?;
    }
    Some(acc)
}

/// The type both `a` and `b` conform to, treating `Any` (from null/unknown/empty) as a wildcard.
fn unify(a: &WireType, b: &WireType) -> Option<WireType> {
    match (a, b) {
        (WireType::Any, t) | (t, WireType::Any) => Some(t.clone()),
        (WireType::List(x), WireType::List(y)) => Some(WireType::List(Box::new(unify(x, y)?))),
        (WireType::Set(x), WireType::Set(y)) => Some(WireType::Set(Box::new(unify(x, y)?))),
        (WireType::Map(x), WireType::Map(y)) => Some(WireType::Map(Box::new(unify(x, y)?))),
        (WireType::Object(x), WireType::Object(y)) => {
            if x.len() != y.len() || !x.keys().eq(y.keys()) {
                return None;
            }
            let mut f = BTreeMap::new();
            for ((k, tx), ty) in x.iter().zip(y.values()) {
                f.insert(k.clone(), unify(tx, ty)?);
            }
            Some(WireType::Object(f))
        }
        (WireType::Tuple(x), WireType::Tuple(y)) if x.len() == y.len() => Some(WireType::Tuple(
            x.iter()
                .zip(y)
                .map(|(a, b)| unify(a, b))
                .collect::<Option<_>>()?,
        )),
        (x, y) if x == y => Some(x.clone()),
        _ => None,
    }
}

/// Tuples have no framework counterpart: they surface as lists of `dynamic`.
fn to_framework_type(t: &WireType) -> Type {
    match t {
        WireType::String => Type::String,
        WireType::Number => Type::Number,
        WireType::Bool => Type::Bool,
        WireType::Dynamic | WireType::Any => Type::Dynamic,
        WireType::List(e) => Type::List(Box::new(to_framework_type(e))),
        WireType::Set(e) => Type::Set(Box::new(to_framework_type(e))),
        WireType::Map(e) => Type::Map(Box::new(to_framework_type(e))),
        WireType::Object(f) => Type::Object(
            f.iter()
                .map(|(k, v)| (k.clone(), to_framework_type(v)))
                .collect(),
        ),
        WireType::Tuple(_) => Type::List(Box::new(Type::Dynamic)),
    }
}

/// A total order over values, used only to give set elements one canonical order (it has no other meaning).
pub fn canonical_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Unknown => 0,
            Value::Null => 1,
            Value::Bool(_) => 2,
            Value::Number(_) => 3,
            Value::String(_) => 4,
            Value::List(_) => 5,
            Value::Set(_) => 6,
            Value::Map(_) => 7,
            Value::Object(_) => 8,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) => {
            for (p, q) in x.iter().zip(y) {
                match canonical_cmp(p, q) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
            for ((kp, p), (kq, q)) in x.iter().zip(y) {
                match kp.cmp(kq).then_with(|| canonical_cmp(p, q)) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Orders numbers numerically where cheap (both fit f64 and differ), falling back to the text so the order stays
/// total and consistent with equality (equal numbers have equal canonical text).
fn cmp_numbers(x: &Number, y: &Number) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    match (x.as_f64(), y.as_f64()) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() && a != b => a
            .partial_cmp(&b)
            .unwrap_or(Ordering::Equal)
            .then_with(|| x.as_str().cmp(y.as_str())),
        _ => x.as_str().cmp(y.as_str()),
    }
}

/// Puts set elements in canonical order and drops wholly known duplicates (unknown elements may turn out to be
/// distinct, so they are all kept, as cty does). Resources building `Value::Set`s should pass them through this.
pub fn canonical_set(mut elems: Vec<Value>) -> Vec<Value> {
    elems.sort_by(canonical_cmp);
    elems.dedup_by(|a, b| a.is_wholly_known() && a == b);
    elems
}

/// Exact decimal text of a finite f64 (every binary fraction has a finite decimal expansion), so numbers sent as
/// floats keep their exact value.
pub(crate) fn number_from_f64(f: f64) -> Option<Number> {
    if !f.is_finite() {
        return None;
    }
    // f = mantissa * 2^exp; the exact expansion needs -exp fractional digits when exp < 0.
    let bits = f.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let mut mantissa = bits & ((1u64 << 52) - 1);
    let mut exp = if exp_bits == 0 {
        -1074
    } else {
        mantissa |= 1u64 << 52;
        exp_bits - 1075
    };
    if mantissa == 0 {
        return Number::parse("0");
    }
    let tz = i64::from(mantissa.trailing_zeros());
    exp += tz;
    let frac_digits = if exp < 0 { (-exp) as usize } else { 0 };
    Number::parse(&format!("{f:.frac_digits$}"))
}

/// The f64 equal to `n` when there is one (cty sends such numbers as msgpack floats).
pub(crate) fn exact_f64(n: &Number) -> Option<f64> {
    let f = n.as_f64()?;
    match number_from_f64(f) {
        Some(back) if &back == n => Some(f),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
