//! Tests of the provider configuration: schema, parsing and validation diagnostics, unknown values, overrides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use policy::model::TierCatalogue;

use super::parse::attr;
use super::*;
use crate::framework::planning::schema_problems;
use crate::framework::{Block, Diagnostics, Provider, Severity, Value};

fn env(dir: &Path) -> ConfigEnv {
    ConfigEnv {
        xdg_data_home: None,
        home: Some("/home/u".into()),
        cwd: dir.to_path_buf(),
        overrides: None,
        ..Default::default()
    }
}

/// A provider config value with every attribute present (null unless given).
fn cfg(top: &[(&str, Value)], blocks: &[(&str, &[(&str, Value)])]) -> Value {
    let block = provider_block();
    let mut v = Value::Object(BTreeMap::new());
    for a in &block.attributes {
        v.set(&a.name, Value::Null);
    }
    for b in &block.blocks {
        v.set(&b.type_name, Value::Null);
    }
    for (k, x) in top {
        v.set(k, x.clone());
    }
    for (name, attrs) in blocks {
        let nb = block.find_block(name).unwrap();
        let mut o = Value::Object(BTreeMap::new());
        for a in &nb.block.attributes {
            o.set(&a.name, Value::Null);
        }
        for (k, x) in attrs.iter() {
            o.set(k, x.clone());
        }
        v.set(name, o);
    }
    v
}

fn errors(d: &Diagnostics) -> Vec<(String, String)> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            (
                d.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                d.detail.clone(),
            )
        })
        .collect()
}

#[test]
fn schema_is_well_formed_and_fully_described() {
    let p = DbPlatformProvider::with_env(ConfigEnv::default());
    assert_eq!(p.type_name(), "dbplatform");
    assert!(
        schema_problems(&p.schema().block).is_empty(),
        "{:?}",
        schema_problems(&p.schema().block)
    );
    for b in &p.schema().block.blocks {
        assert!(!b.block.description.is_empty(), "{}", b.type_name);
    }
}

#[tokio::test]
async fn empty_configuration_uses_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let p = DbPlatformProvider::with_env(env(dir.path()));
    let d = p.configure(&cfg(&[], &[]), "1.0.3").await;
    assert!(d.is_empty(), "{d:?}");
    let c = p.state().config().await.unwrap();
    assert_eq!(c.backend, BackendKind::Local);
    assert_eq!(
        c.local.data_dir,
        PathBuf::from("/home/u/.local/share/dbplatform")
    );
    assert_eq!(c.aws.max_retries, DEFAULT_MAX_RETRIES);
    assert_eq!(c.tiers, TierCatalogue::embedded());
    assert_eq!(c.terraform_version, "1.0.3");
    assert!(c.unknown_settings.is_empty());
}

#[tokio::test]
async fn xdg_data_home_wins_over_home() {
    let e = ConfigEnv {
        xdg_data_home: Some("/xdg".into()),
        home: Some("/home/u".into()),
        cwd: "/".into(),
        overrides: None,
        ..Default::default()
    };
    assert_eq!(e.default_data_dir(), Some(PathBuf::from("/xdg/dbplatform")));
    let relative = ConfigEnv {
        xdg_data_home: Some("rel".into()),
        ..e
    };
    assert_eq!(
        relative.default_data_dir(),
        Some(PathBuf::from("/home/u/.local/share/dbplatform"))
    );
}

