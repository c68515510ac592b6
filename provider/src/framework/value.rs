//! Values as Terraform sees them: every type may also be null or unknown (not yet known at plan time).

use std::collections::BTreeMap;
use std::fmt;

use super::path::{AttributePath, Step};

/// An arbitrary-precision number kept as its canonical decimal text, so big integers never lose digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(String);

impl Number {
    /// Builds a number from decimal text, refusing anything that is not a finite decimal number.
    pub fn parse(s: &str) -> Option<Number> {
        let t = s.trim();
        let re_ok = {
            let b = t.as_bytes();
            let mut i = 0;
            if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                i += 1;
            }
            let start_digits = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let mut digits = i - start_digits;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let fs = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                digits += i - fs;
            }
            if digits > 0 && i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                i += 1;
                if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                    i += 1;
                }
                let es = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i == es {
                    return None;
                }
            }
            digits > 0 && i == b.len()
        };
        if !re_ok {
            return None;
        }
        Some(Number(canonical(t)))
    }

    /// The number as decimal text (canonical: no '+', no leading zeros, no trailing fractional zeros).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as i64 when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse::<i64>().ok()
    }

    /// The value as u64 when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse::<u64>().ok()
    }

    /// The value as f64 (may round).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse::<f64>().ok()
    }

    /// Whether the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        !self.0.contains(['.', 'e', 'E'])
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number(v.to_string())
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        Number(v.to_string())
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Canonical decimal text: expands small exponents, strips signs and zeros that carry no value.
fn canonical(t: &str) -> String {
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut point: i64 = int_part.len() as i64 + exp;
    // Keep huge exponents in scientific form rather than materialising millions of zeros.
    if !(-400..=400).contains(&point) {
        let d = digits.trim_start_matches('0');
        if d.is_empty() {
            return "0".into();
        }
        let lead = (digits.len() - d.len()) as i64;
        point -= lead;
        let d = d.trim_end_matches('0');
        let d = if d.is_empty() { "0" } else { d };
        let (first, tail) = d.split_at(1);
        let e = point - 1;
        let body = if tail.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{tail}")
        };
        return format!("{}{}e{}", if neg { "-" } else { "" }, body, e);
    }
    if point < 0 {
        digits = format!("{}{}", "0".repeat((-point) as usize), digits);
        point = 0;
    }
    if (point as usize) > digits.len() {
        let pad = point as usize - digits.len();
        digits.push_str(&"0".repeat(pad));
    }
    let (i, f) = digits.split_at(point as usize);
    let i = i.trim_start_matches('0');
    let f = f.trim_end_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let body = if f.is_empty() {
        i.to_string()
    } else {
        format!("{i}.{f}")
    };
    if body == "0" {
        return body;
    }
    format!("{}{}", if neg { "-" } else { "" }, body)
}

/// A Terraform value. Types come from the schema; a value only carries its shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Not known until apply.
    Unknown,
    /// Explicitly absent.
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements in a canonical order (the codec sorts them; equality ignores wire order).
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An integer number value.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::from(i))
    }

    /// An object from `(attribute, value)` pairs: the one way tests and resources build an object without
    /// spelling out its map.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Elements of a list or set.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An object's attribute (Null when absent or when self is not an object).
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets an object's attribute; no-op on non-objects.
    pub fn set(&mut self, name: &str, v: Value) {
        if let Value::Object(m) | Value::Map(m) = self {
            m.insert(name.to_string(), v);
        }
    }

    /// The value at a path, if the path leads anywhere.
    pub fn at(&self, path: &AttributePath) -> Option<&Value> {
        let mut cur = self;
        for step in &path.steps {
            cur = match (step, cur) {
                (Step::Attribute(n), Value::Object(m)) => m.get(n)?,
                (Step::ElementKeyString(k), Value::Map(m)) => m.get(k)?,
                (Step::ElementKeyInt(i), Value::List(v) | Value::Set(v)) => {
                    v.get(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// A mutable reference to the value at a path.
    pub fn at_mut(&mut self, path: &AttributePath) -> Option<&mut Value> {
        let mut cur = self;
        for step in &path.steps {
            cur = match (step, cur) {
                (Step::Attribute(n), Value::Object(m)) => m.get_mut(n)?,
                (Step::ElementKeyString(k), Value::Map(m)) => m.get_mut(k)?,
                (Step::ElementKeyInt(i), Value::List(v) | Value::Set(v)) => {
                    v.get_mut(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Converts to JSON for the policy engine and logs; unknown becomes `None` (absent), as in plan JSON.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match self {
            Value::Unknown => return None,
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => J::from(i),
                None => n
                    .as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(J::Number)
                    .unwrap_or(J::Null),
            },
            Value::String(s) => J::String(s.clone()),
            Value::List(v) | Value::Set(v) => {
                J::Array(v.iter().map(|e| e.to_json().unwrap_or(J::Null)).collect())
            }
            Value::Map(m) | Value::Object(m) => J::Object(
                m.iter()
                    .filter_map(|(k, v)| v.to_json().map(|j| (k.clone(), j)))
                    .collect(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_every_digit() {
        let n = Number::parse("123456789012345678901234567890").unwrap();
        assert_eq!(n.as_str(), "123456789012345678901234567890");
        assert_eq!(Number::parse("1.50").unwrap().as_str(), "1.5");
        assert_eq!(Number::parse("1e3").unwrap().as_str(), "1000");
        assert_eq!(Number::parse("-0.0").unwrap().as_str(), "0");
        assert_eq!(Number::parse("2.5e-3").unwrap().as_str(), "0.0025");
        assert!(Number::parse("abc").is_none());
        assert!(Number::parse("1e").is_none());
        assert!(Number::parse("").is_none());
    }
}
