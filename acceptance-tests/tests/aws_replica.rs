//! `dbplatform_replica` and `dbplatform_failover_drill` with `backend = "aws"` through the real Terraform CLI,
//! against the moto RDS emulator: a same-region and a cross-region replica (with a KMS key of the target region)
//! are created, imported and destroyed; an encrypted cross-region replica without a target-region key is refused
//! at plan time (moto would accept it); a replica promotion drill and a Multi-AZ failover drill make their calls
//! and record evidence that says the emulator changed nothing (`simulated = true`).

use std::process::Command;

use acceptance_tests::{moto_port, venv_python, Workdir};

/// boto3 against the emulator in `region`.
fn boto(region: &str, code: &str) -> String {
    let script = format!(
        "import boto3, json\nrds = boto3.client('rds', endpoint_url='http://127.0.0.1:{p}', region_name='{region}', aws_access_key_id='testing', aws_secret_access_key='testing')\nkms = boto3.client('kms', endpoint_url='http://127.0.0.1:{p}', region_name='{region}', aws_access_key_id='testing', aws_secret_access_key='testing')\n{code}\n",
        p = moto_port()
    );
    let out = Command::new(venv_python())
        .args(["-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("python: {e}"));
    assert!(
        out.status.success(),
        "boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
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

fn config(db: &str, body: &str, audit: &std::path::Path) -> String {
    format!(
        r#"provider "dbplatform" {{
  backend = "aws"
  default_tags = {{ owner = "payments", cost_center = "cc-1", data_classification = "internal" }}
  aws {{
    endpoint = "http://127.0.0.1:{port}"
    region   = "us-east-1"
  }}
  policy {{
    audit_log = "{audit}"
  }}
}}

resource "dbplatform_database" "db" {{
  name           = "{db}"
  engine         = "postgres"
  engine_version = "16"
  tier           = "tier-3"
  multi_az       = true
}}
{body}"#,
        port = moto_port(),
        audit = audit.display()
    )
}

fn workdir() -> Workdir {
    moto_port();
    let mut wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        wd.set_env(k, v);
    }
    wd
}

fn run(wd: &Workdir, hcl: &str, args: &[&str]) -> acceptance_tests::TfOutput {
    wd.write_config(hcl).unwrap_or_else(|e| panic!("{e}"));
    wd.run(args).unwrap_or_else(|e| panic!("{e}"))
}

const APPLY: &[&str] = &["apply", "-input=false", "-no-color", "-auto-approve"];

#[test]
fn replicas_in_two_regions_import_and_destroy_and_drills_record_what_the_emulator_did() {
    let db = unique("acc-src");
    let ro = unique("acc-ro");
    let dr = unique("acc-dr");
    let key = boto(
        "eu-west-1",
        "print(kms.create_key(Description='dbplatform dr')['KeyMetadata']['Arn'])",
    );
    assert!(key.starts_with("arn:aws:kms:eu-west-1:"), "{key}");
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let audit = tmp.path().join("audit.jsonl");
    let replicas = format!(
        r#"
resource "dbplatform_replica" "ro" {{
  name               = "{ro}"
  source_database_id = dbplatform_database.db.id
  tags               = {{ purpose = "reads" }}
}}

resource "dbplatform_replica" "dr" {{
  name               = "{dr}"
  source_database_id = dbplatform_database.db.id
  region             = "eu-west-1"
  kms_key_id         = "{key}"
}}
"#
    );
    let wd = workdir();
    wd.write_config(&config(&db, &replicas, &audit))
        .unwrap_or_else(|e| panic!("{e}"));
    wd.init().unwrap_or_else(|e| panic!("{e}"));

    // An encrypted source replicated into another region without a key there: refused at plan, naming the field.
    let no_key = replicas.replace(&format!("  kms_key_id         = \"{key}\"\n"), "");
    let plan = run(
        &wd,
        &config(&db, &no_key, &audit),
        &["plan", "-input=false", "-no-color"],
    );
    assert!(!plan.success(), "the plan must fail:\n{plan}");
    let text = plan.all_normalized();
    assert!(
        text.contains("kms_key_id") && text.contains("a key of eu-west-1"),
        "{text}"
    );
    // A key of the wrong region is refused too.
    let wrong = replicas.replace(&key, &key.replace("eu-west-1", "us-east-1"));
    let plan = run(
        &wd,
        &config(&db, &wrong, &audit),
        &["plan", "-input=false", "-no-color"],
    );
    assert!(
        !plan.success() && plan.all_normalized().contains("is a key of us-east-1"),
        "{plan}"
    );

    let out = run(&wd, &config(&db, &replicas, &audit), APPLY);
    assert!(out.success(), "{out}");
    let st = wd.show_state().unwrap_or_else(|e| panic!("{e}"));
    let attr = |a: &str, p: &str| {
        st.attr(a, p)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    assert_eq!(attr("dbplatform_replica.ro", "status"), "available");
    assert_eq!(attr("dbplatform_replica.ro", "source_database_id"), db);
    assert_eq!(attr("dbplatform_replica.dr", "region"), "eu-west-1");
    // What RDS (the emulator) holds: a replica of the source in each region, the key of eu-west-1 on the DR one.
    let same = boto("us-east-1", &format!("print(rds.describe_db_instances(DBInstanceIdentifier='{ro}')['DBInstances'][0].get('ReadReplicaSourceDBInstanceIdentifier'))"));
    assert!(same.ends_with(&db), "{same}");
    let cross = boto("eu-west-1", &format!("d = rds.describe_db_instances(DBInstanceIdentifier='{dr}')['DBInstances'][0]; print(d.get('ReadReplicaSourceDBInstanceIdentifier'), d.get('KmsKeyId'))"));
    assert!(cross.contains(&db) && cross.contains(&key), "{cross}");
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.code, Some(0), "{plan}");

    // Import both (the cross-region one as REGION/NAME); the plan stays empty.
    for (addr, id) in [
        ("dbplatform_replica.ro", ro.clone()),
        ("dbplatform_replica.dr", format!("eu-west-1/{dr}")),
    ] {
        wd.run_ok(&["state", "rm", addr])
            .unwrap_or_else(|e| panic!("{e}"));
        let imp = wd
            .run(&["import", "-input=false", "-no-color", addr, &id])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(imp.success(), "{imp}");
    }
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.code,
        Some(0),
        "after import the plan is empty:\n{plan}"
    );

    // Drills: a Multi-AZ reboot with failover, and a promotion of the same-region replica.
    let drills = format!(
        r#"{replicas}
resource "dbplatform_failover_drill" "maz" {{
  database_id = dbplatform_database.db.id
  mode        = "multi_az"
}}

resource "dbplatform_failover_drill" "promote" {{
  database_id   = dbplatform_database.db.id
  replica_id    = dbplatform_replica.ro.id
  keep_promoted = true
}}
"#
    );
    let out = run(&wd, &config(&db, &drills, &audit), APPLY);
    assert!(out.success(), "{out}");
    let st = wd.show_state().unwrap_or_else(|e| panic!("{e}"));
    let attr = |a: &str, p: &str| {
        st.attr(a, p)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    for d in [
        "dbplatform_failover_drill.maz",
        "dbplatform_failover_drill.promote",
    ] {
        assert_eq!(
            attr(d, "simulated"),
            "true",
            "{d}: the emulator changes nothing, and the evidence says so"
        );
        assert!(attr(d, "rto_seconds").parse::<f64>().is_ok(), "{d}");
        assert_eq!(attr(d, "rows_lost"), "null", "{d}: no write probe on aws");
    }
    assert!(attr("dbplatform_failover_drill.maz", "steps")
        .contains("RebootDBInstance ForceFailover=true"));
    assert!(attr("dbplatform_failover_drill.promote", "steps").contains("PromoteReadReplica"));
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["kind"] == "failover_drill")
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records
        .iter()
        .all(|r| r["simulated"] == true && r["database"] == db.as_str()));

    // On aws a promoted replica cannot follow again: keep_promoted = false is refused with the reason.
    let refused = drills.replace("keep_promoted = true", "keep_promoted = false");
    let out = run(&wd, &config(&db, &refused, &audit), APPLY);
    assert!(
        !out.success() && out.all_normalized().contains("keep_promoted = true"),
        "{out}"
    );

    let out = run(
        &wd,
        &config(&db, &replicas, &audit),
        &["destroy", "-input=false", "-no-color", "-auto-approve"],
    );
    assert!(out.success(), "destroy:\n{out}");
    let left = boto("eu-west-1", &format!("print([d['DBInstanceIdentifier'] for d in rds.describe_db_instances()['DBInstances'] if d['DBInstanceIdentifier'] == '{dr}'])"));
    assert_eq!(left, "[]");
}