#[tokio::test]
async fn full_configuration_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("exceptions.yaml"), "[]").unwrap();
    let tiers = dir.path().join("tiers.toml");
    let custom =
        policy::model::tiers::EMBEDDED_TIERS_TOML.replace("[tiers.tier-3]", "[tiers.tier-gold]");
    std::fs::write(&tiers, custom).unwrap();
    let p = DbPlatformProvider::with_env(env(dir.path()));
    let mut tags = BTreeMap::new();
    tags.insert("owner".to_string(), Value::string("payments"));
    let config = cfg(
        &[
            ("backend", Value::string("aws")),
            ("default_tags", Value::Map(tags)),
        ],
        &[
            (
                "aws",
                &[
                    ("region", Value::string("eu-west-1")),
                    ("endpoint", Value::string("http://127.0.0.1:5000")),
                    ("max_retries", Value::int(5)),
                ],
            ),
            (
                "local",
                &[
                    ("data_dir", Value::string("data")),
                    ("final_backup_retention_count", Value::int(5)),
                ],
            ),
            (
                "policy",
                &[
                    ("directories", Value::List(vec![Value::string("rules")])),
                    ("exceptions_file", Value::string("exceptions.yaml")),
                    ("audit_log", Value::string("audit.jsonl")),
                    ("tiers_file", Value::string("tiers.toml")),
                ],
            ),
        ],
    );
    assert!(p.validate(&config).await.is_empty());
    let d = p.configure(&config, "1.0.3").await;
    assert!(d.is_empty(), "{d:?}");
    let c = p.state().config().await.unwrap();
    assert_eq!(c.backend, BackendKind::Aws);
    assert_eq!(c.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(c.aws.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
    assert_eq!(c.aws.max_retries, 5);
    assert_eq!(c.local.data_dir, dir.path().join("data"));
    assert_eq!(c.local.final_backups.keep, 5);
    assert_eq!(
        c.local.final_backups.max_age_days,
        crate::backend::local::DEFAULT_FINAL_BACKUP_MAX_AGE_DAYS
    );
    assert_eq!(c.policy.directories, vec![dir.path().join("rules")]);
    assert_eq!(
        c.policy.exceptions_file,
        Some(dir.path().join("exceptions.yaml"))
    );
    assert_eq!(c.policy.audit_log, Some(dir.path().join("audit.jsonl")));
    assert_eq!(c.default_tags["owner"], "payments");
    assert_eq!(
        c.tiers.names(),
        vec!["tier-0", "tier-1", "tier-2", "tier-gold"]
    );
    assert!(!c.policy.is_advisory());
}

#[tokio::test]
async fn invalid_settings_get_diagnostics_on_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "tiers = {}").unwrap();
    let p = DbPlatformProvider::with_env(env(dir.path()));
    let config = cfg(
        &[("backend", Value::string("gcp"))],
        &[
            (
                "aws",
                &[
                    ("max_retries", Value::int(21)),
                    ("endpoint", Value::string("localhost:5000")),
                ],
            ),
            (
                "local",
                &[
                    ("final_backup_retention_count", Value::int(0)),
                    ("final_backup_retention_days", Value::int(4000)),
                ],
            ),
            (
                "policy",
                &[
                    ("tiers_file", Value::string("bad.toml")),
                    ("enforcement_override", Value::string("off")),
                    ("exceptions_file", Value::string("missing.yaml")),
                    ("directories", Value::List(vec![Value::string("nope")])),
                    ("audit_log", Value::string("no/such/dir/audit.jsonl")),
                ],
            ),
        ],
    );
    for d in [
        p.validate(&config).await,
        p.configure(&config, "1.0.3").await,
    ] {
        let e = errors(&d);
        let find = |path: &str| {
            e.iter()
                .find(|(p, _)| p == path)
                .map(|(_, m)| m.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            find("backend"),
            "invalid backend \"gcp\"; valid values are \"aws\", \"local\"."
        );
        assert_eq!(
            find("aws.max_retries"),
            "aws.max_retries must be a whole number from 0 to 20, got 21."
        );
        assert_eq!(
            find("local.final_backup_retention_count"),
            "local.final_backup_retention_count must be a whole number from 1 to 1000, got 0."
        );
        assert_eq!(
            find("local.final_backup_retention_days"),
            "local.final_backup_retention_days must be a whole number from 1 to 3650, got 4000."
        );
        assert!(
            find("aws.endpoint").contains("not an http:// or https:// URL"),
            "{e:?}"
        );
        assert!(
            find("policy.tiers_file").contains("defines no tiers"),
            "{e:?}"
        );
        assert!(
            find("policy.enforcement_override").contains("the only valid value is \"advisory\"")
        );
        assert!(
            find("policy.exceptions_file").contains("missing.yaml does not exist"),
            "{e:?}"
        );
        assert!(
            find("policy.directories[0]").contains("is not a directory"),
            "{e:?}"
        );
        assert!(
            find("policy.audit_log").contains("does not exist; create it first"),
            "{e:?}"
        );
        assert_eq!(e.len(), 10, "{e:?}");
    }
    let err = p.state().config().await.unwrap_err();
    assert_eq!(err.summary, "provider not configured");
}

