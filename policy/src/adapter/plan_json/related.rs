//! Related resources inside one plan: the parameter group an instance or cluster uses, the source of a replica
//! or cluster member, and the database and role template of a break-glass grant, found by name, or through the
//! `configuration` references when a name is unknown until apply.

use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::Value;

use super::config::join;
use crate::adapter::address;
use crate::adapter::normalize::{finish_related, unresolved_group, wanted_parameter_group};
use crate::model::{
    Action, Input, Kind, Related, RelatedCopy, RelatedParameterGroup, RelatedSource,
};

/// What related-resource resolution needs of a resource besides its input, gathered while it is built.
pub(super) struct Meta<'a> {
    pub(super) config: Option<&'a Value>,
    pub(super) lookups: Lookups,
}

/// Lookup tables over the plan's inputs for resolving related resources.
struct Tables {
    by_base: HashMap<String, Vec<usize>>,
    by_name: HashMap<(&'static str, String), Vec<usize>>,
    /// [`Lookups`] of each input, by index.
    lookups: Vec<Lookups>,
}

fn group_class(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::ParameterGroup => Some("db"),
        Kind::ClusterParameterGroup => Some("cluster"),
        _ => None,
    }
}

/// The attributes cross-resource resolution reads by name.
const LOOKUP_KEYS: [&str; 8] = [
    "name",
    "identifier",
    "arn",
    "id",
    "cluster_identifier",
    "replicate_source_db",
    "source_database_id",
    "source_db_instance_arn",
];

/// The string attributes in [`LOOKUP_KEYS`] of an input (after the change, or before it on delete), read with
/// one pass over its raw text instead of one per attribute.
#[derive(Default)]
pub(super) struct Lookups([Option<String>; LOOKUP_KEYS.len()]);

impl Lookups {
    pub(super) fn of(input: &Input) -> Self {
        let mut out = Lookups::default();
        let Some(raw) = input.after.as_ref().or(input.before.as_ref()) else {
            return out;
        };
        let Ok(map) = serde_json::from_str::<HashMap<&str, &RawValue>>(raw.as_str()) else {
            return out;
        };
        for (slot, key) in out.0.iter_mut().zip(LOOKUP_KEYS) {
            *slot = map
                .get(key)
                .and_then(|v| serde_json::from_str::<Value>(v.get()).ok())
                .and_then(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                });
        }
        out
    }

    fn get(&self, key: &str) -> Option<&str> {
        let i = LOOKUP_KEYS.iter().position(|k| *k == key)?;
        self.0[i].as_deref()
    }
}

/// Fills in `related` of every input from the other inputs of the plan.
pub(super) fn resolve_related(inputs: &mut [Input], metas: &mut [Meta]) {
    let mut t = Tables {
        by_base: HashMap::new(),
        by_name: HashMap::new(),
        lookups: metas
            .iter_mut()
            .map(|m| std::mem::take(&mut m.lookups))
            .collect(),
    };
    for (i, inp) in inputs.iter().enumerate() {
        let base = format!(
            "{}{}.{}",
            if inp.module.is_empty() {
                String::new()
            } else {
                format!("{}.", inp.module)
            },
            inp.resource_type,
            inp.name
        );
        t.by_base.entry(base).or_default().push(i);
        if inp.action == Action::Delete {
            continue;
        }
        if let Some(class) = group_class(inp.kind) {
            if let Some(n) = t.lookups[i].get("name") {
                t.by_name.entry((class, n.to_string())).or_default().push(i);
            }
        }
        match inp.resource_type.as_str() {
            "aws_db_instance" => {
                for k in ["identifier", "arn", "id"] {
                    if let Some(v) = t.lookups[i].get(k) {
                        t.by_name
                            .entry(("instance", v.to_string()))
                            .or_default()
                            .push(i);
                    }
                }
            }
            "dbplatform_database" => {
                for k in ["id", "name"] {
                    if let Some(v) = t.lookups[i].get(k) {
                        t.by_name
                            .entry(("database", v.to_string()))
                            .or_default()
                            .push(i);
                    }
                }
            }
            "aws_rds_cluster" => {
                for k in ["cluster_identifier", "arn", "id"] {
                    if let Some(v) = t.lookups[i].get(k) {
                        t.by_name
                            .entry(("cluster", v.to_string()))
                            .or_default()
                            .push(i);
                    }
                }
            }
            _ => {}
        }
    }
    let mut related = Vec::with_capacity(inputs.len());
    let mut copies: Vec<(usize, bool, RelatedCopy)> = Vec::new();
    for (i, inp) in inputs.iter().enumerate() {
        let (rel, copy_of) = related_of(inputs, i, inp, &metas[i], &t);
        if let Some((j, is_replica)) = copy_of {
            copies.push((j, is_replica, copy_of_input(inp)));
        }
        related.push(rel);
    }
    // Each replica or backup replication, listed on the instance it copies (DBP-DR-001 reads them there).
    for (j, is_replica, copy) in copies {
        let r: &mut Related = &mut related[j];
        if is_replica {
            r.replicas.push(copy);
        } else {
            r.backup_replications.push(copy);
        }
    }
    for (inp, rel) in inputs.iter_mut().zip(related) {
        finish_related(inp, rel);
    }
    role_templates(inputs, metas, &t);
}

