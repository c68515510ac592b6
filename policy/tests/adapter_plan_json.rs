//! The plan-JSON adapter on plan files in Terraform's own shapes (format 0.1, 0.2 from Terraform 1.0.3, 1.x).

use std::path::PathBuf;

use policy::adapter::{parse_plan, AdapterError};
use policy::model::{Action, Input, Kind};
use serde_json::json;

fn fixture(name: &str) -> (Vec<u8>, String) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans")
        .join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (bytes, name.to_string())
}

fn mixed() -> policy::adapter::PlanInputs {
    let (b, n) = fixture("mixed_0.2.json");
    parse_plan(&b, &n).unwrap()
}

fn get<'a>(inputs: &'a [Input], address: &str) -> &'a Input {
    inputs
        .iter()
        .find(|i| i.address == address)
        .unwrap_or_else(|| panic!("no input {address}"))
}

#[test]
fn walks_every_database_resource_and_counts_the_rest() {
    let p = mixed();
    assert_eq!(p.format_version, "0.2");
    assert_eq!(p.terraform_version.as_deref(), Some("1.0.3"));
    let addrs: Vec<&str> = p.inputs.iter().map(|i| i.address.as_str()).collect();
    assert_eq!(
        addrs,
        vec![
            "aws_db_parameter_group.pg",
            "aws_db_instance.orders",
            "aws_db_parameter_group.shop",
            "aws_db_instance.shop",
            "aws_db_instance.replica",
            "module.data[\"eu\"].aws_db_instance.billing",
            "aws_db_instance.legacy[0]",
            "aws_db_instance.reports",
            "aws_rds_cluster_parameter_group.main",
            "aws_rds_cluster.main",
            "aws_rds_cluster_instance.main[0]",
            "aws_rds_cluster_instance.main[1]",
            "aws_db_subnet_group.data",
        ]
    );
    assert_eq!(p.skipped.get("aws_s3_bucket"), Some(&1));
    assert_eq!(p.raw["format_version"], "0.2");
    let loc = &p.locations["module.data[\"eu\"].aws_db_instance.billing"];
    assert_eq!(
        (
            loc.module.as_str(),
            loc.resource_type.as_str(),
            loc.name.as_str()
        ),
        ("module.data", "aws_db_instance", "billing")
    );
}

#[test]
fn actions_kinds_and_identity() {
    let p = mixed();
    let i = &p.inputs;
    assert_eq!(get(i, "aws_db_instance.orders").action, Action::Create);
    assert_eq!(
        get(i, "module.data[\"eu\"].aws_db_instance.billing").action,
        Action::Update
    );
    assert_eq!(get(i, "aws_db_instance.legacy[0]").action, Action::Delete);
    assert_eq!(get(i, "aws_db_instance.reports").action, Action::Replace);
    assert_eq!(get(i, "aws_db_subnet_group.data").action, Action::NoOp);
    assert_eq!(get(i, "aws_db_instance.replica").kind, Kind::Replica);
    assert_eq!(get(i, "aws_rds_cluster.main").kind, Kind::Cluster);
    assert_eq!(
        get(i, "aws_rds_cluster_instance.main[1]").kind,
        Kind::ClusterMember
    );
    assert_eq!(
        get(i, "aws_rds_cluster_parameter_group.main").kind,
        Kind::ClusterParameterGroup
    );
    let legacy = get(i, "aws_db_instance.legacy[0]");
    assert_eq!(
        (
            legacy.index.clone(),
            legacy.module.as_str(),
            legacy.name.as_str()
        ),
        (Some(json!(0)), "", "legacy")
    );
    assert!(legacy.settings.is_none() && legacy.after.is_none());
    assert_eq!(
        legacy.settings_before.as_ref().unwrap().storage_encrypted,
        Some(false)
    );
    assert_eq!(legacy.tier.as_deref(), Some("tier-0"));
    assert_eq!(legacy.engine_major.as_deref(), Some("11"));
    let billing = get(i, "module.data[\"eu\"].aws_db_instance.billing");
    assert_eq!(billing.module, "module.data[\"eu\"]");
    assert_eq!(
        billing
            .settings_before
            .as_ref()
            .unwrap()
            .backup_retention_days,
        Some(7)
    );
    assert_eq!(
        billing.settings.as_ref().unwrap().backup_retention_days,
        Some(35)
    );
}

