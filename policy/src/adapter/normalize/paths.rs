//! Raw attribute paths (`tags.owner`, `vpc_security_group_ids.0`): which are unknown, what value one leads to,
//! clearing one, and reading the paths marked in Terraform's `after_unknown` / `after_sensitive` trees.

use std::collections::BTreeSet;

use serde_json::Value;

/// Whether `raw` (or a part of it, or a parent of it) is unknown.
pub fn is_unknown(raw: &str, unknown: &[String]) -> bool {
    unknown.iter().any(|u| {
        u.is_empty()
            || u == raw
            || (raw.len() > u.len()
                && raw.starts_with(u.as_str())
                && raw.as_bytes()[u.len()] == b'.')
            || (u.len() > raw.len() && u.starts_with(raw) && u.as_bytes()[raw.len()] == b'.')
    })
}

/// The value at a dotted raw path (`tags.owner`, `list.0`); `None` when absent.
pub fn get_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for step in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(step)?,
            Value::Array(a) => a.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Removes (object keys) or nulls (list elements) the value at `path`, the way Terraform's plan JSON omits
/// unknown values and the adapters redact sensitive ones (`remove` false: always set to null).
pub fn clear_path(v: &mut Value, path: &str, remove: bool) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let target = match parent {
        None => Some(v),
        Some(p) => {
            let mut cur = Some(v);
            for step in p.split('.') {
                cur = match cur {
                    Some(Value::Object(m)) => m.get_mut(step),
                    Some(Value::Array(a)) => step.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                    _ => None,
                };
            }
            cur
        }
    };
    match target {
        Some(Value::Object(m)) => {
            if remove {
                m.remove(last);
            } else if let Some(x) = m.get_mut(last) {
                *x = Value::Null;
            }
        }
        Some(Value::Array(a)) => {
            if let Some(x) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *x = Value::Null;
            }
        }
        _ => {}
    }
}

/// The raw paths below `prefix` marked `true` in an `after_unknown`/`after_sensitive` tree.
pub fn true_paths(tree: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match tree {
        Value::Bool(true) => {
            out.insert(prefix.to_string());
        }
        Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                true_paths(v, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let p = if prefix.is_empty() {
                    i.to_string()
                } else {
                    format!("{prefix}.{i}")
                };
                true_paths(v, &p, out);
            }
        }
        _ => {}
    }
}

/// A list of paths sorted and without repeats, so inputs compare (and serialize) the same whatever order the
/// adapter found them in.
pub(super) fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_prefixes() {
        let u = vec!["tags.owner".to_string(), "availability_zones".to_string()];
        assert!(is_unknown("tags", &u));
        assert!(is_unknown("availability_zones.1", &u));
        assert!(!is_unknown("tags_all", &u));
    }

    #[test]
    fn clear_path_removes_keys_and_nulls_elements() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        clear_path(&mut v, "a.b", true);
        clear_path(&mut v, "l.1", true);
        clear_path(&mut v, "a.c", false);
        assert_eq!(v, json!({"a": {"c": null}, "l": [1, null]}));
    }
}
