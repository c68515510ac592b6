//! `dbplatform_database` with `backend = "aws"` through the real Terraform CLI, against the moto RDS emulator:
//! create, no-op plan, in-place update, replacement, import with verify, drift made through the RDS API,
//! deletion outside Terraform, destroy with a final snapshot, and bad input caught by our validation (moto
//! would accept it). Postgres and MySQL.
//!
//! One `moto_server` per test binary, started on first use (`acceptance_tests::moto`).

use std::process::Command;

use acceptance_tests::{
    moto_port, venv_python, Check, ExpectPlan, ImportVerify, Step, TestCase, Workdir,
};

/// Runs boto3 (installed with moto) against the emulator: changes made "outside Terraform".
fn rds_outside(code: &str) -> String {
    let script = format!(
        "import boto3, json\nc = boto3.client('rds', endpoint_url='http://127.0.0.1:{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n{code}\n",
        moto_port()
    );
    let out = Command::new(venv_python())
        .args(["-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("python: {e}"));
    assert!(
        out.status.success(),
        "boto3 call failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn provider_block() -> String {
    format!(
        "provider \"dbplatform\" {{\n  backend = \"aws\"\n  default_tags = {{ owner = \"payments\", cost_center = \"cc-1\", data_classification = \"internal\" }}\n  aws {{\n    endpoint = \"http://127.0.0.1:{}\"\n    region   = \"us-east-1\"\n  }}\n}}\n",
        moto_port()
    )
}

fn db_config(name: &str, engine: &str, extra: &str) -> String {
    let version = if engine == "mysql" { "8.0" } else { "16" };
    format!(
        "{}\nresource \"dbplatform_database\" \"db\" {{\n  name           = \"{name}\"\n  engine         = \"{engine}\"\n  engine_version = \"{version}\"\n  tier           = \"tier-3\"\n  db_name        = \"app\"\n{extra}}}\n",
        provider_block()
    )
}

fn case() -> TestCase {
    moto_port();
    TestCase::new()
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

const ADDR: &str = "dbplatform_database.db";

fn lifecycle(engine: &str) {
    let name = unique(&format!("acc-{engine}"));
    let snapshot_name = name.clone();
    case()
        .step(
            Step::apply(db_config(&name, engine, ""))
                .expect(ExpectPlan::creates(1))
                .check(Check::attr_equals(ADDR, "id", name.as_str()))
                .check(Check::attr_equals(ADDR, "status", "available"))
                .check(Check::attr_equals(ADDR, "backend", "aws"))
                .check(Check::attr_matches(ADDR, "master_user_secret_path", "^arn:aws:secretsmanager:"))
                .check(Check::attr_set(ADDR, "endpoint"))
                .check(Check::attr_matches(ADDR, "engine_version_actual", if engine == "mysql" { r"^8\.0" } else { "^16" })),
        )
        // Update in place.
        .step(
            Step::apply(db_config(&name, engine, "  instance_class = \"db.t4g.small\"\n  tags = { team = \"payments\" }\n"))
                .expect(ExpectPlan::Changes { create: 0, update: 1, replace: 0, destroy: 0 })
                .check(Check::attr_equals(ADDR, "instance_class", "db.t4g.small"))
                .check(Check::attr_equals(ADDR, "tags.team", "payments")),
        )
        // Import by identifier fills every attribute.
        .step(Step::import_verify(ImportVerify {
            address: ADDR.into(),
            id: None,
            ignore: vec!["skip_final_snapshot".into(), "final_snapshot_identifier".into(), "policy_decision".into()],
        }))
        .check_destroy("final snapshot exists", move |_| {
            let n = rds_outside(&format!(
                "print(len([s for s in c.describe_db_snapshots(DBInstanceIdentifier='{snapshot_name}')['DBSnapshots']]))"
            ));
            if n == "1" {
                Ok(())
            } else {
                Err(format!("expected 1 final snapshot of {snapshot_name}, found {n}"))
            }
        })
        .run();
}

#[test]
fn postgres_create_update_import_destroy_with_final_snapshot() {
    lifecycle("postgres");
}

#[test]
fn mysql_create_update_import_destroy_with_final_snapshot() {
    lifecycle("mysql");
}

fn replacement(engine: &str) {
    let name = unique(&format!("acc-repl-{engine}"));
    case()
        .step(Step::apply(db_config(
            &name,
            engine,
            "  skip_final_snapshot = true\n",
        )))
        .step(
            Step::plan_only(
                db_config(&name, engine, "  skip_final_snapshot = true\n")
                    .replace("db_name        = \"app\"", "db_name        = \"other\""),
            )
            .expect(ExpectPlan::Changes {
                create: 0,
                update: 0,
                replace: 1,
                destroy: 0,
            }),
        )
        .run();
}

#[test]
fn postgres_db_name_change_forces_replacement() {
    replacement("postgres");
}

#[test]
fn mysql_db_name_change_forces_replacement() {
    replacement("mysql");
}

fn drift_and_outside_delete(engine: &str) {
    let name = unique(&format!("acc-drift-{engine}"));
    let config = db_config(&name, engine, "  skip_final_snapshot = true\n");
    let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        wd.set_env(k, v);
    }
    let ok = |r: Result<acceptance_tests::TfOutput, acceptance_tests::HarnessError>| {
        r.unwrap_or_else(|e| panic!("{e}"))
    };
    wd.write_config(&config).unwrap_or_else(|e| panic!("{e}"));
    ok(wd.init());
    ok(wd.run_ok(&["apply", "-input=false", "-no-color", "-auto-approve"]));

    // Drift: backup retention changed through the RDS API; the next plan shows an in-place update back.
    rds_outside(&format!("c.modify_db_instance(DBInstanceIdentifier='{name}', BackupRetentionPeriod=9, ApplyImmediately=True)"));
    let plan = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    let counts = plan.counts();
    assert_eq!(
        (counts.create, counts.update, counts.replace, counts.destroy),
        (0, 1, 0, 0),
        "drift plan: {:?}",
        plan.changes()
    );
    let change = plan.resource_change(ADDR).cloned().unwrap_or_default();
    assert_eq!(
        change
            .pointer("/change/before/backup_retention_days")
            .and_then(|v| v.as_i64()),
        Some(9),
        "{change}"
    );
    assert_eq!(
        change
            .pointer("/change/after/backup_retention_days")
            .and_then(|v| v.as_i64()),
        Some(1),
        "{change}"
    );
    ok(wd.run_ok(&["apply", "-input=false", "-no-color", "-auto-approve"]));
    let retention = rds_outside(&format!("print(c.describe_db_instances(DBInstanceIdentifier='{name}')['DBInstances'][0]['BackupRetentionPeriod'])"));
    assert_eq!(retention, "1", "apply put the drifted setting back");

    // Deleted outside Terraform: refresh drops it from state and the plan creates it again.
    rds_outside(&format!(
        "c.delete_db_instance(DBInstanceIdentifier='{name}', SkipFinalSnapshot=True)"
    ));
    let plan = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    let counts = plan.counts();
    assert_eq!(
        (counts.create, counts.update, counts.replace, counts.destroy),
        (1, 0, 0, 0),
        "after outside delete: {:?}",
        plan.changes()
    );
    // Nothing left to destroy: the refreshed state is empty once applied (re-create then destroy to be tidy).
    ok(wd.run_ok(&["apply", "-input=false", "-no-color", "-auto-approve"]));
    ok(wd.destroy());
}

#[test]
fn postgres_drift_and_outside_delete() {
    drift_and_outside_delete("postgres");
}

#[test]
fn mysql_drift_and_outside_delete() {
    drift_and_outside_delete("mysql");
}

#[test]
fn bad_input_is_refused_at_plan_before_any_api_call() {
    for (extra_name, msg) in [("Bad--Name-", "not a valid"), ("9lives", "not a valid")] {
        case()
            .step(
                Step::plan_only(db_config(extra_name, "postgres", ""))
                    .expect(ExpectPlan::error(format!("(?s)name.*{msg}"))),
            )
            .run();
    }
}

fn parameter_group_config(name: &str, engine: &str, params: &str) -> String {
    let version = if engine == "mysql" { "8.0" } else { "16" };
    format!(
        "{}\nresource \"dbplatform_parameter_group\" \"pg\" {{\n  name           = \"{name}\"\n  engine         = \"{engine}\"\n  engine_version = \"{version}\"\n  tier           = \"tier-2\"\n  parameters     = {{ {params} }}\n}}\n",
        provider_block()
    )
}

const PG: &str = "dbplatform_parameter_group.pg";

#[test]
fn parameter_group_forces_tls_merges_baseline_and_imports() {
    let name = unique("acc-params");
    case()
        .step(
            Step::apply(parameter_group_config(
                &name,
                "postgres",
                "work_mem = \"8192\"",
            ))
            .expect(ExpectPlan::creates(1))
            .check(Check::attr_equals(PG, "family", "postgres16"))
            .check(Check::custom("TLS forced", |st| {
                let v = st
                    .attr(PG, "effective_parameters")
                    .map_err(|e| e.to_string())?;
                match v.get("rds.force_ssl").and_then(|x| x.as_str()) {
                    Some("1") => Ok(()),
                    other => Err(format!("rds.force_ssl is {other:?} in {v}")),
                }
            }))
            .check(Check::attr_equals(
                PG,
                "effective_parameters.work_mem",
                "8192",
            ))
            .check(Check::attr_equals(
                PG,
                "effective_parameters.log_min_duration_statement",
                "5000",
            ))
            .check(Check::attr_equals(
                PG,
                "apply_methods.work_mem",
                "immediate",
            ))
            .check(Check::attr_matches(PG, "arn", "^arn:aws:rds:us-east-1:")),
        )
        .step(
            Step::apply(parameter_group_config(
                &name,
                "postgres",
                "work_mem = \"16384\", shared_buffers = \"32768\"",
            ))
            .expect(ExpectPlan::Changes {
                create: 0,
                update: 1,
                replace: 0,
                destroy: 0,
            })
            .check(Check::attr_equals(
                PG,
                "effective_parameters.shared_buffers",
                "32768",
            ))
            .check(Check::attr_equals(
                PG,
                "apply_methods.shared_buffers",
                "pending-reboot",
            )),
        )
        .step(Step::import_verify(ImportVerify {
            address: PG.into(),
            id: None,
            ignore: vec![],
        }))
        .run();
}

#[test]
fn parameter_group_refuses_turning_tls_off_and_changes_family_by_replacement() {
    let name = unique("acc-params-my");
    case()
        .step(
            Step::plan_only(parameter_group_config(
                &name,
                "mysql",
                "require_secure_transport = \"0\"",
            ))
            .expect(ExpectPlan::error(
                "(?s)require_secure_transport.*TLS is required",
            )),
        )
        .step(
            Step::apply(parameter_group_config(&name, "mysql", ""))
                .check(Check::attr_equals(PG, "family", "mysql8.0")),
        )
        .step(
            Step::plan_only(
                parameter_group_config(&name, "mysql", "").replace("\"8.0\"", "\"8.4\""),
            )
            .expect(ExpectPlan::Changes {
                create: 0,
                update: 0,
                replace: 1,
                destroy: 0,
            }),
        )
        .run();
}

/// Plan time with 1 and with 50 databases in one configuration: the plan to create them, and the no-op plan
/// after apply (which refreshes each from RDS). Printed for the report, never asserted: the machines are shared
/// and noisy (figures belong to benchmarks); what is asserted is the plan contents.
#[test]
fn plan_time_for_1_and_50_databases() {
    let mut report = Vec::new();
    for n in [1usize, 50] {
        let prefix = unique(&format!("perf{n}"));
        let config = format!(
            "{}\nresource \"dbplatform_database\" \"db\" {{\n  count          = {n}\n  name           = \"{prefix}-${{count.index}}\"\n  engine         = \"postgres\"\n  engine_version = \"16\"\n  tier           = \"tier-3\"\n  db_name        = \"app\"\n  skip_final_snapshot = true\n}}\n",
            provider_block()
        );
        let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ] {
            wd.set_env(k, v);
        }
        wd.write_config(&config).unwrap_or_else(|e| panic!("{e}"));
        wd.init().unwrap_or_else(|e| panic!("{e}"));
        let timed = |args: &[&str]| {
            let t = std::time::Instant::now();
            let out = wd.run_ok(args).unwrap_or_else(|e| panic!("{e}"));
            (t.elapsed(), out)
        };
        let (create_plan, out) = timed(&["plan", "-input=false", "-no-color"]);
        assert!(
            out.stdout
                .contains(&format!("Plan: {n} to add, 0 to change, 0 to destroy.")),
            "{out}"
        );
        let (apply, _) = timed(&["apply", "-input=false", "-no-color", "-auto-approve"]);
        let (noop_plan, out) = timed(&["plan", "-input=false", "-no-color"]);
        assert!(out.stdout.contains("No changes."), "{out}");
        wd.destroy().unwrap_or_else(|e| panic!("{e}"));
        report.push(format!(
            "{n} database(s): create plan {:.2}s, apply {:.2}s, no-op plan (refresh) {:.2}s",
            create_plan.as_secs_f64(),
            apply.as_secs_f64(),
            noop_plan.as_secs_f64()
        ));
    }
    eprintln!("[timing] {}", report.join("; "));
}

/// The RDS-only arguments end to end: storage, windows, a dbplatform_parameter_group attached, timeouts; the
/// computed RDS attributes; an in-place storage change; import with verify; a downgrade refused.
#[test]
fn rds_only_arguments_and_attributes() {
    let name = unique("acc-rds");
    let config = |storage: u32, version: &str| {
        format!(
            "{}\nresource \"dbplatform_parameter_group\" \"pg\" {{\n  name           = \"{name}-params\"\n  engine         = \"postgres\"\n  engine_version = \"16\"\n  tier           = \"tier-3\"\n}}\n\nresource \"dbplatform_database\" \"db\" {{\n  name                 = \"{name}\"\n  engine               = \"postgres\"\n  engine_version       = \"{version}\"\n  tier                 = \"tier-3\"\n  db_name              = \"app\"\n  allocated_storage_gb = {storage}\n  storage_type         = \"gp3\"\n  backup_window        = \"03:00-04:00\"\n  maintenance_window   = \"sun:05:00-sun:06:00\"\n  parameter_group_name = dbplatform_parameter_group.pg.name\n  skip_final_snapshot  = true\n  timeouts {{\n    create = \"10m\"\n  }}\n}}\n",
            provider_block()
        )
    };
    case()
        .step(
            Step::apply(config(30, "16"))
                .expect(ExpectPlan::creates(2))
                .check(Check::attr_equals(ADDR, "allocated_storage_gb", 30))
                .check(Check::attr_equals(ADDR, "backup_window", "03:00-04:00"))
                .check(Check::attr_equals(
                    ADDR,
                    "parameter_group_name",
                    format!("{name}-params"),
                ))
                .check(Check::attr_matches(
                    ADDR,
                    "arn",
                    &format!("^arn:aws:rds:us-east-1:[0-9]+:db:{name}$"),
                ))
                .check(Check::attr_set(ADDR, "address"))
                .check(Check::attr_set(ADDR, "resource_id"))
                .check(Check::attr_matches(
                    ADDR,
                    "master_user_secret_arn",
                    "^arn:aws:secretsmanager:",
                ))
                .check(Check::attr_equals(ADDR, "pending_reboot", false))
                .check(Check::attr_equals(ADDR, "log_exports.0", "postgresql")),
        )
        .step(
            Step::apply(config(40, "16"))
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 1,
                    replace: 0,
                    destroy: 0,
                })
                .check(Check::attr_equals(ADDR, "allocated_storage_gb", 40)),
        )
        .step(Step::import_verify(ImportVerify {
            address: ADDR.into(),
            id: None,
            ignore: vec![
                "skip_final_snapshot".into(),
                "final_snapshot_identifier".into(),
                "policy_decision".into(),
                "timeouts".into(),
                // Import cannot tell a configured window from one RDS chose, and leaves both null.
                "backup_window".into(),
                "maintenance_window".into(),
            ],
        }))
        .step(
            Step::plan_only(config(40, "15"))
                .expect(ExpectPlan::error("(?s)engine_version.*cannot downgrade")),
        )
        .step(Step::plan_only(config(10, "16")).expect(ExpectPlan::error(
            "(?s)allocated_storage_gb must be a whole number from 20 to 65536 GiB for gp3 storage, got 10",
        )))
        // The destroy at the end plans with the last config: leave a valid one.
        .step(Step::plan_only(config(40, "16")).expect(ExpectPlan::NoOp))
        .run();
}

