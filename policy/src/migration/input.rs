//! A migration as a rule input: an [`Input`] of kind `migration` whose address is the file, with the
//! migration document in `input.migration`, so migrations go through the same engine, gate, exceptions
//! (matched on the file glob), reports and audit log as planned resources.

use std::collections::BTreeMap;

use crate::model::input::{Action, Input, Kind, PlanContext, Related, INPUT_SCHEMA};

use super::model::Migration;

/// The resource type of migration inputs (`input.type`).
pub const MIGRATION_TYPE: &str = "sql_migration";

/// The input the `DBP-MIG-*` rules see for one migration.
pub fn to_input(m: Migration) -> Input {
    let name = std::path::Path::new(&m.file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| m.file.clone());
    let mut tags = BTreeMap::new();
    if let Some(db) = &m.database {
        tags.insert("database".to_string(), db.clone());
    }
    Input {
        schema: INPUT_SCHEMA.to_string(),
        address: m.file.clone(),
        module: String::new(),
        resource_type: MIGRATION_TYPE.into(),
        name,
        index: None,
        kind: Kind::Migration,
        // A migration changes a database that exists.
        action: Action::Update,
        backend: "sql".into(),
        engine: Some("postgres".into()),
        engine_major: None,
        tier: m.tier.clone(),
        tier_assumed: false,
        tags,
        settings: None,
        settings_before: None,
        before: None,
        after: None,
        unknown: vec![],
        sensitive: vec![],
        paths: Default::default(),
        related: Related::default(),
        context: PlanContext {
            source: if m.dry_run {
                "migration-dry-run"
            } else {
                "migration"
            }
            .into(),
            terraform_version: None,
            format_version: None,
        },
        migration: Some(Box::new(m)),
    }
}