/// A break-glass grant of a `dbplatform_role` created in the same plan: the provider could not read the role's
/// template at plan time (the role does not exist yet), but the plan has it, so DBP-ACC-002 decides in CI too.
fn role_templates(inputs: &mut [Input], metas: &[Meta], t: &Tables) {
    for i in 0..inputs.len() {
        let inp = &inputs[i];
        if inp.kind != Kind::BreakGlass || !inp.unknown.iter().any(|u| u == "role_template") {
            continue;
        }
        let RefLookup::Refs(refs) = config_ref(&metas[i], "role_id") else {
            continue;
        };
        let Some(j) = find_ref(inputs, &refs, inp, &["dbplatform_role"], t) else {
            continue;
        };
        let Some(template) = inputs[j].after.as_ref().and_then(|a| a.get_str("template")) else {
            continue;
        };
        let inp = &mut inputs[i];
        if let Some(after) = inp.after.as_ref() {
            let mut v = after.to_value();
            v["role_template"] = Value::String(template);
            inp.after = Some(crate::model::input::RawJson::from_value(&v));
            inp.unknown.retain(|u| u != "role_template");
        }
    }
}

fn group_of(inp: &Input, look: &Lookups) -> RelatedParameterGroup {
    let unknown = inp.unknown.iter().any(|u| u == "settings.parameters");
    let parameters = inp
        .settings
        .as_ref()
        .and_then(|s| s.parameters.clone())
        .unwrap_or_default();
    RelatedParameterGroup {
        address: Some(inp.address.clone()),
        name: look.get("name").map(str::to_string),
        parameters,
        known: !unknown,
    }
}

fn source_of(inp: &Input) -> RelatedSource {
    let encrypted_unknown = inp
        .unknown
        .iter()
        .any(|u| u == "settings.storage_encrypted");
    let s = inp.settings.as_ref().or(inp.settings_before.as_ref());
    RelatedSource {
        address: inp.address.clone(),
        storage_encrypted: if encrypted_unknown {
            None
        } else {
            s.and_then(|s| s.storage_encrypted)
        },
        kms_key_id: s.and_then(|s| s.kms_key_id.clone()).flatten(),
        region: s.and_then(|s| s.region.clone()).flatten(),
        tier: inp.tier.clone(),
        instance_class: if inp.unknown.iter().any(|u| u == "settings.instance_class") {
            None
        } else {
            s.and_then(|s| s.instance_class.clone()).flatten()
        },
    }
}

/// A replica or backup replication as the instance it copies sees it.
fn copy_of_input(inp: &Input) -> RelatedCopy {
    let s = inp.settings.as_ref();
    RelatedCopy {
        address: inp.address.clone(),
        region: s.and_then(|s| s.region.clone()).flatten(),
        kms_key_id: s.and_then(|s| s.kms_key_id.clone()).flatten(),
    }
}

/// Where a resource finds its source: the attribute naming it, the lookup class, the types it may be.
fn source_ref(inp: &Input) -> Option<(&'static str, &'static str, &'static [&'static str])> {
    match (inp.kind, inp.resource_type.as_str()) {
        (Kind::Replica, "dbplatform_replica") => Some((
            "source_database_id",
            "database",
            &["dbplatform_database"][..],
        )),
        (Kind::Replica, _) => Some(("replicate_source_db", "instance", &["aws_db_instance"][..])),
        (Kind::ClusterMember, _) => {
            Some(("cluster_identifier", "cluster", &["aws_rds_cluster"][..]))
        }
        // A break-glass grant is held to its database's tier (DBP-ACC-001).
        (Kind::BreakGlass, _) => Some(("database_id", "database", &["dbplatform_database"][..])),
        (_, "aws_db_instance_automated_backups_replication") => Some((
            "source_db_instance_arn",
            "instance",
            &["aws_db_instance"][..],
        )),
        _ => None,
    }
}

