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
        // A tag of `tags_all` alone unknown (a provider default tag from another resource): only that key is.
        if let Some(key) = u
            .strip_prefix("tags.")
            .or_else(|| u.strip_prefix("tags_all."))
        {
            let key = key.split('.').next().unwrap_or(key);
            tags.remove(key);
            unk.push(format!("tags.{key}"));
        }
    }
    unk.sort();
    unk.dedup();
    (tags, unk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_unknown_default_tag_leaves_the_known_ones_known() {
        let after = json!({"tags": {"team": "a"}, "tags_all": {"team": "a", "owner": "payments"}});
        let unknown = vec!["tags_all.cost_center".to_string()];
        let defaults = BTreeMap::from([("owner".to_string(), "payments".to_string())]);
        let (tags, unk) = tags_of(&after, &unknown, &defaults);
        assert_eq!(tags.get("owner").map(String::as_str), Some("payments"));
        assert_eq!(tags.get("team").map(String::as_str), Some("a"));
        assert_eq!(unk, vec!["tags.cost_center".to_string()]);
    }
}