#[tokio::test]
async fn max_retries_must_be_whole() {
    let p = DbPlatformProvider::with_env(env(Path::new("/")));
    let config = cfg(
        &[],
        &[(
            "aws",
            &[(
                "max_retries",
                Value::Number(crate::framework::Number::parse("2.5").unwrap()),
            )],
        )],
    );
    let e = errors(&p.validate(&config).await);
    assert_eq!(
        e,
        vec![(
            "aws.max_retries".into(),
            "aws.max_retries must be a whole number from 0 to 20, got 2.5.".into()
        )]
    );
}

#[tokio::test]
async fn advisory_mode_warns_on_every_configure() {
    let p = DbPlatformProvider::with_env(env(Path::new("/")));
    let config = cfg(
        &[],
        &[(
            "policy",
            &[("enforcement_override", Value::string("advisory"))],
        )],
    );
    let d = p.configure(&config, "1.0.3").await;
    assert!(!d.has_errors());
    let w = d.iter().find(|d| d.severity == Severity::Warning).unwrap();
    assert_eq!(w.summary, "Policy enforcement is advisory");
    assert_eq!(w.attribute, Some(attr("policy", "enforcement_override")));
    assert!(p.state().config().await.unwrap().policy.is_advisory());
}

#[tokio::test]
async fn a_partly_unknown_default_tags_map_keeps_its_known_tags() {
    let p = DbPlatformProvider::with_env(env(Path::new("/")));
    let tags = BTreeMap::from([
        ("owner".to_string(), Value::string("payments")),
        ("cost_center".to_string(), Value::Unknown),
    ]);
    let config = cfg(&[("default_tags", Value::Map(tags))], &[]);
    let d = p.configure(&config, "1.0.3").await;
    assert!(d.is_empty(), "{d:?}");
    let c = p.state().config().await.unwrap();
    assert_eq!(
        c.default_tags.get("owner").map(String::as_str),
        Some("payments")
    );
    assert!(!c.default_tags.contains_key("cost_center"));
    assert!(c.unknown_settings.contains("default_tags.cost_center"));
    assert!(!c.unknown_settings.contains("default_tags"));
}

#[tokio::test]
async fn unknown_values_are_recorded_not_fatal() {
    let p = DbPlatformProvider::with_env(env(Path::new("/")));
    let config = cfg(
        &[("backend", Value::Unknown)],
        &[
            ("aws", &[("region", Value::Unknown)]),
            ("policy", &[("tiers_file", Value::Unknown)]),
        ],
    );
    assert!(p.validate(&config).await.is_empty());
    assert!(
        p.state().tiers_for_validation().await.is_none(),
        "unknown tiers file: cannot check tier names"
    );
    let d = p.configure(&config, "1.0.3").await;
    assert!(d.is_empty(), "{d:?}");
    let c = p.state().config().await.unwrap();
    assert_eq!(
        c.unknown_settings
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["aws.region", "backend", "policy.tiers_file"]
    );
    assert!(c.is_known("local.data_dir"));
    assert!(
        !c.is_known("aws"),
        "a block with an unknown setting is not wholly known"
    );
    let err = c.known_backend().unwrap_err();
    assert_eq!(err.summary, "Provider configuration not known at plan time");
    assert!(
        err.detail
            .starts_with("The dbplatform provider setting(s) backend depend on values"),
        "{}",
        err.detail
    );
    let err = c
        .require_known(&["aws"], "the AWS client needs its region")
        .unwrap_err();
    assert!(
        err.detail.contains("aws.region") && err.detail.contains("the AWS client needs its region")
    );
    assert!(c.require_known(&["local"], "x").is_ok());

    let err = p
        .state()
        .known_config(
            &["backend", "policy"],
            "dbplatform_database needs them to plan",
        )
        .await
        .unwrap_err();
    assert!(
        err.detail.contains("backend, policy.tiers_file"),
        "{}",
        err.detail
    );
    assert!(p.state().known_config(&["local"], "x").await.is_ok());

    // A wholly unknown configuration.
    assert!(p.configure(&Value::Unknown, "1.0.3").await.is_empty());
    let c = p.state().config().await.unwrap();
    assert_eq!(
        c.unknown_settings
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["aws", "backend", "default_tags", "local", "policy"]
    );

    // A wholly unknown block.
    let config = cfg(&[], &[]);
    let mut config = config;
    config.set("aws", Value::Unknown);
    p.configure(&config, "1.0.3").await;
    let c = p.state().config().await.unwrap();
    assert!(!c.is_known("aws.region"));
}