/// The related part of input `i`, and the index of the instance it copies (true: as a replica, false: as a
/// backup replication) when it is a copy.
fn related_of(
    inputs: &[Input],
    i: usize,
    inp: &Input,
    meta: &Meta,
    t: &Tables,
) -> (Related, Option<(usize, bool)>) {
    let mut rel = Related::default();
    if inp.action == Action::Delete {
        return (rel, None);
    }
    let class = match inp.kind {
        Kind::Cluster => Some(("cluster", &["aws_rds_cluster_parameter_group"][..])),
        Kind::Instance | Kind::Replica | Kind::ClusterMember => Some((
            "db",
            &["aws_db_parameter_group", "dbplatform_parameter_group"][..],
        )),
        _ => None,
    };
    if let Some((class, types)) = class {
        match wanted_parameter_group(inp) {
            None => {}
            Some(Some(name)) => match t
                .by_name
                .get(&(class, name.clone()))
                .and_then(|v| v.first())
            {
                Some(&j) => rel
                    .parameter_groups
                    .push(group_of(&inputs[j], &t.lookups[j])),
                None => rel.parameter_groups.push(unresolved_group(Some(name))),
            },
            Some(None) => {
                let attr = inp
                    .paths
                    .get("parameter_group_name")
                    .map(String::as_str)
                    .unwrap_or("parameter_group_name");
                match config_ref(meta, attr) {
                    RefLookup::NoExpression => {}
                    RefLookup::Refs(refs) => match find_ref(inputs, &refs, inp, types, t) {
                        Some(j) => rel
                            .parameter_groups
                            .push(group_of(&inputs[j], &t.lookups[j])),
                        None => rel.parameter_groups.push(unresolved_group(None)),
                    },
                    RefLookup::NoConfig => rel.parameter_groups.push(unresolved_group(None)),
                }
            }
        }
    }
    let mut copy_of = None;
    if let Some((attr, class, types)) = source_ref(inp) {
        let found = match t.lookups[i].get(attr) {
            Some(v) if !v.is_empty() => {
                // An ARN or identifier of an instance/cluster in this plan.
                t.by_name
                    .get(&(class, v.to_string()))
                    .and_then(|c| c.iter().copied().find(|&j| j != i))
            }
            _ => None,
        };
        let found = found.or_else(|| match config_ref(meta, attr) {
            RefLookup::Refs(refs) => find_ref(inputs, &refs, inp, types, t),
            _ => None,
        });
        if matches!(inp.kind, Kind::ClusterMember | Kind::BreakGlass) {
            rel.source = found.map(|j| source_of(&inputs[j]));
        } else if let Some(j) = found {
            copy_of = Some((j, inp.kind == Kind::Replica));
            if inp.kind == Kind::Replica {
                rel.source = Some(source_of(&inputs[j]));
            }
        }
    }
    (rel, copy_of)
}

enum RefLookup {
    NoConfig,
    NoExpression,
    Refs(Vec<String>),
}

fn config_ref(meta: &Meta, attr: &str) -> RefLookup {
    let Some(cfg) = &meta.config else {
        return RefLookup::NoConfig;
    };
    match cfg.get("expressions").and_then(|e| e.get(attr)) {
        None => RefLookup::NoExpression,
        Some(expr) => RefLookup::Refs(
            expr.get("references")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        ),
    }
}

/// The input a configuration reference (`aws_db_parameter_group.pg.name`, `aws_db_instance.db[0].arn`) points at,
/// in the same module instance as the referencing resource.
fn find_ref(
    inputs: &[Input],
    refs: &[String],
    inp: &Input,
    types: &[&str],
    t: &Tables,
) -> Option<usize> {
    for r in refs {
        let Some(steps) = address::steps(r) else {
            continue;
        };
        if steps.len() < 2 || !types.contains(&steps[0]) {
            continue;
        }
        let Some((name, index)) = address::split_index(steps[1]) else {
            continue;
        };
        let base = join(&inp.module, &format!("{}.{}", steps[0], name));
        let Some(cands) = t.by_base.get(&base) else {
            continue;
        };
        let pick = match &index {
            // `aws_db_instance.db[0]`: exactly that instance.
            Some(ix) => cands
                .iter()
                .copied()
                .find(|&j| inputs[j].index.as_ref() == Some(ix)),
            // `aws_db_parameter_group.pg` from a counted resource: usually `pg[count.index]`, so the same key.
            None if cands.len() > 1 => cands
                .iter()
                .copied()
                .find(|&j| inputs[j].index == inp.index)
                .or(cands.first().copied()),
            None => cands.first().copied(),
        };
        if pick.is_some() {
            return pick;
        }
    }
    None
}
