//! Typed reads of attributes out of a [`Value`], keeping Terraform's three states apart.
//!
//! A configuration value at plan time may be null (not set), unknown (depends on something known only after
//! apply) or known. Resources must treat each differently (an unknown `tier` cannot be expanded yet, a null one
//! takes a default), so every getter returns a [`Field`] rather than collapsing unknown into `None`.
//! A value of the wrong type (which Terraform's own type checks make a provider bug) is an error [`Diagnostic`]
//! on the attribute's path.

use std::collections::BTreeMap;

use super::diagnostics::Diagnostic;
use super::path::AttributePath;
use super::value::{Number, Value};

/// One attribute's value: not set, not yet known, or known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    /// The attribute is null (unset in configuration).
    Null,
    /// The value will only be known after apply (at plan time only; state never holds unknowns).
    Unknown,
    /// A known value. Collections are `Known` only when every element is known.
    Known(T),
}

impl<T> Field<T> {
    /// The known value; `None` for null and unknown.
    pub fn known(self) -> Option<T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the value is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// Borrowing view.
    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(v),
        }
    }

    /// Maps the known value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(f(v)),
        }
    }

    /// The value when it must be known now (e.g. at apply, or to expand a tier at plan time): `Ok(None)` for
    /// null, `Ok(Some(v))` for known, and for unknown an error diagnostic on `path` saying why it is needed.
    pub fn require_known(self, path: &AttributePath, why: &str) -> Result<Option<T>, Diagnostic> {
        match self {
            Field::Null => Ok(None),
            Field::Known(v) => Ok(Some(v)),
            Field::Unknown => Err(unknown_diagnostic(path, why)),
        }
    }
}

/// The diagnostic for a value that must be known but is not: it names the attribute and the fix.
pub fn unknown_diagnostic(path: &AttributePath, why: &str) -> Diagnostic {
    Diagnostic::error(
        "Value not known at plan time",
        format!(
            "{path} depends on a value that Terraform only knows after apply, but {why}. Set it to a literal or to \
             a value known during plan (a variable, a local, or an attribute of an existing resource)."
        ),
    )
    .at(path.clone())
}

fn wrong_type(path: &AttributePath, expected: &str, got: &Value) -> Diagnostic {
    let got = match got {
        Value::Unknown => "an unknown value",
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
    };
    Diagnostic::error(
        "Invalid attribute value",
        format!("{path} must be {expected}, got {got}."),
    )
    .at(path.clone())
}

/// Reads the value at `path` under `root` and classifies it with `f` when it is neither null nor unknown.
fn read<T>(
    root: &Value,
    path: &AttributePath,
    f: impl FnOnce(&Value) -> Result<Field<T>, Diagnostic>,
) -> Result<Field<T>, Diagnostic> {
    match root.at(path) {
        None | Some(Value::Null) => {
            // A path through an unknown parent is unknown, not null.
            if path_crosses_unknown(root, path) {
                Ok(Field::Unknown)
            } else {
                Ok(Field::Null)
            }
        }
        Some(Value::Unknown) => Ok(Field::Unknown),
        Some(v) => f(v),
    }
}

fn path_crosses_unknown(root: &Value, path: &AttributePath) -> bool {
    (0..path.steps.len()).any(|n| {
        let prefix = AttributePath {
            steps: path.steps[..n].to_vec(),
        };
        matches!(root.at(&prefix), Some(Value::Unknown))
    })
}

/// A string attribute of `obj`.
pub fn get_string(obj: &Value, name: &str) -> Result<Field<String>, Diagnostic> {
    get_string_at(obj, &AttributePath::attr(name))
}

/// A string at `path` under `root`.
pub fn get_string_at(root: &Value, path: &AttributePath) -> Result<Field<String>, Diagnostic> {
    read(root, path, |v| match v {
        Value::String(s) => Ok(Field::Known(s.clone())),
        other => Err(wrong_type(path, "a string", other)),
    })
}

/// A bool attribute of `obj`.
pub fn get_bool(obj: &Value, name: &str) -> Result<Field<bool>, Diagnostic> {
    get_bool_at(obj, &AttributePath::attr(name))
}

/// A bool at `path` under `root`.
pub fn get_bool_at(root: &Value, path: &AttributePath) -> Result<Field<bool>, Diagnostic> {
    read(root, path, |v| match v {
        Value::Bool(b) => Ok(Field::Known(*b)),
        other => Err(wrong_type(path, "a bool", other)),
    })
}

/// A number attribute of `obj`, with every digit.
pub fn get_number(obj: &Value, name: &str) -> Result<Field<Number>, Diagnostic> {
    get_number_at(obj, &AttributePath::attr(name))
}

/// A number at `path` under `root`.
pub fn get_number_at(root: &Value, path: &AttributePath) -> Result<Field<Number>, Diagnostic> {
    read(root, path, |v| match v {
        Value::Number(n) => Ok(Field::Known(n.clone())),
        other => Err(wrong_type(path, "a number", other)),
    })
}

/// A whole-number attribute of `obj` that must fit i64 (a fraction or a huge number is an error diagnostic).
pub fn get_i64(obj: &Value, name: &str) -> Result<Field<i64>, Diagnostic> {
    get_i64_at(obj, &AttributePath::attr(name))
}

