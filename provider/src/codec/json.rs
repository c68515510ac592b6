//! cty's JSON encoding, used for stored state (`RawState.json` in UpgradeResourceState) and import.
//!
//! Wire rules (as go-cty's `cty/json`): null is `null`; numbers are JSON numbers and keep every digit (this module
//! parses the number text itself instead of going through f64); objects are JSON objects keyed by attribute name;
//! lists, sets and tuples are arrays; maps are objects; `dynamic` values are `{"value": V, "type": T}`. As cty
//! does, a string-typed attribute also accepts a JSON number or bool (taken as its text), a number accepts a
//! decimal string and a bool accepts `"true"`/`"false"`. Unknown values have no JSON form: encoding one fails.

use std::collections::BTreeMap;

use super::msgpack::{sorted_set_refs, valid_names, value_kind};
use super::path_steps::{index_step, with_step};
use super::{canonical_set, infer_wire_type, CodecError, WireType};
use crate::framework::{AttributePath, Number, Step, Type, Value};

/// Nesting limit for parsing: far beyond any schema, low enough that hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 512;

/// Options for [`decode_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Drop object attributes the type does not define instead of failing. For stored state written by an
    /// older provider version whose schema had attributes since removed (as terraform-plugin-framework does
    /// in UpgradeResourceState).
    pub ignore_undefined_attributes: bool,
}

/// Decodes cty JSON `bytes` as a value of type `ty` (strict: unknown attribute names are errors).
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    decode_with(bytes, ty, DecodeOptions::default())
}

/// Decodes cty JSON `bytes` as a value of type `ty` with `opts`.
pub fn decode_with(bytes: &[u8], ty: &Type, opts: DecodeOptions) -> Result<Value, CodecError> {
    let text = std::str::from_utf8(bytes).map_err(|e| CodecError::MalformedJson {
        offset: e.valid_up_to(),
        message: "input is not UTF-8 text".into(),
    })?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.skip_ws();
    let j = p.value(0)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(CodecError::TrailingData {
            count: p.s.len() - p.pos,
        });
    }
    from_j(&j, &WireType::from(ty), &mut AttributePath::root(), opts)
}

/// Decodes an already parsed JSON document as a value of type `ty`. Numbers carry only what `serde_json` kept
/// (parse from bytes with [`decode`] when every digit of a long decimal matters).
pub fn decode_value(v: &serde_json::Value, ty: &Type) -> Result<Value, CodecError> {
    from_j(
        &J::from_serde(v),
        &WireType::from(ty),
        &mut AttributePath::root(),
        DecodeOptions::default(),
    )
}

/// [`decode_value`] with `opts`, e.g. for state JSON returned by a resource's `upgrade_state`, which may still
/// carry attributes the current schema dropped.
pub fn decode_value_with(
    v: &serde_json::Value,
    ty: &Type,
    opts: DecodeOptions,
) -> Result<Value, CodecError> {
    from_j(
        &J::from_serde(v),
        &WireType::from(ty),
        &mut AttributePath::root(),
        opts,
    )
}

/// Encodes `v` as cty JSON for type `ty`; fails on unknown values and on values that do not fit the type.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = String::with_capacity(128);
    write(&mut out, v, &WireType::from(ty), &mut AttributePath::root())?;
    Ok(out.into_bytes())
}

/// A parsed JSON document that keeps number text.
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn from_serde(v: &serde_json::Value) -> J {
        use serde_json::Value as S;
        match v {
            S::Null => J::Null,
            S::Bool(b) => J::Bool(*b),
            S::Number(n) => J::Num(n.to_string()),
            S::String(s) => J::Str(s.clone()),
            S::Array(a) => J::Arr(a.iter().map(J::from_serde).collect()),
            S::Object(o) => J::Obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), J::from_serde(v)))
                    .collect(),
            ),
        }
    }

    /// Back to serde_json, for type constraints (which contain no numbers).
    fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as S;
        match self {
            J::Null => S::Null,
            J::Bool(b) => S::Bool(*b),
            J::Num(n) => serde_json::from_str(n).unwrap_or(S::Null),
            J::Str(s) => S::String(s.clone()),
            J::Arr(a) => S::Array(a.iter().map(J::to_serde).collect()),
            J::Obj(o) => S::Object(o.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect()),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "bool",
            J::Num(_) => "number",
            J::Str(_) => "string",
            J::Arr(_) => "array",
            J::Obj(_) => "object",
        }
    }
}

