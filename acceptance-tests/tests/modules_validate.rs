//! The golden-path Terraform modules (`modules/postgres-database`, `modules/mysql-database`) and the
//! `examples/aws-tier1` configuration through the real Terraform CLI, without creating anything:
//! `terraform validate` and `terraform fmt -check` of each, READMEs that list every input and output, a bad value
//! for each validated input failing with the module's message, and the example's plan showing what tier-1 gives.
//!
//! Nothing here starts a database or an emulator: planning a new database on the aws backend makes no AWS call.

use std::path::{Path, PathBuf};

use acceptance_tests::{repo_root, ExpectPlan, Plan, Step, TestCase, Workdir};
use serde_json::Value;

const POSTGRES: &str = "modules/postgres-database";
const MYSQL: &str = "modules/mysql-database";
const EXAMPLE: &str = "examples/aws-tier1";

/// The `.tf` files of a repository directory (not recursive: modules and examples are flat).
fn tf_files(rel: &str) -> Vec<PathBuf> {
    let dir = repo_root().join(rel);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no .tf files", dir.display());
    files
}

/// Copies the `.tf` files of repository directory `rel` to the same relative path inside the working directory,
/// so relative module sources (`../../modules/...`) resolve as they do in the repository.
fn copy_into(wd: &Workdir, rel: &str) {
    for f in tf_files(rel) {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        wd.write_file(&format!("{rel}/{name}"), &text)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// `terraform -chdir=REL ARGS` in `wd`, which must exit 0; returns stdout.
fn tf_ok(wd: &Workdir, rel: &str, args: &[&str]) -> String {
    let chdir = format!("-chdir={rel}");
    let mut all = vec![chdir.as_str()];
    all.extend_from_slice(args);
    match wd.run_ok(&all) {
        Ok(out) => out.stdout,
        Err(e) => panic!("{e}"),
    }
}

/// Validates a module or example the way its user would: `init` then `validate`, and `fmt -check`.
fn validate_dir(rel: &str) {
    let wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    copy_into(&wd, POSTGRES);
    copy_into(&wd, MYSQL);
    if rel != POSTGRES && rel != MYSQL {
        copy_into(&wd, rel);
    }
    tf_ok(
        &wd,
        rel,
        &["init", "-input=false", "-no-color", "-backend=false"],
    );
    let out = tf_ok(&wd, rel, &["validate", "-no-color"]);
    assert!(
        out.contains("Success! The configuration is valid."),
        "{rel}: {out}"
    );
    let fmt = tf_ok(&wd, rel, &["fmt", "-check", "-diff", "-no-color"]);
    assert!(
        fmt.trim().is_empty(),
        "{rel} is not `terraform fmt`ed:\n{fmt}"
    );
}

#[test]
fn postgres_module_validates() {
    validate_dir(POSTGRES);
}

#[test]
fn mysql_module_validates() {
    validate_dir(MYSQL);
}

#[test]
fn aws_tier1_example_validates() {
    validate_dir(EXAMPLE);
}

/// Names declared as `KIND "name" {` in the directory's `.tf` files.
fn declared(rel: &str, kind: &str) -> Vec<String> {
    let re = regex::Regex::new(&format!(r#"(?m)^{kind} "([A-Za-z0-9_-]+)""#))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut names: Vec<String> = tf_files(rel)
        .iter()
        .flat_map(|f| {
            let text =
                std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            re.captures_iter(&text)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names
}

/// Every input and output of a module has a row in its README's tables, and no row names one that is gone.
fn readme_matches(rel: &str) {
    let path = repo_root().join(rel).join("README.md");
    let readme =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let row = regex::Regex::new(r"(?m)^\| `([A-Za-z0-9_]+)` \|").unwrap_or_else(|e| panic!("{e}"));
    let section = |title: &str| -> Vec<String> {
        let start = readme
            .find(title)
            .unwrap_or_else(|| panic!("{} has no {title} section", path.display()));
        let rest = &readme[start + title.len()..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        let mut names: Vec<String> = row
            .captures_iter(&rest[..end])
            .map(|c| c[1].to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        section("## Inputs"),
        declared(rel, "variable"),
        "{}: the Inputs table must list exactly the module's variables",
        path.display()
    );
    assert_eq!(
        section("## Outputs"),
        declared(rel, "output"),
        "{}: the Outputs table must list exactly the module's outputs",
        path.display()
    );
}

#[test]
fn module_readmes_list_every_input_and_output() {
    readme_matches(POSTGRES);
    readme_matches(MYSQL);
}

fn module_config(source: &str, body: &str) -> String {
    let source = repo_root().join(source);
    format!(
        r#"
provider "dbplatform" {{
  backend = "local"
}}

module "db" {{
  source = "{}"
{body}
}}
"#,
        source.display()
    )
}

const GOOD: &str = r#"
  name                = "orders"
  tier                = "tier-3"
  owner               = "orders-team"
  cost_center         = "cc-4711"
  data_classification = "internal"
"#;

/// `GOOD` with one line replaced (or, when `key` is absent from it, added).
fn with(key: &str, line: &str) -> String {
    let mut kept: Vec<String> = GOOD
        .lines()
        .filter(|l| l.split('=').next().map(str::trim) != Some(key))
        .map(str::to_string)
        .collect();
    kept.push(format!("  {line}"));
    kept.join("\n")
}

/// A validate step whose error must carry the module's message for the input on the offending line.
fn refused(source: &str, key: &str, line: &str, message: &str) -> Step {
    Step::validate(module_config(source, &with(key, line))).expect(ExpectPlan::error(format!(
        // Terraform 1.11 shows the variable's value between the line and the message (`├── var.x is "..."`).
        r#"Error: Invalid value for variable on main\.tf line \d+, in module "db": \d+: {}(?: ├─+ .*?)? {}"#,
        regex::escape(line),
        regex::escape(message)
    )))
}

#[test]
fn postgres_module_refuses_bad_inputs_with_clear_messages() {
    TestCase::new()
        .step(Step::validate(module_config(POSTGRES, GOOD)))
        .step(refused(
            POSTGRES,
            "data_classification",
            r#"data_classification = "secret""#,
            "The data_classification must be one of public, internal, confidential, restricted.",
        ))
        .step(refused(
            POSTGRES,
            "tier",
            r#"tier = "gold""#,
            "The tier must be one of tier-0, tier-1, tier-2, tier-3",
        ))
        .step(refused(
            POSTGRES,
            "name",
            r#"name = "Orders_DB""#,
            r#"The name must be 1-63 lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain "--" (e.g. "orders-db")."#,
        ))
        .step(refused(
            POSTGRES,
            "owner",
            r#"owner = "orders team""#,
            "The owner must be a team or person identifier of 1-128 characters without spaces",
        ))
        .step(refused(
            POSTGRES,
            "extra_tags",
            r#"extra_tags = { owner = "someone-else" }"#,
            "The extra_tags must not set owner, cost_center, data_classification or tier: use the module's variables of those names.",
        ))
        .step(refused(
            POSTGRES,
            "engine_version",
            r#"engine_version = "15.4""#,
            r#"The engine_version must be a PostgreSQL major version of two digits such as "15" or "16""#,
        ))
        .step(refused(
            POSTGRES,
            "restore_test_max_age",
            r#"restore_test_max_age = "one day""#,
            r#"The restore_test_max_age must be a duration such as "24h", "7d" or "1h30m" (units d, h, m, s)."#,
        ))
        .run();
}

#[test]
fn mysql_module_refuses_bad_inputs_with_clear_messages() {
    TestCase::new()
        .step(Step::validate(module_config(MYSQL, GOOD)))
        .step(refused(
            MYSQL,
            "engine_version",
            r#"engine_version = "15""#,
            r#"The engine_version must be a MySQL version such as "8.0" or "8.0.35" (5.7 or 8.x), or null for the platform default."#,
        ))
        .step(refused(
            MYSQL,
            "master_username",
            r#"master_username = "orders_database_admin""#,
            "The master_username must be 1-16 letters, digits and underscores starting with a letter",
        ))
        .step(refused(
            MYSQL,
            "data_classification",
            r#"data_classification = "Internal""#,
            "The data_classification must be one of public, internal, confidential, restricted.",
        ))
        .run();
}

fn after<'a>(plan: &'a Plan, address: &str) -> &'a Value {
    plan.resource_change(address)
        .and_then(|rc| rc.pointer("/change/after"))
        .unwrap_or_else(|| panic!("the plan has no change for {address}: {:?}", plan.changes()))
}

/// The example's plan (no AWS call is needed to plan new databases): the tier, not the configuration, gives
/// Multi-AZ, 14-day backups, deletion protection and the instance class; the required tags are all there; the
/// MySQL database's default user fits MySQL's 16 characters.
#[test]
fn aws_tier1_example_plans_tier1_settings_and_required_tags() {
    let wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    copy_into(&wd, POSTGRES);
    copy_into(&wd, MYSQL);
    copy_into(&wd, EXAMPLE);
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tf_ok(&wd, EXAMPLE, &["init", "-input=false", "-no-color"]);
    let chdir = format!("-chdir={EXAMPLE}");
    // An endpoint nothing listens on: planning a create must not need the AWS API.
    let out = wd
        .run_env(
            &[
                &chdir,
                "plan",
                "-input=false",
                "-no-color",
                "-out=tfplan",
                "-var",
                "endpoint=http://127.0.0.1:9",
                "-var",
                "with_mysql=true",
                "-var",
                "kms_key_id=arn:aws:kms:us-east-1:123456789012:key/0f6c5a3e-1111-2222-3333-444455556666",
                "-var",
                "monitoring_role_arn=arn:aws:iam::123456789012:role/rds-monitoring",
            ],
            &env,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    if !out.success() {
        panic!("{}", out.into_error("terraform plan of the example failed"));
    }
    let plan = Plan::from_json(
        wd.json_env(&[&chdir, "show", "-json", "-no-color", "tfplan"], &env)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let counts = plan.counts();
    assert_eq!(
        (counts.create, counts.update, counts.replace, counts.destroy),
        (2, 0, 0, 0),
        "{:?}",
        plan.changes()
    );
    let pg = after(&plan, "module.payments.dbplatform_database.this");
    for (k, want) in [
        ("engine", Value::from("postgres")),
        ("engine_version", Value::from("16")),
        ("tier", Value::from("tier-1")),
        ("multi_az", Value::from(true)),
        ("backup_retention_days", Value::from(14)),
        ("deletion_protection", Value::from(true)),
        ("performance_insights", Value::from(true)),
        ("monitoring_interval_seconds", Value::from(30)),
        ("instance_class", Value::from("db.m6g.large")),
        ("master_username", Value::from("payments_admin")),
    ] {
        assert_eq!(pg.get(k), Some(&want), "payments {k}: {pg}");
    }
    for (k, want) in [
        ("owner", "payments-team"),
        ("cost_center", "cc-4711"),
        ("data_classification", "confidential"),
        ("environment", "prod"),
    ] {
        assert_eq!(
            pg.pointer(&format!("/tags/{k}")),
            Some(&Value::from(want)),
            "payments tags.{k}: {pg}"
        );
    }
    assert_eq!(
        pg.pointer("/parameters/log_min_duration_statement"),
        Some(&Value::from("500")),
        "{pg}"
    );
    let my = after(&plan, "module.ledger[0].dbplatform_database.this");
    assert_eq!(my.get("engine"), Some(&Value::from("mysql")), "{my}");
    assert_eq!(
        my.get("master_username"),
        Some(&Value::from("payments_m_admin")),
        "{my}"
    );
    assert_eq!(my.get("multi_az"), Some(&Value::from(true)), "{my}");
    let tier = plan
        .planned_output("tier")
        .unwrap_or_else(|| panic!("no planned output tier: {}", plan.raw()));
    assert_eq!(tier.get("rpo_minutes"), Some(&Value::from(15)), "{tier}");
    assert_eq!(
        tier.get("allowed_backends"),
        Some(&serde_json::json!(["aws"])),
        "{tier}"
    );
    assert!(
        !Path::new(&wd.path().join(EXAMPLE).join("terraform.tfstate")).exists(),
        "a plan writes no state"
    );
}