/// A whole number at `path` under `root`.
pub fn get_i64_at(root: &Value, path: &AttributePath) -> Result<Field<i64>, Diagnostic> {
    read(root, path, |v| match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(Field::Known(i)),
            None => Err(Diagnostic::error(
                "Invalid attribute value",
                format!(
                    "{path} must be a whole number between {} and {}, got {n}.",
                    i64::MIN,
                    i64::MAX
                ),
            )
            .at(path.clone())),
        },
        other => Err(wrong_type(path, "a number", other)),
    })
}

/// A `map(string)` attribute of `obj`. Unknown when the map or any of its values is unknown; a null value
/// inside the map is an error diagnostic on its key.
pub fn get_string_map(
    obj: &Value,
    name: &str,
) -> Result<Field<BTreeMap<String, String>>, Diagnostic> {
    get_string_map_at(obj, &AttributePath::attr(name))
}

/// A `map(string)` at `path` under `root`.
pub fn get_string_map_at(
    root: &Value,
    path: &AttributePath,
) -> Result<Field<BTreeMap<String, String>>, Diagnostic> {
    read(root, path, |v| match v {
        Value::Map(m) | Value::Object(m) => {
            let mut out = BTreeMap::new();
            let mut unknown = false;
            for (k, item) in m {
                match item {
                    Value::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    Value::Unknown => unknown = true,
                    other => return Err(wrong_type(&path.join_key(k.clone()), "a string", other)),
                }
            }
            Ok(if unknown {
                Field::Unknown
            } else {
                Field::Known(out)
            })
        }
        other => Err(wrong_type(path, "a map of strings", other)),
    })
}

/// A `list(string)` or `set(string)` attribute of `obj`. Unknown when the collection or any element is unknown;
/// a null element is an error diagnostic on its index.
pub fn get_string_list(obj: &Value, name: &str) -> Result<Field<Vec<String>>, Diagnostic> {
    get_string_list_at(obj, &AttributePath::attr(name))
}

/// A `list(string)` or `set(string)` at `path` under `root`.
pub fn get_string_list_at(
    root: &Value,
    path: &AttributePath,
) -> Result<Field<Vec<String>>, Diagnostic> {
    read(root, path, |v| match v {
        Value::List(items) | Value::Set(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut unknown = false;
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    Value::Unknown => unknown = true,
                    other => {
                        let idx = i64::try_from(i).unwrap_or(i64::MAX);
                        return Err(wrong_type(&path.join_index(idx), "a string", other));
                    }
                }
            }
            Ok(if unknown {
                Field::Unknown
            } else {
                Field::Known(out)
            })
        }
        other => Err(wrong_type(path, "a list of strings", other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_states_are_kept_apart() {
        let o = Value::object([
            ("a", Value::string("x")),
            ("b", Value::Null),
            ("c", Value::Unknown),
        ]);
        assert_eq!(get_string(&o, "a").unwrap(), Field::Known("x".to_string()));
        assert_eq!(get_string(&o, "b").unwrap(), Field::Null);
        assert_eq!(get_string(&o, "c").unwrap(), Field::Unknown);
        assert_eq!(get_string(&o, "missing").unwrap(), Field::Null);
        // Below an unknown object everything is unknown.
        let nested = Value::object([("aws", Value::Unknown)]);
        assert_eq!(
            get_string_at(&nested, &AttributePath::attr("aws").join_attr("region")).unwrap(),
            Field::Unknown
        );
    }

    #[test]
    fn wrong_types_are_diagnostics_on_the_path() {
        let o = Value::object([
            ("n", Value::string("x")),
            ("f", Value::Number(Number::parse("1.5").unwrap())),
        ]);
        let d = get_bool(&o, "n").unwrap_err();
        assert_eq!(d.detail, "n must be a bool, got a string.");
        assert_eq!(d.attribute, Some(AttributePath::attr("n")));
        let d = get_i64(&o, "f").unwrap_err();
        assert!(
            d.detail.starts_with("f must be a whole number"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn collections() {
        let mut tags = BTreeMap::new();
        tags.insert("owner".to_string(), Value::string("team"));
        tags.insert("cost".to_string(), Value::int(3));
        let o = Value::object([
            ("tags", Value::Map(tags.clone())),
            (
                "list",
                Value::List(vec![Value::string("a"), Value::Unknown]),
            ),
            (
                "set",
                Value::Set(vec![Value::string("a"), Value::string("b")]),
            ),
        ]);
        let d = get_string_map(&o, "tags").unwrap_err();
        assert_eq!(
            d.attribute,
            Some(AttributePath::attr("tags").join_key("cost"))
        );
        assert_eq!(get_string_list(&o, "list").unwrap(), Field::Unknown);
        assert_eq!(
            get_string_list(&o, "set").unwrap(),
            Field::Known(vec!["a".into(), "b".into()])
        );
        tags.remove("cost");
        let o = Value::object([("tags", Value::Map(tags))]);
        assert_eq!(
            get_string_map(&o, "tags").unwrap().known().unwrap()["owner"],
            "team"
        );
    }

    #[test]
    fn require_known_explains_the_fix() {
        let d = Field::<String>::Unknown
            .require_known(
                &AttributePath::attr("tier"),
                "the tier must be known to expand its settings",
            )
            .unwrap_err();
        assert_eq!(d.attribute, Some(AttributePath::attr("tier")));
        assert!(
            d.detail
                .contains("tier depends on a value that Terraform only knows after apply"),
            "{}",
            d.detail
        );
        assert_eq!(
            Field::<i64>::Null
                .require_known(&AttributePath::attr("x"), "")
                .unwrap(),
            None
        );
    }
}
