//! The small table language the per-family setting tables are written in: each setting's normalized name, its
//! type, and where its value comes from; and the type check every raw value goes through.

use serde_json::Value;

/// The type a setting must have.
#[derive(Clone, Copy, Debug)]
pub(super) enum Ty {
    Bool,
    Int,
    Str,
    StrList,
}

/// A default or fixed value of a setting.
#[derive(Clone, Copy, Debug)]
pub(super) enum Dv {
    B(bool),
    I(i64),
    EmptyList,
}

impl Dv {
    pub(super) fn value(self) -> Value {
        match self {
            Dv::B(b) => Value::Bool(b),
            Dv::I(i) => Value::from(i),
            Dv::EmptyList => Value::Array(Vec::new()),
        }
    }
}

/// Where a setting's value comes from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Src {
    /// A raw attribute; null stays null.
    Attr(&'static str),
    /// A raw attribute; null means the provider's default.
    AttrOr(&'static str, Dv),
    /// A value fixed by the resource type (the golden path).
    Const(Dv),
    /// `dbplatform_database`: always encrypted on aws, never on local.
    EncryptedOnAws,
    /// `aws_rds_cluster`: more than one availability zone, or a Multi-AZ DB cluster class.
    ClusterMultiAz,
    /// Whether a plaintext password attribute is set (known or unknown).
    PasswordSet(&'static str),
    /// Parameter groups: the `parameter` set (aws) or `parameters` map (dbplatform).
    Parameters,
    /// The `region` attribute, else the provider configuration's constant region.
    Region,
}

/// One setting of a resource family: normalized name, type, source.
pub(super) type Spec = (&'static str, Ty, Src);

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Checks a raw value against the setting's type; `Err` names the attribute and what it should be.
pub(super) fn check(raw: &str, ty: Ty, v: &Value) -> Result<Value, String> {
    let ok = match (ty, v) {
        (_, Value::Null) => true,
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Int, Value::Number(n)) => n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        (Ty::Str, Value::String(_)) => true,
        (Ty::StrList, Value::Array(a)) => a.iter().all(|x| x.is_string() || x.is_null()),
        _ => false,
    };
    if !ok {
        let want = match ty {
            Ty::Bool => "a boolean",
            Ty::Int => "a whole number",
            Ty::Str => "a string",
            Ty::StrList => "a list of strings",
        };
        return Err(format!(
            "attribute {raw} must be {want}, got {} {v}",
            type_name(v)
        ));
    }
    Ok(match (ty, v) {
        (Ty::Int, Value::Number(n)) if !n.is_i64() => Value::from(n.as_f64().unwrap_or(0.0) as i64),
        _ => v.clone(),
    })
}
