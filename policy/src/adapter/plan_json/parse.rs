//! The entry points: plan text -> [`PlanInputs`], step by step (sections, resource changes, related resources).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::config::ConfigIndex;
use super::error::AdapterError;
use super::options::{span_in, DoneWith, ParseOptions};
use super::plan_inputs::PlanInputs;
use super::related::resolve_related;
use super::resource_change::{Built, BuiltInput};
use super::sections::{read_sections, Sections};
use super::workers::build_changes;
use crate::model::PlanContext;

/// Parses a plan JSON file; `origin` names it in errors. Keeps the whole plan in [`PlanInputs::raw`].
pub fn parse_plan(bytes: &[u8], origin: &str) -> Result<PlanInputs, AdapterError> {
    parse_plan_with(
        bytes,
        origin,
        ParseOptions {
            keep_raw: true,
            ..ParseOptions::default()
        },
    )
}

/// Parses a plan JSON file; `origin` names it in errors.
///
/// Only the sections the adapter reads are turned into JSON trees, one resource change at a time (the rest,
/// `planned_values`, `prior_state`..., is only checked to be JSON), so memory stays near the file size.
pub fn parse_plan_with(
    bytes: &[u8],
    origin: &str,
    opts: ParseOptions,
) -> Result<PlanInputs, AdapterError> {
    parse_plan_releasing(bytes, origin, opts, &|_| {})
}

/// Like [`parse_plan_with`], telling `done` which bytes it will not read again: all but the resource changes
/// once the plan's top level is read, then each run of resource changes once its inputs are built.
pub fn parse_plan_releasing(
    bytes: &[u8],
    origin: &str,
    opts: ParseOptions,
    done: DoneWith<'_>,
) -> Result<PlanInputs, AdapterError> {
    let sections = read_sections(bytes, origin, opts)?;
    match sections.changes.first().zip(sections.changes.last()) {
        Some((first, last)) => {
            done(0..span_in(bytes, first.get()).start);
            done(span_in(bytes, last.get()).end..bytes.len());
        }
        None => done(0..bytes.len()),
    }
    build_plan(sections, origin, opts, bytes, done)
}

/// Builds the inputs from the sections (each resource change parsed on its own, its tree dropped once built).
fn build_plan(
    sections: Sections<'_>,
    origin: &str,
    opts: ParseOptions,
    bytes: &[u8],
    done: DoneWith<'_>,
) -> Result<PlanInputs, AdapterError> {
    let file = origin.to_string();
    let Sections {
        format_version,
        terraform_version,
        changes,
        configuration,
        raw,
    } = sections;
    let config = ConfigIndex::new(configuration.as_ref());
    let context = PlanContext {
        source: "plan".into(),
        terraform_version: terraform_version.clone(),
        format_version: Some(format_version.clone()),
    };

    let built = build_changes(&changes, &config, &context, &file, opts, bytes, done)?;
    drop(changes);
    let mut inputs = Vec::with_capacity(built.len());
    let mut metas = Vec::with_capacity(built.len());
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut locations = BTreeMap::new();
    let mut resources = 0;
    for b in built {
        match b {
            Built::Skipped(name) => *skipped.entry(name).or_default() += 1,
            Built::Counted => resources += 1,
            Built::Input(b) => {
                resources += 1;
                let BuiltInput {
                    input,
                    location,
                    meta,
                } = *b;
                locations.insert(input.address.clone(), location);
                metas.push(meta);
                inputs.push(input);
            }
        }
    }
    resolve_related(&mut inputs, &mut metas);
    drop(config);
    let raw = raw.unwrap_or_else(|| {
        let mut m = Map::new();
        if let Some(c) = configuration {
            m.insert("configuration".into(), c);
        }
        Value::Object(m)
    });
    Ok(PlanInputs {
        inputs,
        resources,
        skipped,
        raw,
        terraform_version,
        format_version,
        locations,
    })
}
