//! The provider's planned state -> the same [`Input`] the plan-JSON adapter builds, for the plan-time check.
//!
//! The provider sees one resource at a time during `PlanResourceChange`, without the rest of the plan, so related
//! resources it names (a parameter group, a replica source) are reported as not visible (`known: false`) and the
//! engine turns the rules that need them into `unknown` rather than guessing.

use std::collections::BTreeMap;

use serde_json::Value;

use super::address;
use super::normalize::{
    self, finish_related, unresolved_group, wanted_parameter_group, RawResource,
};
use crate::model::{Action, Input, PlanContext, Related};

/// What the provider knows about one planned change.
#[derive(Debug, Clone)]
pub struct ProviderPlan {
    pub resource_type: String,
    /// The resource address when the provider knows it (Terraform does not send it with every RPC).
    pub address: Option<String>,
    pub action: Action,
    /// Prior state as JSON; `None` on create.
    pub before: Option<Value>,
    /// Planned state as JSON (unknown values may be present as null); `None` on delete.
    pub after: Option<Value>,
    /// Raw attribute paths unknown until apply, e.g. `endpoint`, `tags.owner`.
    pub unknown: Vec<String>,
    /// Raw attribute paths the schema marks sensitive.
    pub sensitive: Vec<String>,
    /// The provider's backend: `aws` or `local`.
    pub backend: String,
    /// The provider's default tags.
    pub default_tags: BTreeMap<String, String>,
    pub terraform_version: Option<String>,
}

/// Builds the input for one planned change. A value of the wrong type is left out of the settings (the provider's
/// schema already guarantees types, so this only guards against a provider bug).
pub fn from_provider(req: ProviderPlan) -> Input {
    let ProviderPlan {
        resource_type,
        address,
        action,
        before,
        mut after,
        unknown,
        sensitive,
        backend,
        default_tags,
        terraform_version,
    } = req;
    let parsed = address.as_deref().and_then(address::parse);
    let (module, name, index) = match &parsed {
        Some(p) => (p.module.clone(), p.name.clone(), p.index.clone()),
        None => (String::new(), String::new(), None),
    };
    let address = address.unwrap_or_else(|| resource_type.clone());
    // Plan JSON leaves unknown values out of `after`; do the same so rules see one shape.
    let mut unknown_sorted = unknown.clone();
    unknown_sorted.sort();
    unknown_sorted.dedup();
    if let Some(a) = after.as_mut() {
        for p in unknown_sorted.iter().rev() {
            normalize::clear_path(a, p, true);
        }
    }
    let context = PlanContext {
        source: "provider".into(),
        terraform_version,
        format_version: None,
    };
    let raw = RawResource {
        address: address.clone(),
        module: module.clone(),
        resource_type: resource_type.clone(),
        name: name.clone(),
        index: index.clone(),
        action,
        before: before.clone(),
        after: after.clone(),
        unknown: unknown_sorted.clone(),
        sensitive: sensitive.clone(),
        backend: backend.clone(),
        default_tags: default_tags.clone(),
        provider_region: None,
        context: context.clone(),
    };
    let mut input = match normalize::build(raw.clone()) {
        Ok(i) => i,
        Err(_) => {
            // Drop the attribute values and keep identity, action and tags so rules still see the resource.
            let fallback = RawResource {
                before: None,
                after: Some(Value::Object(Default::default())),
                ..raw
            };
            match normalize::build(fallback) {
                Ok(i) => i,
                Err(_) => unreachable_input(
                    address,
                    module,
                    resource_type,
                    name,
                    index,
                    action,
                    backend,
                    context,
                ),
            }
        }
    };
    let mut related = Related::default();
    if input.action != Action::Delete {
        if let Some(wanted) = wanted_parameter_group(&input) {
            related.parameter_groups.push(unresolved_group(wanted));
        }
    }
    finish_related(&mut input, related);
    input
}

#[allow(clippy::too_many_arguments)]
fn unreachable_input(
    address: String,
    module: String,
    resource_type: String,
    name: String,
    index: Option<Value>,
    action: Action,
    backend: String,
    context: PlanContext,
) -> Input {
    Input {
        schema: crate::model::INPUT_SCHEMA.to_string(),
        address,
        module,
        kind: normalize::base_kind(&resource_type).unwrap_or(crate::model::Kind::Other),
        resource_type,
        name,
        index,
        action,
        backend,
        engine: None,
        engine_major: None,
        tier: None,
        tier_assumed: false,
        tags: BTreeMap::new(),
        settings: None,
        settings_before: None,
        before: None,
        after: None,
        unknown: Vec::new(),
        sensitive: Vec::new(),
        paths: Default::default(),
        related: Related::default(),
        migration: None,
        context,
    }
}
