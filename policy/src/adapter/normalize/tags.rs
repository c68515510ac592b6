//! The tags a rule sees: `tags_all` when known, else the provider's constant default tags merged with `tags`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::paths::is_unknown;

fn string_map(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Merged tags of one state and the tag paths unknown until apply.
pub(super) fn tags_of(
    v: &Value,
    unknown: &[String],
    default_tags: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    if let Some(all) = v.get("tags_all") {
        if all.is_object() && !is_unknown("tags_all", unknown) {
            return (string_map(all), Vec::new());
        }
    }
    let mut tags = default_tags.clone();
    let mut unk = Vec::new();
    if unknown.iter().any(|u| u.is_empty() || u == "tags") {
        unk.push("tags".to_string());
        return (tags, unk);
    }
    if let Some(t) = v.get("tags") {
        tags.extend(string_map(t));
    }
    for u in unknown {
        if let Some(key) = u.strip_prefix("tags.") {
            let key = key.split('.').next().unwrap_or(key);
            tags.remove(key);
            unk.push(format!("tags.{key}"));
        }
    }
    (tags, unk)
}