#[test]
fn normalizes_settings_and_paths() {
    let p = mixed();
    let o = get(&p.inputs, "aws_db_instance.orders");
    let s = serde_json::to_value(o.settings.as_ref().unwrap()).unwrap();
    assert_eq!(s["storage_encrypted"], true);
    assert_eq!(s["backup_retention_days"], 14);
    assert_eq!(s["log_exports"], json!(["postgresql", "upgrade"]));
    assert_eq!(s["monitoring_interval_seconds"], 15);
    assert_eq!(s["managed_master_password"], true);
    assert_eq!(s["plaintext_password_set"], false);
    assert_eq!(s["master_username"], "orders_admin");
    assert_eq!(o.paths["backup_retention_days"], "backup_retention_period");
    assert_eq!(
        o.paths["iam_database_authentication"],
        "iam_database_authentication_enabled"
    );
    assert_eq!(o.paths["tier"], "tags.tier");
    assert_eq!(
        (o.engine.as_deref(), o.engine_major.as_deref()),
        (Some("postgres"), Some("16"))
    );
    assert_eq!(o.backend, "aws");
    assert_eq!(o.context.source, "plan");
    assert_eq!(o.schema, "dbplatform.input/v1");
    // A setting the resource type does not have is absent, not null.
    let pg = get(&p.inputs, "aws_db_parameter_group.pg");
    let pgs = serde_json::to_value(pg.settings.as_ref().unwrap()).unwrap();
    assert!(pgs.get("storage_encrypted").is_none(), "{pgs}");
    assert_eq!(pgs["parameters"]["rds.force_ssl"], "1");
    assert_eq!(
        (pg.engine.as_deref(), pg.engine_major.as_deref()),
        (Some("postgres"), Some("16"))
    );
}

#[test]
fn unknowns_become_normalized_paths_and_stay_out_of_after() {
    let p = mixed();
    let shop = get(&p.inputs, "aws_db_instance.shop");
    for u in [
        "settings.kms_key_id",
        "settings.multi_az",
        "settings.parameter_group_name",
        "settings.performance_insights_kms_key_id",
    ] {
        assert!(
            shop.unknown.iter().any(|x| x == u),
            "{u} not in {:?}",
            shop.unknown
        );
    }
    let s = serde_json::to_value(shop.settings.as_ref().unwrap()).unwrap();
    assert!(
        s.get("kms_key_id").is_none() && s.get("multi_az").is_none(),
        "{s}"
    );
    assert!(shop.after.as_ref().unwrap().get("endpoint").is_none());
    // A tag value unknown at plan time: tags_all is unknown, so tags come from default_tags + tags.
    let billing = get(&p.inputs, "module.data[\"eu\"].aws_db_instance.billing");
    assert!(
        billing.unknown.contains(&"tags.owner".to_string()),
        "{:?}",
        billing.unknown
    );
    assert_eq!(billing.tags.get("owner"), None);
    assert_eq!(
        billing.tags.get("cost_center").map(String::as_str),
        Some("cc-42")
    );
    assert_eq!(billing.tier.as_deref(), Some("tier-1"));
}

#[test]
fn sensitive_values_are_redacted_but_still_counted() {
    let p = mixed();
    let shop = get(&p.inputs, "aws_db_instance.shop");
    assert_eq!(shop.sensitive, vec!["password".to_string()]);
    assert_eq!(
        shop.after.as_ref().unwrap().to_value()["password"],
        serde_json::Value::Null
    );
    assert_eq!(
        shop.settings.as_ref().unwrap().plaintext_password_set,
        Some(true)
    );
    let text = serde_json::to_string(&p.inputs).unwrap();
    assert!(
        !text.contains("hunter2-plaintext") && !text.contains("old-secret"),
        "a sensitive value leaked"
    );
    let billing = get(&p.inputs, "module.data[\"eu\"].aws_db_instance.billing");
    assert_eq!(
        billing.before.as_ref().unwrap().to_value()["password"],
        serde_json::Value::Null
    );
}

#[test]
fn tags_merge_tags_all_or_default_tags() {
    let p = mixed();
    let o = get(&p.inputs, "aws_db_instance.orders");
    assert_eq!(o.tags.get("owner").map(String::as_str), Some("payments"));
    assert_eq!(
        o.tags.get("data_classification").map(String::as_str),
        Some("confidential")
    );
    assert_eq!(o.tier.as_deref(), Some("tier-1"));
}