#[tokio::test]
async fn validation_remembers_the_catalogue_for_data_sources() {
    let dir = tempfile::tempdir().unwrap();
    let tiers = dir.path().join("t.toml");
    let custom =
        policy::model::tiers::EMBEDDED_TIERS_TOML.replace("[tiers.tier-3]", "[tiers.tier-gold]");
    std::fs::write(&tiers, custom).unwrap();
    let p = DbPlatformProvider::with_env(env(dir.path()));
    assert_eq!(
        p.state()
            .tiers_for_validation()
            .await
            .unwrap()
            .names()
            .len(),
        4,
        "embedded before validate"
    );
    let config = cfg(
        &[],
        &[("policy", &[("tiers_file", Value::string("t.toml"))])],
    );
    assert!(p.validate(&config).await.is_empty());
    let names = p
        .state()
        .tiers_for_validation()
        .await
        .unwrap()
        .names()
        .join(",");
    assert_eq!(names, "tier-0,tier-1,tier-2,tier-gold");
}

#[test]
fn env_overrides_parse_and_malformed_entries_are_named() {
    let o = parse_env_overrides(
        " DBP-DEL-002:alice@example.com:ticket OPS-1: window ; ;DBP-DEL-003:bob:x",
    )
    .unwrap();
    assert_eq!(o.len(), 2);
    assert_eq!(o[0].rule.rule_id, "DBP-DEL-002");
    assert_eq!(o[0].rule.by, "alice@example.com");
    assert_eq!(o[0].rule.reason, "ticket OPS-1: window");
    assert_eq!(o[0].origin, "DBPLATFORM_OVERRIDES entry 1");
    assert_eq!(o[1].origin, "DBPLATFORM_OVERRIDES entry 3");
    let e = parse_env_overrides("DBP-DEL-002:alice").unwrap_err();
    assert!(
        e.starts_with(
            "DBPLATFORM_OVERRIDES entry 1 \"DBP-DEL-002:alice\" is not RULE_ID:by:reason"
        ),
        "{e}"
    );
    assert!(parse_env_overrides("").unwrap().is_empty());
}

#[tokio::test]
async fn override_blocks_and_environment_are_read_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = env(dir.path());
    e.overrides = Some("DBP-DEL-003:ci-bot:planned replacement".into());
    let p = DbPlatformProvider::with_env(e);
    let mut config = cfg(
        &[],
        &[("policy", &[("audit_log", Value::string("a.jsonl"))])],
    );
    let item = |rule: &str, by: Value| {
        let mut o = Value::Object(BTreeMap::new());
        o.set("rule", Value::string(rule));
        o.set("reason", Value::string("migration"));
        o.set("by", by);
        o
    };
    let mut policy_block = config.get("policy").clone();
    policy_block.set(
        "override",
        Value::List(vec![item("DBP-DEL-002", Value::string("alice"))]),
    );
    config.set("policy", policy_block.clone());
    let d = p.configure(&config, "1.9.8").await;
    assert!(d.is_empty(), "{d:?}");
    let c = p.state().config().await.unwrap();
    let got: Vec<(&str, &str, &str)> = c
        .policy
        .overrides
        .iter()
        .map(|o| {
            (
                o.origin.as_str(),
                o.rule.rule_id.as_str(),
                o.rule.by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("policy.override[0]", "DBP-DEL-002", "alice"),
            ("DBPLATFORM_OVERRIDES entry 1", "DBP-DEL-003", "ci-bot")
        ]
    );

    // Bad entries are reported on their paths.
    policy_block.set(
        "override",
        Value::List(vec![
            item("DBP DEL", Value::string("alice")),
            item("DBP-DEL-002", Value::string(" ")),
        ]),
    );
    config.set("policy", policy_block);
    let mut e = env(dir.path());
    e.overrides = Some("nonsense".into());
    let p = DbPlatformProvider::with_env(e);
    let errs = errors(&p.validate(&config).await);
    assert!(
        errs.iter()
            .any(|(path, m)| path == "policy.override[0].rule" && m.contains("is not a rule id")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(path, m)| path == "policy.override[1].by" && m.contains("empty string")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(_, m)| m.starts_with("DBPLATFORM_OVERRIDES entry 1 \"nonsense\"")),
        "{errs:?}"
    );
}