/// The guardrails on the aws backend: a database without the required tags is refused at plan, naming the rule
/// id, before anything is created.
#[test]
fn non_compliant_config_is_refused_at_plan_with_rule_ids() {
    let name = unique("acc-policy");
    let config = db_config(&name, "postgres", "")
        .replace("  default_tags = { owner = \"payments\", cost_center = \"cc-1\", data_classification = \"internal\" }\n", "");
    case()
        .step(Step::plan_only(config).expect(ExpectPlan::error(r"(?s)\[DBP-TAG-001\] Databases must carry the owner, cost_center and data_classification tags")))
        .run();
    let left = rds_outside(&format!(
        "print(len([d for d in c.describe_db_instances()['DBInstances'] if d['DBInstanceIdentifier'] == '{name}']))"
    ));
    assert_eq!(left, "0", "nothing was created");
}

/// Every input error of a configuration comes in one plan, one diagnostic each, next to the guardrail failures:
/// numbers out of range or not whole, an engine version RDS does not offer, an engine parameter of the wrong
/// form, the monitoring role enhanced monitoring needs, and the policy errors (no KMS key, no tags).
#[test]
fn every_input_error_and_policy_error_comes_in_one_plan() {
    let config = format!(
        "provider \"dbplatform\" {{\n  backend = \"aws\"\n  aws {{\n    endpoint = \"http://127.0.0.1:{}\"\n    region   = \"us-east-1\"\n  }}\n}}\n\nresource \"dbplatform_database\" \"db\" {{\n  name                  = \"{}\"\n  engine                = \"postgres\"\n  engine_version        = \"99\"\n  tier                  = \"tier-1\"\n  allocated_storage_gb  = 20.5\n  backup_retention_days = 1e30\n  parameters            = {{ work_mem = \"abc\" }}\n}}\n",
        moto_port(),
        unique("acc-errors")
    );
    let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ] {
        wd.set_env(k, v);
    }
    wd.write_config(&config).unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    let out = wd
        .run(&["plan", "-input=false", "-no-color"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.success(), "plan must fail");
    let text = out.all_normalized();
    for want in [
        "allocated_storage_gb must be a whole number from 20 to 65536 GiB for gp3 storage, got 20.5 (not a whole number).",
        "backup_retention_days must be a whole number from 0 to 35 days, got 1000000000000000000000000000000 (out of range).",
        "parameters.work_mem: \"abc\" is not a whole number with an optional unit (units B, kB, MB, GB, TB); e.g. \"64MB\".",
        "engine_version: postgres 99 is not offered by RDS; use one of 11, 12, 13, 14, 15, 16, 17",
        "monitoring_role_arn: enhanced monitoring (monitoring_interval_seconds > 0) needs an IAM role",
        "[DBP-ENC-002]",
        "[DBP-TAG-001]",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    for once in [
        "allocated_storage_gb must",
        "backup_retention_days must",
        "parameters.work_mem:",
    ] {
        assert_eq!(
            text.matches(once).count(),
            1,
            "{once:?} reported once:\n{text}"
        );
    }
}

fn create_outside(name: &str, db_name: &str, tags: &str) {
    rds_outside(&format!(
        "c.create_db_instance(DBInstanceIdentifier='{name}', Engine='postgres', EngineVersion='16.4', DBInstanceClass='db.t4g.micro', AllocatedStorage=20, StorageEncrypted=True, EnableIAMDatabaseAuthentication=True, CopyTagsToSnapshot=True, BackupRetentionPeriod=1, MasterUsername='app_admin', ManageMasterUserPassword=True, DBName='{db_name}', Tags=[{tags}])"
    ));
}

/// An instance of the same name that dbplatform did not create is never adopted: apply names it and the import
/// command; the import then succeeds (the instance is complete) and apply brings it to the configuration. An
/// instance carrying the management tag but made for another database is not adopted either.
#[test]
fn foreign_instances_are_not_adopted_and_import_when_complete() {
    let name = unique("acc-foreign");
    create_outside(&name, "app", "");
    let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        wd.set_env(k, v);
    }
    wd.write_config(&db_config(
        &name,
        "postgres",
        "  skip_final_snapshot = true\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));
    let out = wd
        .run(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    let text = out.all_normalized();
    assert!(!out.success(), "{text}");
    assert!(
        text.contains("not created by dbplatform")
            && text.contains(&format!("terraform import ADDRESS {name}")),
        "{text}"
    );
    wd.run_ok(&["import", "-input=false", "-no-color", ADDR, &name])
        .unwrap_or_else(|e| panic!("{e}"));
    wd.run_ok(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    let plan = wd.plan_json().unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.is_noop(), "{:?}", plan.changes());
    wd.destroy().unwrap_or_else(|e| panic!("{e}"));

    let other = unique("acc-other");
    create_outside(
        &other,
        "other",
        "{'Key': 'dbplatform:managed', 'Value': 'true'}",
    );
    wd.write_config(&db_config(
        &other,
        "postgres",
        "  skip_final_snapshot = true\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let out = wd
        .run(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .unwrap_or_else(|e| panic!("{e}"));
    let text = out.all_normalized();
    assert!(!out.success(), "{text}");
    assert!(
        text.contains("created by dbplatform for a different database (db_name \"other\" (requested \"app\"))"),
        "{text}"
    );
    rds_outside(&format!(
        "c.delete_db_instance(DBInstanceIdentifier='{other}', SkipFinalSnapshot=True)"
    ));
}