#[test]
fn parameter_groups_resolve_by_name_or_reference() {
    let p = mixed();
    let o = get(&p.inputs, "aws_db_instance.orders");
    assert_eq!(o.related.parameter_groups.len(), 1);
    let g = &o.related.parameter_groups[0];
    assert_eq!(g.address.as_deref(), Some("aws_db_parameter_group.pg"));
    assert!(g.known);
    assert_eq!(
        g.parameters.get("rds.force_ssl").map(String::as_str),
        Some("1")
    );
    // Name unknown until apply (name_prefix): found through configuration references.
    let shop = get(&p.inputs, "aws_db_instance.shop");
    assert_eq!(
        shop.related.parameter_groups[0].address.as_deref(),
        Some("aws_db_parameter_group.shop")
    );
    assert_eq!(
        shop.related.parameter_groups[0].parameters["require_secure_transport"],
        "OFF"
    );
    assert!(!shop
        .unknown
        .contains(&"related.parameter_groups".to_string()));
    // In a module instance, by name, a group of the root module.
    let billing = get(&p.inputs, "module.data[\"eu\"].aws_db_instance.billing");
    assert_eq!(
        billing.related.parameter_groups[0].address.as_deref(),
        Some("aws_db_parameter_group.pg")
    );
    // Cluster -> cluster parameter group through a reference.
    let c = get(&p.inputs, "aws_rds_cluster.main");
    assert_eq!(
        c.related.parameter_groups[0].address.as_deref(),
        Some("aws_rds_cluster_parameter_group.main")
    );
    assert_eq!(c.settings.as_ref().unwrap().multi_az, Some(true));
}

#[test]
fn replicas_and_members_point_at_their_source() {
    let p = mixed();
    let r = get(&p.inputs, "aws_db_instance.replica");
    let src = r.related.source.as_ref().unwrap();
    assert_eq!(src.address, "aws_db_instance.orders");
    assert_eq!(src.storage_encrypted, Some(true));
    assert!(r
        .unknown
        .contains(&"settings.storage_encrypted".to_string()));
    let m = get(&p.inputs, "aws_rds_cluster_instance.main[0]");
    let src = m.related.source.as_ref().unwrap();
    assert_eq!(
        (src.address.as_str(), src.storage_encrypted),
        ("aws_rds_cluster.main", Some(true))
    );
}

#[test]
fn other_format_versions_are_read() {
    for f in ["format_0.1.json", "format_1.2.json"] {
        let (b, n) = fixture(f);
        let p = parse_plan(&b, &n).unwrap();
        assert_eq!(p.inputs.len(), 1, "{f}");
        let i = &p.inputs[0];
        assert_eq!(i.tier.as_deref(), Some("tier-3"), "{f}");
        assert!(i.sensitive.is_empty());
    }
    // A real Terraform 1.0.3 plan with no resource changes.
    let (b, n) = fixture("no_changes_1.0.3.json");
    let p = parse_plan(&b, &n).unwrap();
    assert!(p.inputs.is_empty() && p.skipped.is_empty());
}

fn err(bytes: &[u8]) -> String {
    let e: AdapterError = parse_plan(bytes, "plan.json").unwrap_err();
    let s = e.to_string();
    assert!(!s.contains('\n'), "error is more than one line: {s}");
    assert!(
        s.starts_with("plan.json: "),
        "error does not name the file: {s}"
    );
    s
}