/// docs/index.md documents every provider argument and nested block attribute.
#[test]
fn docs_cover_every_argument() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/index.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let block = provider_block();
    let mut names: Vec<&str> = block.attributes.iter().map(|a| a.name.as_str()).collect();
    fn nested<'a>(b: &'a Block, names: &mut Vec<&'a str>) {
        for nb in &b.blocks {
            names.push(&nb.type_name);
            names.extend(nb.block.attributes.iter().map(|a| a.name.as_str()));
            nested(&nb.block, names);
        }
    }
    nested(&block, &mut names);
    assert!(
        names.contains(&"override") && names.contains(&"by"),
        "{names:?}"
    );
    for env_var in [ENV_OVERRIDES, policy::audit::config::ENV_LOG] {
        assert!(
            doc.contains(&format!("- `{env_var}` ")),
            "{env_var} undocumented"
        );
    }
    for n in names {
        assert!(
            doc.contains(&format!("- `{n}` (")),
            "{n} undocumented in {}",
            path.display()
        );
    }
}

#[test]
fn data_source_list_holds_the_tier_data_source() {
    let p = DbPlatformProvider::with_env(ConfigEnv::default());
    let names: Vec<&str> = p.data_sources().iter().map(|d| d.type_name()).collect();
    assert!(names.contains(&"dbplatform_tier"), "{names:?}");
}

#[tokio::test]
async fn exceptions_file_is_checked_at_configure() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |id: &str, resource: &str| {
        format!(
            "- id: {id}\n  rule: DBP-DEL-001\n  resource: '{resource}'\n  owner: o\n  reason: r\n  ticket: T-1\n  \
             approved_by: a\n  created: 2026-12-01\n  expires: 2026-12-10\n"
        )
    };
    let configure = |text: String| {
        let path = dir.path().join("exceptions.yaml");
        std::fs::write(&path, text).unwrap();
        let config = cfg(
            &[],
            &[(
                "policy",
                &[("exceptions_file", Value::string("exceptions.yaml"))],
            )],
        );
        let p = DbPlatformProvider::with_env(env(dir.path()));
        async move { p.configure(&config, "1.0.3").await }
    };
    // A Terraform address can never match in the provider: a warning naming the exception and the form to use.
    let d = configure(format!(
        "{}{}",
        entry("EXC-1", "dbplatform_database.bad2"),
        entry("EXC-2", "dbplatform_database \"orders\"")
    ))
    .await;
    assert!(!d.has_errors(), "{d:?}");
    let warnings: Vec<_> = d
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(
        warnings[0].summary,
        "Exception EXC-1 can never apply in the provider"
    );
    assert_eq!(
        warnings[0].attribute,
        Some(attr("policy", "exceptions_file"))
    );
    assert!(
        warnings[0]
            .detail
            .contains("resource: 'dbplatform_database \"bad2\"'"),
        "{}",
        warnings[0].detail
    );
    // A misspelt field is an error naming the exception and the field.
    let d = configure(entry("EXC-3", "*").replace("ticket:", "tiket:")).await;
    let e = errors(&d);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, attr("policy", "exceptions_file").to_string());
    assert!(
        e[0].1.contains("exception EXC-3") && e[0].1.contains("unknown field `tiket`"),
        "{}",
        e[0].1
    );
}
