//! Raw resource -> normalized input: the one function both adapters call.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::engine_version::{engine_major, family_engine, normalize_engine};
use super::paths::{clear_path, is_unknown, sorted};
use super::raw::{base_kind, RawResource, POLICY_DECISION_ATTRIBUTE};
use super::settings::settings_of;
use super::tags::tags_of;
use crate::model::{Input, Kind, Related, INPUT_SCHEMA};

/// Builds the input for one resource; `related` is filled later by [`finish_related`]. `Err` is a message
/// naming the attribute that has the wrong type (callers prefix the file and address).
pub fn build(raw: RawResource) -> Result<Input, String> {
    let RawResource {
        address,
        module,
        resource_type,
        name,
        index,
        action,
        mut before,
        mut after,
        unknown,
        sensitive,
        backend,
        default_tags,
        provider_region,
        context,
    } = raw;
    if matches!(before, Some(Value::Null)) {
        before = None;
    }
    if matches!(after, Some(Value::Null)) {
        after = None;
    }
    // The provider's own decision is an output of the policy, not an input to it: the provider cannot know it
    // while it builds the input, so drop it on both paths to keep them equal.
    for v in [before.as_mut(), after.as_mut()].into_iter().flatten() {
        if let Value::Object(m) = v {
            m.remove(POLICY_DECISION_ATTRIBUTE);
        }
    }
    let base = base_kind(&resource_type).unwrap_or(Kind::Other);
    // The state rules look at: after the change, or before it on delete.
    let empty = Value::Object(Map::new());
    let (state, state_unknown): (&Value, &[String]) = match (&after, &before) {
        (Some(a), _) => (a, &unknown),
        (None, Some(b)) => (b, &[]),
        (None, None) => (&empty, &[]),
    };

    // aws_* resources always live on aws; dbplatform resources say which backend they use (trusted over the
    // provider configuration the adapter was given).
    let backend = if resource_type.starts_with("aws_") {
        "aws".to_string()
    } else {
        state
            .get("backend")
            .and_then(Value::as_str)
            .map_or(backend, str::to_string)
    };
    let mut unk: Vec<String> = Vec::new();
    let mut paths = BTreeMap::new();
    let settings = match &after {
        Some(a) => {
            let s = settings_of(
                &resource_type,
                a,
                &unknown,
                &backend,
                provider_region.as_deref(),
            )?;
            unk.extend(s.unknown);
            paths = s.paths;
            Some(s.settings)
        }
        None => None,
    };
    let settings_before = match &before {
        Some(b) => {
            let s = settings_of(&resource_type, b, &[], &backend, provider_region.as_deref())
                .map_err(|e| format!("before: {e}"))?;
            if paths.is_empty() {
                paths = s.paths;
            }
            Some(s.settings)
        }
        None => None,
    };

    let kind = if resource_type == "aws_db_instance"
        && (is_unknown("replicate_source_db", state_unknown)
            || state
                .get("replicate_source_db")
                .is_some_and(|x| x.as_str().is_some_and(|s| !s.is_empty())))
    {
        Kind::Replica
    } else {
        base
    };

    let (tags, tag_unknown) = tags_of(state, state_unknown, &default_tags);
    unk.extend(tag_unknown);

    let tier = if state.get("tier").is_some() || is_unknown("tier", state_unknown) {
        paths.insert("tier".into(), "tier".into());
        if is_unknown("tier", state_unknown) {
            unk.push("tier".into());
            None
        } else {
            match state.get("tier") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Null) | None => tags.get("tier").cloned(),
                Some(other) => return Err(format!("attribute tier must be a string, got {other}")),
            }
        }
    } else {
        paths.insert("tier".into(), "tags.tier".into());
        if unk.iter().any(|u| u == "tags" || u == "tags.tier") {
            unk.push("tier".into());
        }
        tags.get("tier").cloned()
    };

    // Access resources (roles, grants, break-glass) have few settings: rules read their attributes in `after`
    // directly, so the attributes unknown until apply are listed under the same names.
    if matches!(base, Kind::Role | Kind::Grant | Kind::BreakGlass) {
        unk.extend(
            state_unknown
                .iter()
                .filter(|p| !p.starts_with("tags") && p.as_str() != "tier")
                .cloned(),
        );
    }

    let (mut engine, mut major) = (None, None);
    if matches!(base, Kind::ParameterGroup | Kind::ClusterParameterGroup) {
        paths.insert("engine".into(), "family".into());
        paths.insert("engine_major".into(), "family".into());
        if let Some(f) = state.get("family").and_then(Value::as_str) {
            (engine, major) = family_engine(f);
        } else if is_unknown("family", state_unknown) {
            unk.push("engine".into());
            unk.push("engine_major".into());
        }
    } else if state.get("engine").is_some() || is_unknown("engine", state_unknown) {
        paths.insert("engine".into(), "engine".into());
        paths.insert("engine_major".into(), "engine_version".into());
        if is_unknown("engine", state_unknown) {
            unk.push("engine".into());
        } else {
            engine = state
                .get("engine")
                .and_then(Value::as_str)
                .map(normalize_engine);
        }
        if is_unknown("engine_version", state_unknown) {
            unk.push("engine_major".into());
        } else if let (Some(e), Some(v)) =
            (&engine, state.get("engine_version").and_then(Value::as_str))
        {
            major = engine_major(e, v);
        }
    }

    // Redact sensitive values, after the settings that depend on them were computed.
    for p in &sensitive {
        if let Some(b) = before.as_mut() {
            clear_path(b, p, false);
        }
        if let Some(a) = after.as_mut() {
            clear_path(a, p, false);
        }
    }

    Ok(Input {
        schema: INPUT_SCHEMA.to_string(),
        address,
        module,
        resource_type,
        name,
        index,
        kind,
        action,
        backend,
        engine,
        engine_major: major,
        tier,
        tier_assumed: false,
        tags,
        settings,
        settings_before,
        before: before
            .as_ref()
            .map(crate::model::input::RawJson::from_value),
        after: after.as_ref().map(crate::model::input::RawJson::from_value),
        unknown: sorted(unk),
        sensitive: sorted(sensitive),
        paths: std::sync::Arc::new(paths),
        related: Related::default(),
        migration: None,
        context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, PlanContext};
    use serde_json::json;

    #[test]
    fn wrong_type_names_the_attribute() {
        let raw = RawResource {
            address: "aws_db_instance.x".into(),
            module: String::new(),
            resource_type: "aws_db_instance".into(),
            name: "x".into(),
            index: None,
            action: Action::Create,
            before: None,
            after: Some(json!({"multi_az": "yes"})),
            unknown: vec![],
            sensitive: vec![],
            backend: "aws".into(),
            default_tags: BTreeMap::new(),
            provider_region: None,
            context: PlanContext {
                source: "plan".into(),
                terraform_version: None,
                format_version: None,
            },
        };
        let e = build(raw).unwrap_err();
        assert_eq!(
            e,
            "attribute multi_az must be a boolean, got a string \"yes\""
        );
    }
}