/// A small strict JSON parser (RFC 8259) that keeps number text verbatim.
struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> CodecError {
        CodecError::MalformedJson {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn expect_literal(&mut self, lit: &str, v: J) -> Result<J, CodecError> {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            Ok(v)
        } else {
            Err(self.err(format!("expected {lit}")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<J, CodecError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input, expected a value")),
            Some(b'n') => self.expect_literal("null", J::Null),
            Some(b't') => self.expect_literal("true", J::Bool(true)),
            Some(b'f') => self.expect_literal("false", J::Bool(false)),
            Some(b'"') => self.string().map(J::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(J::Num),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(J::Arr(items));
                }
                loop {
                    self.skip_ws();
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(J::Arr(items));
                        }
                        _ => return Err(self.err("expected ',' or ']' in array")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(J::Obj(entries));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("expected a string key in object"));
                    }
                    let k = self.string()?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected ':' after object key"));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let v = self.value(depth + 1)?;
                    entries.push((k, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(J::Obj(entries));
                        }
                        _ => return Err(self.err("expected ',' or '}' in object")),
                    }
                }
            }
            Some(c) => Err(self.err(format!("unexpected character {:?}", char::from(c)))),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<String, CodecError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number: expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number: expected a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number: expected a digit in the exponent"));
            }
        }
        Ok(self.text[start..self.pos].to_string())
    }

    fn hex4(&mut self) -> Result<u32, CodecError> {
        let h = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let h = std::str::from_utf8(h).map_err(|_| self.err("invalid \\u escape"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, CodecError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run ends at an ASCII byte (or the end), so it is a valid str slice.
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.pos..].starts_with(b"\\u") {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(
                                char::from_u32(cp)
                                    .ok_or_else(|| self.err("invalid code point in \\u escape"))?,
                            );
                        }
                        other => {
                            return Err(
                                self.err(format!("invalid escape '\\{}'", char::from(other)))
                            )
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in string; escape it")),
            }
        }
    }
}