#[test]
fn bad_files_get_one_line_errors_naming_the_problem() {
    assert!(err(b"").contains("the file is empty"));
    assert!(err(b"  \n").contains("the file is empty"));
    let e = err(b"{\"format_version\": \"0.2\",\n  \"resource_changes\": [}");
    assert!(e.contains("not JSON") && e.contains("line 2 column"), "{e}");
    let e = err(b"{\"format_version\": \"0.2\", \"resource_changes\": [");
    assert!(e.contains("truncated") && e.contains("line 1"), "{e}");
    let e = err(br#"{"format_version": "1.0", "values": {}}"#);
    assert!(
        e.contains("not a Terraform plan") && e.contains("state file"),
        "{e}"
    );
    let e = err(br#"[1, 2]"#);
    assert!(e.contains("not a Terraform plan"), "{e}");
    let e = err(br#"{"format_version": "2.0", "resource_changes": []}"#);
    assert!(e.contains("format_version \"2.0\" is not supported"), "{e}");
    let e = err(br#"{"format_version": "0.2", "resource_changes": {}}"#);
    assert!(e.contains("resource_changes: must be a list"), "{e}");
    let e = err(br#"{"format_version": "0.2", "resource_changes": [{"address": "aws_db_instance.x", "type": "aws_db_instance", "name": "x", "change": {"actions": ["create"], "after": {"multi_az": "yes"}}}]}"#);
    assert!(
        e.contains("resource_changes[0] (aws_db_instance.x): attribute multi_az must be a boolean"),
        "{e}"
    );
    let e = err(br#"{"format_version": "0.2", "resource_changes": [{"address": "aws_db_instance.x", "type": "aws_db_instance", "name": "x", "change": {"actions": ["explode"]}}]}"#);
    assert!(e.contains("not an action Terraform plans"), "{e}");
    let e = err(br#"{"format_version": "0.2", "resource_changes": [{"address": "aws_db_instance.x", "type": "aws_db_instance", "name": "x", "change": {"actions": ["create"], "after": "oops"}}]}"#);
    assert!(e.contains("resource_changes[0] (aws_db_instance.x): change.after must be an object or null, got a string"), "{e}");
    // Types no rule reads are checked too: a corrupt plan never passes.
    let e = err(br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "change": {"actions": ["create"], "before": null, "after": "oops"}}]}"#);
    assert!(e.contains("resource_changes[0] (aws_s3_bucket.b): change.after must be an object or null, got a string"), "{e}");
    let e = err(br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "change": {"actions": ["explode"], "before": null, "after": {}}}]}"#);
    assert!(e.contains("resource_changes[0] (aws_s3_bucket.b): change.actions [\"explode\"] is not an action Terraform plans"), "{e}");
    let e = err(br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "change": {"actions": ["create"], "before": 3, "after": {}}}]}"#);
    assert!(
        e.contains("(aws_s3_bucket.b): change.before must be an object or null, got a number"),
        "{e}"
    );
    let e = err(br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "change": {"actions": ["create"], "before": null, "after": {}, "after_unknown": "x"}}]}"#);
    assert!(
        e.contains(
            "(aws_s3_bucket.b): change.after_unknown must be an object or a boolean, got a string"
        ),
        "{e}"
    );
    let e = err(br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.b", "mode": "resource", "type": "aws_s3_bucket", "name": "b", "change": {"actions": ["create"], "before": null, "after": {}}}]}"#);
    assert!(
        e.contains("(aws_s3_bucket.b): mode \"resource\" is not a mode Terraform plans"),
        "{e}"
    );
    let e = err(br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "change": {"actions": ["create", "update"], "before": null, "after": {}}}]}"#);
    assert!(e.contains("is not an action Terraform plans"), "{e}");
    // Every action list Terraform writes is read, `forget` (1.7+) included.
    for actions in [
        r#"["no-op"]"#,
        r#"["read"]"#,
        r#"["forget"]"#,
        r#"["create","delete"]"#,
        r#"["delete","create"]"#,
        r#"["create","forget"]"#,
    ] {
        for rtype in ["aws_s3_bucket", "aws_db_instance"] {
            let plan = format!(
                r#"{{"format_version": "1.2", "resource_changes": [{{"address": "{rtype}.b", "mode": "managed", "type": "{rtype}", "name": "b", "change": {{"actions": {actions}, "before": {{}}, "after": {{}}, "after_unknown": {{}}}}}}]}}"#
            );
            parse_plan(plan.as_bytes(), "plan.json")
                .unwrap_or_else(|e| panic!("{actions} {rtype}: {e}"));
        }
    }
}

