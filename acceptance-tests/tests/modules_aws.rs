//! `modules/postgres-database` and `modules/mysql-database` applied on the aws backend against the moto RDS
//! emulator: tier-3 databases (no deletion protection, so the case can destroy them), the module outputs a user
//! reads, and the `parameters` landing in each database's managed parameter group, read back through the RDS API.
//!
//! One `moto_server` for this test binary (`acceptance_tests::moto`).

use std::process::Command;

use acceptance_tests::{
    moto_port, repo_root, venv_python, Check, ExpectPlan, State, Step, TestCase,
};
use serde_json::Value;

/// A user parameter of a DB parameter group, read with boto3 (installed with moto) straight from the emulator.
fn group_parameter(group: &str, parameter: &str) -> Result<String, String> {
    let script = format!(
        "import boto3\nc = boto3.client('rds', endpoint_url='http://127.0.0.1:{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\nps = c.describe_db_parameters(DBParameterGroupName={group:?})['Parameters']\nprint(next((p.get('ParameterValue', '') for p in ps if p['ParameterName'] == {parameter:?}), '<absent>'))\n",
        moto_port()
    );
    let out = Command::new(venv_python())
        .args(["-c", &script])
        .output()
        .map_err(|e| format!("python: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "describe_db_parameters({group}) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn config() -> String {
    let modules = repo_root().join("modules");
    format!(
        r#"
provider "dbplatform" {{
  backend = "aws"
  aws {{
    endpoint = "http://127.0.0.1:{port}"
    region   = "us-east-1"
  }}
}}

module "pg" {{
  source = "{modules}/postgres-database"

  name                = "acc-mod-pg-{pid}"
  tier                = "tier-3"
  owner               = "orders-team"
  cost_center         = "cc-4711"
  data_classification = "confidential"
  engine_version      = "16"
  parameters          = {{ log_min_duration_statement = "250" }}
  skip_final_snapshot = true
}}

module "my" {{
  source = "{modules}/mysql-database"

  name                = "acc-mod-my-{pid}"
  tier                = "tier-3"
  owner               = "ledger-team"
  cost_center         = "cc-4711"
  data_classification = "restricted"
  engine_version      = "8.0"
  parameters          = {{ max_connections = "200" }}
  extra_tags          = {{ environment = "test" }}
  skip_final_snapshot = true
}}

output "pg" {{
  value = module.pg
}}

output "my" {{
  value = module.my
}}
"#,
        port = moto_port(),
        modules = modules.display(),
        pid = std::process::id() % 100_000,
    )
}

fn output_at(state: &State, output: &str, path: &str) -> Value {
    state
        .output(output)
        .and_then(|o| acceptance_tests::json::lookup(o, path))
        .unwrap_or(Value::Null)
}

#[test]
fn postgres_and_mysql_modules_apply_and_destroy_on_aws_backend() {
    let pid = std::process::id() % 100_000;
    let pg_name = format!("acc-mod-pg-{pid}");
    let my_name = format!("acc-mod-my-{pid}");
    TestCase::new()
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .step(
            Step::apply(config())
                .expect(ExpectPlan::creates(2))
                .check(Check::attr_equals("module.pg.dbplatform_database.this", "tags_all.data_classification", "confidential"))
                .check(Check::attr_equals("module.my.dbplatform_database.this", "tags_all.environment", "test"))
                .check(Check::custom("module outputs", move |s| {
                    let pg_db = pg_name.replace('-', "_");
                    let my_db = my_name.replace('-', "_");
                    let my_user = format!("{}_admin", &my_db[..10]);
                    let want = [
                        ("pg", "backend", Value::from("aws")),
                        ("pg", "port", Value::from(5432)),
                        ("pg", "master_username", Value::from(format!("{pg_db}_admin"))),
                        ("pg", "tier.name", Value::from("tier-3")),
                        ("pg", "policy_decision.outcome", Value::from("pass")),
                        ("pg", "restore_test", Value::Null),
                        ("my", "port", Value::from(3306)),
                        ("my", "master_username", Value::from(my_user.clone())),
                        ("my", "tags.owner", Value::from("ledger-team")),
                        ("my", "tags.tier", Value::from("tier-3")),
                    ];
                    for (o, p, w) in want {
                        let got = output_at(s, o, p);
                        if got != w {
                            return Err(format!("output {o}.{p} is {got}, want {w}"));
                        }
                    }
                    let pg_uri = output_at(s, "pg", "connection_string");
                    let pg_host = output_at(s, "pg", "endpoint");
                    let want_pg = format!(
                        "postgresql://{pg_db}_admin@{}:5432/{pg_db}?sslmode=require",
                        pg_host.as_str().unwrap_or("?")
                    );
                    if pg_uri.as_str() != Some(want_pg.as_str()) {
                        return Err(format!("pg connection_string {pg_uri}, want {want_pg}"));
                    }
                    let my_uri = output_at(s, "my", "connection_string");
                    if !my_uri.as_str().is_some_and(|u| u.starts_with(&format!("mysql://{my_user}@")) && u.ends_with(&format!(":3306/{my_db}?ssl-mode=REQUIRED"))) {
                        return Err(format!("my connection_string {my_uri}"));
                    }
                    for o in ["pg", "my"] {
                        let secret = output_at(s, o, "secret_reference");
                        if !secret.as_str().is_some_and(|a| a.starts_with("arn:aws:secretsmanager:us-east-1:")) {
                            return Err(format!("{o}.secret_reference {secret} is not a Secrets Manager ARN"));
                        }
                    }
                    Ok(())
                }))
                .check(Check::custom("parameters are in each database's managed parameter group", {
                    let (pg, my) = (format!("dbplatform-acc-mod-pg-{pid}"), format!("dbplatform-acc-mod-my-{pid}"));
                    move |_| {
                        let a = group_parameter(&pg, "log_min_duration_statement")?;
                        let b = group_parameter(&my, "max_connections")?;
                        if a == "250" && b == "200" {
                            Ok(())
                        } else {
                            Err(format!("{pg}: log_min_duration_statement={a}; {my}: max_connections={b}"))
                        }
                    }
                })),
        )
        .run();
}
