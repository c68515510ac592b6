//! The related-resource part of an input (parameter groups, replica or cluster source), set the same way by both
//! adapters once they have looked for the related resources they can see.

use std::collections::BTreeMap;

use super::paths::sorted;
use crate::model::{Action, Input, Kind, Related, RelatedParameterGroup};

/// Whether the resource takes its storage from another one (so `related.source` matters).
pub fn needs_source(input: &Input) -> bool {
    matches!(input.kind, Kind::Replica | Kind::ClusterMember)
}

/// The parameter group name the resource asks for: `Some(Some(name))`, `Some(None)` when unknown, `None` when unset
/// or an AWS default group.
pub fn wanted_parameter_group(input: &Input) -> Option<Option<String>> {
    if input
        .unknown
        .iter()
        .any(|u| u == "settings.parameter_group_name")
    {
        return Some(None);
    }
    match input
        .settings
        .as_ref()
        .and_then(|s| s.parameter_group_name.clone())
    {
        // AWS default groups (`default.postgres16`) behave like no group at all.
        Some(Some(n)) if !n.is_empty() && !n.starts_with("default.") => Some(Some(n)),
        _ => None,
    }
}

/// Sets `related` and lists what could not be resolved in `unknown`, the same way for both adapters.
pub fn finish_related(input: &mut Input, related: Related) {
    let mut unk = std::mem::take(&mut input.unknown);
    if related.parameter_groups.iter().any(|g| !g.known) {
        unk.push("related.parameter_groups".into());
    }
    if needs_source(input) && input.action != Action::Delete {
        match &related.source {
            None => unk.push("related.source".into()),
            Some(s) if s.storage_encrypted.is_none() => {
                unk.push("related.source.storage_encrypted".into())
            }
            Some(_) => {}
        }
    }
    // A `dbplatform_replica` has no tier of its own: it is held to its source's, when the source is visible.
    if input.resource_type == "dbplatform_replica"
        && input.tier.is_none()
        && !unk.iter().any(|u| u == "tier")
    {
        input.tier = related.source.as_ref().and_then(|s| s.tier.clone());
    }
    // Nor, unless set, an instance class of its own: the provider gives it its source's.
    if input.resource_type == "dbplatform_replica"
        && unk.iter().any(|u| u == "settings.instance_class")
    {
        if let (Some(class), Some(settings)) = (
            related
                .source
                .as_ref()
                .and_then(|s| s.instance_class.clone()),
            input.settings.as_mut(),
        ) {
            settings.instance_class = Some(Some(class));
            unk.retain(|u| u != "settings.instance_class");
        }
    }
    // A break-glass grant's tier is its database's: read by the provider at plan time, or, while that database is
    // created in the same plan, taken from it here.
    if input.resource_type == "dbplatform_break_glass" && input.tier.is_none() {
        if let Some(t) = related.source.as_ref().and_then(|s| s.tier.clone()) {
            input.tier = Some(t);
            unk.retain(|u| u != "tier");
        }
    }
    input.unknown = sorted(unk);
    input.related = related;
}

/// A parameter group the resource names but that is not visible (not in the plan, or seen by the provider).
pub fn unresolved_group(name: Option<String>) -> RelatedParameterGroup {
    RelatedParameterGroup {
        address: None,
        name,
        parameters: BTreeMap::new(),
        known: false,
    }
}