/// Names unknown until apply: references resolve inside the referencing module instance, and a counted group
/// referenced from a counted instance (`pg[count.index]`) resolves to the same index.
#[test]
fn references_resolve_within_the_module_instance_and_index() {
    let pg = |module: &str, index: u64, force: &str| {
        json!({"address": format!("{module}.aws_db_parameter_group.pg[{index}]"), "module_address": module, "mode": "managed",
               "type": "aws_db_parameter_group", "name": "pg", "index": index, "provider_name": "registry.terraform.io/hashicorp/aws",
               "change": {"actions": ["create"], "before": null,
                          "after": {"family": "postgres16", "name_prefix": "pg-", "parameter": [{"name": "rds.force_ssl", "value": force, "apply_method": "immediate"}]},
                          "after_unknown": {"name": true, "id": true, "arn": true}}})
    };
    let db = |module: &str, index: u64| {
        json!({"address": format!("{module}.aws_db_instance.db[{index}]"), "module_address": module, "mode": "managed",
               "type": "aws_db_instance", "name": "db", "index": index, "provider_name": "registry.terraform.io/hashicorp/aws",
               "change": {"actions": ["create"], "before": null,
                          "after": {"engine": "postgres", "engine_version": "16.3", "tags": {"tier": "tier-2"}},
                          "after_unknown": {"parameter_group_name": true, "id": true}}})
    };
    let a = r#"module.app["a"]"#;
    let b = r#"module.app["b"]"#;
    let plan = json!({
        "format_version": "0.2", "terraform_version": "1.0.3", "planned_values": {},
        "resource_changes": [pg(a, 0, "1"), pg(a, 1, "0"), pg(b, 0, "0"), pg(b, 1, "0"), db(a, 0), db(a, 1), db(b, 1)],
        "configuration": {"root_module": {"module_calls": {"app": {"source": "./app", "module": {"resources": [
            {"address": "aws_db_parameter_group.pg", "mode": "managed", "type": "aws_db_parameter_group", "name": "pg", "expressions": {}},
            {"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db",
             "expressions": {"parameter_group_name": {"references": ["aws_db_parameter_group.pg", "count.index"]}}}
        ]}}}}}
    });
    let p = parse_plan(&serde_json::to_vec(&plan).unwrap(), "plan.json").unwrap();
    let group_of = |addr: &str| {
        get(&p.inputs, addr).related.parameter_groups[0]
            .address
            .clone()
            .unwrap()
    };
    assert_eq!(
        group_of(r#"module.app["a"].aws_db_instance.db[0]"#),
        r#"module.app["a"].aws_db_parameter_group.pg[0]"#
    );
    assert_eq!(
        group_of(r#"module.app["a"].aws_db_instance.db[1]"#),
        r#"module.app["a"].aws_db_parameter_group.pg[1]"#
    );
    assert_eq!(
        group_of(r#"module.app["b"].aws_db_instance.db[1]"#),
        r#"module.app["b"].aws_db_parameter_group.pg[1]"#
    );
    let g = &get(&p.inputs, r#"module.app["a"].aws_db_instance.db[0]"#)
        .related
        .parameter_groups[0];
    assert_eq!(g.parameters["rds.force_ssl"], "1");
    assert!(
        g.known && g.name.is_none(),
        "the group's name is unknown until apply"
    );
}

/// The ranges handed back cover the whole file, each byte at most once, and the inputs are the same as without
/// hand-backs (`cli_large_plan` checks that a mapped plan whose pages are given back reads the same).
#[test]
fn released_ranges_cover_the_file_and_inputs_do_not_change() {
    use policy::adapter::{parse_plan_releasing, parse_plan_with, ParseOptions};
    let text = serde_json::to_vec(&bench::generate(300, 3)).unwrap();
    let ranges = std::sync::Mutex::new(Vec::new());
    let done = |r: std::ops::Range<usize>| ranges.lock().unwrap().push(r);
    let released = parse_plan_releasing(&text, "gen.json", ParseOptions::default(), &done).unwrap();
    let plain = parse_plan_with(&text, "gen.json", ParseOptions::default()).unwrap();
    assert_eq!(released.inputs, plain.inputs);
    assert_eq!(released.resources, plain.inputs.len());
    let mut ranges = ranges.into_inner().unwrap();
    ranges.sort_by_key(|r| r.start);
    let mut covered = 0;
    for r in &ranges {
        assert!(
            r.start <= r.end && r.end <= text.len(),
            "{r:?} out of 0..{}",
            text.len()
        );
        assert!(
            r.start >= covered,
            "{r:?} overlaps an earlier range ending at {covered}"
        );
        // Only the separators between changes are left out of the ranges.
        assert!(
            text[covered..r.start]
                .iter()
                .all(|b| b.is_ascii_whitespace() || *b == b','),
            "bytes {covered}..{} never released",
            r.start
        );
        covered = r.end;
    }
    assert_eq!(covered, text.len());
    assert!(
        ranges.len() > 4,
        "changes are released in runs: {}",
        ranges.len()
    );
}

/// Counting only: every input is still built (so a bad one is still an error), none is kept.
#[test]
fn counting_only_keeps_no_input_but_checks_them_all() {
    use policy::adapter::{parse_plan_with, ParseOptions};
    let count_only = ParseOptions {
        keep_inputs: false,
        ..ParseOptions::default()
    };
    let (b, n) = fixture("mixed_0.2.json");
    let counted = parse_plan_with(&b, &n, count_only).unwrap();
    assert!(counted.inputs.is_empty());
    assert_eq!(counted.resources, mixed().inputs.len());
    assert_eq!(counted.skipped, mixed().skipped);

    let mut plan: serde_json::Value = serde_json::from_slice(&b).unwrap();
    plan["resource_changes"][1]["change"]["after"] = json!(7);
    let bad = serde_json::to_vec(&plan).unwrap();
    let full = parse_plan_with(&bad, &n, ParseOptions::default()).unwrap_err();
    let counted = parse_plan_with(&bad, &n, count_only).unwrap_err();
    assert_eq!(full.to_string(), counted.to_string());
    assert!(full.to_string().contains("change.after"), "{full}");
}