fn from_j(
    j: &J,
    ty: &WireType,
    path: &mut AttributePath,
    opts: DecodeOptions,
) -> Result<Value, CodecError> {
    if let WireType::Dynamic | WireType::Any = ty {
        return decode_dynamic(j, path, opts);
    }
    if let J::Null = j {
        return Ok(Value::Null);
    }
    let mismatch = |path: &AttributePath| CodecError::mismatch(path, ty, j.kind());
    match ty {
        WireType::String => match j {
            J::Str(s) => Ok(Value::String(s.clone())),
            J::Num(n) => Ok(Value::String(n.clone())),
            J::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(mismatch(path)),
        },
        WireType::Number => match j {
            J::Num(n) | J::Str(n) => {
                Number::parse(n)
                    .map(Value::Number)
                    .ok_or_else(|| CodecError::InvalidNumber {
                        path: path.clone(),
                        text: n.clone(),
                    })
            }
            _ => Err(mismatch(path)),
        },
        WireType::Bool => match j {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::Str(s) if s == "true" => Ok(Value::Bool(true)),
            J::Str(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(mismatch(path)),
        },
        WireType::List(e) | WireType::Set(e) => {
            let J::Arr(items) = j else {
                return Err(mismatch(path));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(with_step(path, index_step(i), |p| {
                    from_j(item, e, p, opts)
                })?);
            }
            Ok(if matches!(ty, WireType::Set(_)) {
                Value::Set(canonical_set(out))
            } else {
                Value::List(out)
            })
        }
        WireType::Tuple(ts) => {
            let J::Arr(items) = j else {
                return Err(mismatch(path));
            };
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
                out.push(with_step(path, index_step(i), |p| {
                    from_j(item, t, p, opts)
                })?);
            }
            Ok(Value::List(out))
        }
        WireType::Map(e) => {
            let J::Obj(entries) = j else {
                return Err(mismatch(path));
            };
            let mut out = BTreeMap::new();
            for (k, item) in entries {
                if out.contains_key(k) {
                    return Err(CodecError::DuplicateKey {
                        path: path.clone(),
                        key: k.clone(),
                    });
                }
                let v = with_step(path, Step::ElementKeyString(k.clone()), |p| {
                    from_j(item, e, p, opts)
                })?;
                out.insert(k.clone(), v);
            }
            Ok(Value::Map(out))
        }
        WireType::Object(fields) => {
            let J::Obj(entries) = j else {
                return Err(mismatch(path));
            };
            let mut out = BTreeMap::new();
            for (k, item) in entries {
                let Some(aty) = fields.get(k) else {
                    if opts.ignore_undefined_attributes {
                        continue;
                    }
                    return Err(CodecError::UnsupportedAttribute {
                        path: path.clone(),
                        name: k.clone(),
                        valid: valid_names(fields),
                    });
                };
                if out.contains_key(k) {
                    return Err(CodecError::DuplicateKey {
                        path: path.clone(),
                        key: k.clone(),
                    });
                }
                let v = with_step(path, Step::Attribute(k.clone()), |p| {
                    from_j(item, aty, p, opts)
                })?;
                out.insert(k.clone(), v);
            }
            for name in fields.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        WireType::Dynamic | WireType::Any => decode_dynamic(j, path, opts),
    }
}

fn decode_dynamic(
    j: &J,
    path: &mut AttributePath,
    opts: DecodeOptions,
) -> Result<Value, CodecError> {
    let invalid = |path: &AttributePath, message: String| CodecError::InvalidDynamic {
        path: path.clone(),
        message,
    };
    let entries = match j {
        J::Null => return Ok(Value::Null),
        J::Obj(entries) => entries,
        other => {
            return Err(invalid(
                path,
                format!(
                    "expected {{\"value\": ..., \"type\": ...}}, got {}",
                    other.kind()
                ),
            ))
        }
    };
    let mut value = None;
    let mut ty = None;
    for (k, v) in entries {
        match k.as_str() {
            "value" if value.is_none() => value = Some(v),
            "type" if ty.is_none() => ty = Some(v),
            other => {
                return Err(invalid(
                    path,
                    format!("unexpected or repeated key {other:?}"),
                ))
            }
        }
    }
    let (Some(value), Some(ty)) = (value, ty) else {
        return Err(invalid(
            path,
            "both \"value\" and \"type\" are required".into(),
        ));
    };
    let ty = WireType::from_json(&ty.to_serde()).map_err(|m| invalid(path, m))?;
    from_j(value, &ty, path, opts)
}

fn write(
    out: &mut String,
    v: &Value,
    ty: &WireType,
    path: &mut AttributePath,
) -> Result<(), CodecError> {
    match (ty, v) {
        (_, Value::Unknown) => Err(CodecError::UnknownInJson { path: path.clone() }),
        (_, Value::Null) => {
            out.push_str("null");
            Ok(())
        }
        (WireType::Dynamic | WireType::Any, v) => {
            let t = infer_wire_type(v);
            out.push_str("{\"value\":");
            write(out, v, &t, path)?;
            out.push_str(",\"type\":");
            out.push_str(&t.to_json().to_string());
            out.push('}');
            Ok(())
        }
        (WireType::String, Value::String(s)) => {
            push_json_string(out, s);
            Ok(())
        }
        (WireType::Bool, Value::Bool(b)) => {
            out.push_str(if *b { "true" } else { "false" });
            Ok(())
        }
        (WireType::Number, Value::Number(n)) => {
            out.push_str(n.as_str());
            Ok(())
        }
        (WireType::List(e), Value::List(items) | Value::Set(items)) => {
            let refs: Vec<&Value> = items.iter().collect();
            write_array(out, &refs, |_| e, path)
        }
        (WireType::Set(e), Value::List(items) | Value::Set(items)) => {
            write_array(out, &sorted_set_refs(items), |_| e, path)
        }
        (WireType::Tuple(ts), Value::List(items)) if ts.len() == items.len() => {
            let refs: Vec<&Value> = items.iter().collect();
            write_array(out, &refs, |i| &ts[i], path)
        }
        (WireType::Map(e), Value::Map(m) | Value::Object(m)) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, k);
                out.push(':');
                with_step(path, Step::ElementKeyString(k.clone()), |p| {
                    write(out, item, e, p)
                })?;
            }
            out.push('}');
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
            out.push('{');
            for (i, (name, aty)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, name);
                out.push(':');
                let item = m.get(name).unwrap_or(&Value::Null);
                with_step(path, Step::Attribute(name.clone()), |p| {
                    write(out, item, aty, p)
                })?;
            }
            out.push('}');
            Ok(())
        }
        (t, v) => Err(CodecError::mismatch(path, t, value_kind(v))),
    }
}

fn write_array<'t>(
    out: &mut String,
    items: &[&Value],
    elem_ty: impl Fn(usize) -> &'t WireType,
    path: &mut AttributePath,
) -> Result<(), CodecError> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        with_step(path, index_step(i), |p| write(out, item, elem_ty(i), p))?;
    }
    out.push(']');
    Ok(())
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
