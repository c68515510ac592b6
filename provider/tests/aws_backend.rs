//! The AWS backend against the moto RDS emulator: create, read round-trip (no perpetual diff), in-place
//! updates, refused changes, drift and deletion outside Terraform, adoption, final snapshots, deletion
//! protection, parameter groups, and validation that fails before any API call. Postgres and MySQL.

#[path = "aws_common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use provider::backend::aws::parameter_group::ParameterGroupSpec;
use provider::backend::aws::parameters::effective_parameters;
use provider::backend::aws::spec::{AwsOptions, RdsInstanceSpec, MANAGED_TAG_KEY};
use provider::backend::aws::AwsBackend;
use provider::backend::{DatabaseBackend, DatabaseSpec, DatabaseStatus, DeleteOptions};

fn request(name: &str, engine: &str) -> RdsInstanceSpec {
    RdsInstanceSpec {
        spec: DatabaseSpec {
            name: name.to_string(),
            engine: engine.to_string(),
            engine_version: Some(if engine == "mysql" { "8.0" } else { "16" }.to_string()),
            tier: "tier-3".into(),
            instance_class: "db.t4g.micro".into(),
            db_name: "app".into(),
            master_username: "dbadmin".into(),
            multi_az: false,
            backup_retention_days: 1,
            point_in_time_recovery: true,
            deletion_protection: false,
            tls_required: true,
            min_tls_version: "1.2".into(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::from([("team".to_string(), "payments".to_string())]),
            instance: None,
            timeouts: Default::default(),
        },
        aws: AwsOptions {
            backup_window: Some("03:00-04:00".into()),
            maintenance_window: Some("sun:05:00-sun:06:00".into()),
            ..AwsOptions::default()
        },
    }
}

/// The spec as read back: the instance also carries its tier as a tag.
fn with_tier_tag(spec: &DatabaseSpec) -> DatabaseSpec {
    let mut s = spec.clone();
    s.tags.insert("tier".into(), s.tier.clone());
    s
}

async fn create(b: &AwsBackend, req: &RdsInstanceSpec) -> provider::backend::aws::RdsInstance {
    match b.create_instance(req, None).await {
        Ok(i) => i,
        Err(f) => panic!("create {} failed: {}", req.spec.name, f.error),
    }
}

async fn lifecycle(engine: &str) {
    let b = common::backend().await;
    let name = common::unique(&format!("life-{engine}"));
    let mut req = request(&name, engine);
    if engine == "postgres" {
        req.spec.parameters.insert("work_mem".into(), "8192".into());
    }
    let created = create(&b, &req).await;

    // What a user sees in state after create.
    assert_eq!(created.info.status, DatabaseStatus::Available);
    assert!(
        created
            .info
            .master_user_secret
            .starts_with("arn:aws:secretsmanager:"),
        "{}",
        created.info.master_user_secret
    );
    assert!(!created.info.endpoint.is_empty() && created.info.port > 0);
    assert!(
        created.arn.starts_with("arn:aws:rds:us-east-1:"),
        "{}",
        created.arn
    );
    assert!(created.managed, "management tag present");
    assert!(created
        .info
        .engine_version_actual
        .starts_with(req.spec.engine_version.as_deref().unwrap_or("")));
    assert!(!created.info.connection_string.contains("password"));

    // Read returns exactly what was asked for: the next plan is a no-op.
    let read = b
        .describe_instance(&name)
        .await
        .ok()
        .flatten()
        .expect("instance readable after create");
    assert_eq!(
        read.info.spec,
        with_tier_tag(&req.spec),
        "neutral spec round-trips"
    );
    let mut want_aws = req.aws.clone();
    // RDS picks the aws/rds key and the VPC's default security group when none is given (optional+computed).
    want_aws.kms_key_id = read.aws.kms_key_id.clone();
    want_aws.vpc_security_group_ids = read.aws.vpc_security_group_ids.clone();
    assert!(read.aws.kms_key_id.is_some());
    assert_eq!(read.aws, want_aws, "RDS options round-trip");
    assert!(
        read.pending_modifications.is_empty(),
        "{:?}",
        read.pending_modifications
    );

    // Tags as AWS holds them: the user's, the tier, the management tag.
    let tags = b
        .client()
        .list_tags_for_resource()
        .resource_name(&read.arn)
        .send()
        .await
        .expect("list tags");
    let tags: BTreeMap<_, _> = tags
        .tag_list()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or("").to_string(),
                t.value().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(tags.get("tier").map(String::as_str), Some("tier-3"));
    assert_eq!(tags.get(MANAGED_TAG_KEY).map(String::as_str), Some("true"));
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"));

    // Update in place.
    let mut up = req.clone();
    up.spec.instance_class = "db.t4g.small".into();
    up.spec.backup_retention_days = 3;
    up.spec.tags = BTreeMap::from([("team".to_string(), "billing".to_string())]);
    up.aws.allocated_storage_gb = 30;
    up.aws.max_allocated_storage_gb = Some(100);
    if engine == "postgres" {
        up.spec.parameters.insert("work_mem".into(), "16384".into());
    }
    let after = b
        .modify_instance(&up, None)
        .await
        .unwrap_or_else(|e| panic!("update: {e}"));
    assert_eq!(after.info.spec, with_tier_tag(&up.spec));
    assert_eq!(after.aws.allocated_storage_gb, 30);
    assert_eq!(after.aws.max_allocated_storage_gb, Some(100));

    // Changes RDS cannot make in place are refused with the replacement hint; a downgrade is refused.
    let mut bad = up.clone();
    bad.spec.db_name = "other".into();
    let err = b
        .modify_instance(&bad, None)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("db_name: RDS cannot change db_name") && err.contains("replaced"),
        "{err}"
    );
    let mut down = up.clone();
    down.spec.engine_version = Some(if engine == "mysql" { "5.7" } else { "15" }.into());
    let err = b
        .modify_instance(&down, None)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("engine_version:") && err.contains("cannot downgrade"),
        "{err}"
    );

    // Deletion protection: a clear refusal saying how to turn it off.
    let mut prot = up.clone();
    prot.spec.deletion_protection = true;
    b.modify_instance(&prot, None)
        .await
        .unwrap_or_else(|e| panic!("protect: {e}"));
    let err = b
        .delete_instance(&name, &DeleteOptions::default(), None)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("deletion_protection = true")
            && err.contains("set deletion_protection = false"),
        "{err}"
    );
    b.modify_instance(&up, None)
        .await
        .unwrap_or_else(|e| panic!("unprotect: {e}"));

    // Destroy with a final snapshot (the default), which exists afterwards.
    let out = b
        .delete_instance(&name, &DeleteOptions::default(), None)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    let snap = out.final_backup.expect("final snapshot by default");
    assert!(
        snap.id.starts_with(&format!("{name}-final-")),
        "{}",
        snap.id
    );
    let snaps = b
        .client()
        .describe_db_snapshots()
        .db_snapshot_identifier(&snap.id)
        .send()
        .await
        .expect("snapshot exists");
    assert_eq!(snaps.db_snapshots().len(), 1);
    assert!(
        b.describe_instance(&name).await.ok().flatten().is_none(),
        "instance gone"
    );
    // The managed parameter group went with it.
    assert!(b
        .read_parameter_group(&format!("dbplatform-{name}"))
        .await
        .ok()
        .flatten()
        .is_none());
}

#[tokio::test]
async fn postgres_lifecycle() {
    lifecycle("postgres").await;
}

#[tokio::test]
async fn mysql_lifecycle() {
    lifecycle("mysql").await;
}

async fn drift_and_outside_delete(engine: &str) {
    let b = common::backend().await;
    let name = common::unique(&format!("drift-{engine}"));
    let req = request(&name, engine);
    create(&b, &req).await;
    let direct = common::direct_client().await;
    direct
        .modify_db_instance()
        .db_instance_identifier(&name)
        .backup_retention_period(7)
        .db_instance_class("db.t4g.large")
        .apply_immediately(true)
        .send()
        .await
        .expect("modify outside terraform");
    let read = b.read(&name).await.ok().flatten().expect("still there");
    assert_eq!(read.spec.backup_retention_days, 7, "drift shows in read");
    assert_eq!(read.spec.instance_class, "db.t4g.large");
    // Putting it back is an in-place update.
    let back = b
        .modify_instance(&req, None)
        .await
        .unwrap_or_else(|e| panic!("revert drift: {e}"));
    assert_eq!(back.info.spec, with_tier_tag(&req.spec));

    direct
        .delete_db_instance()
        .db_instance_identifier(&name)
        .skip_final_snapshot(true)
        .send()
        .await
        .expect("delete outside");
    assert!(
        b.read(&name).await.ok().flatten().is_none(),
        "deleted outside Terraform reads as gone"
    );
    // Destroying something already gone is fine.
    assert!(b
        .delete(
            &name,
            &DeleteOptions {
                skip_final_backup: true,
                final_backup_name: None,
                timeout: None,
            }
        )
        .await
        .is_ok());
}

#[tokio::test]
async fn postgres_drift_and_outside_delete() {
    drift_and_outside_delete("postgres").await;
}

#[tokio::test]
async fn mysql_drift_and_outside_delete() {
    drift_and_outside_delete("mysql").await;
}

#[tokio::test]
async fn import_reads_every_attribute() {
    let b = common::backend().await;
    let name = common::unique("import");
    let req = request(&name, "postgres");
    let created = create(&b, &req).await;
    let imported = b
        .import(&name)
        .await
        .unwrap_or_else(|e| panic!("import: {e}"));
    // Import gives the backend-neutral view, RDS-only settings included: the same as the created instance's.
    assert_eq!(imported, created.into_info());
    let missing = b
        .import("no-such-db")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        missing,
        "database \"no-such-db\" does not exist on the aws backend"
    );
    b.delete_instance(
        &name,
        &DeleteOptions {
            skip_final_backup: true,
            final_backup_name: None,
            timeout: None,
        },
        None,
    )
    .await
    .ok();
}

#[tokio::test]
async fn create_adopts_our_instance_and_refuses_a_foreign_one() {
    let b = common::backend().await;
    let name = common::unique("adopt");
    let req = request(&name, "mysql");
    let first = create(&b, &req).await;
    let again = create(&b, &req).await;
    assert_eq!(again.arn, first.arn, "same instance adopted");

    let foreign = common::unique("foreign");
    common::direct_client()
        .await
        .create_db_instance()
        .db_instance_identifier(&foreign)
        .engine("postgres")
        .db_instance_class("db.t4g.micro")
        .allocated_storage(20)
        .master_username("dbadmin")
        .master_user_password("not-our-business-1")
        .send()
        .await
        .expect("create foreign instance");
    let err = b
        .create_instance(&request(&foreign, "postgres"), None)
        .await
        .err()
        .map(|f| f.error.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with(&format!("database {foreign:?} already exists"))
            && err.contains("terraform import"),
        "{err}"
    );
    for n in [&name, &foreign] {
        b.delete_instance(
            n,
            &DeleteOptions {
                skip_final_backup: true,
                final_backup_name: None,
                timeout: None,
            },
            None,
        )
        .await
        .ok();
    }
}

#[tokio::test]
async fn bad_input_is_refused_before_any_api_call() {
    common::moto();
    // Nothing listens on this endpoint: reaching the API would be a connection error, not these messages.
    let b = AwsBackend::connect(&common::config_for("http://127.0.0.1:9")).await;
    type Mutate = Box<dyn Fn(&mut RdsInstanceSpec)>;
    let cases: Vec<(Mutate, &str)> = vec![
        (
            Box::new(|r| r.spec.name = "Bad--name-".into()),
            "name: \"Bad--name-\" is not a valid RDS instance identifier",
        ),
        (
            Box::new(|r| r.spec.name = "9lives".into()),
            "name: \"9lives\" is not a valid RDS instance identifier",
        ),
        (
            Box::new(|r| r.aws.allocated_storage_gb = 5),
            "allocated_storage_gb: 5 GiB is outside 20-65536 GiB",
        ),
        (
            Box::new(|r| r.spec.instance_class = "large".into()),
            "instance_class: \"large\" is not an RDS instance class",
        ),
        (
            Box::new(|r| r.spec.engine = "oracle-ee".into()),
            "engine: \"oracle-ee\" is not supported",
        ),
        (
            Box::new(|r| r.spec.master_username = "admin".into()),
            "master_username: \"admin\" is reserved by RDS",
        ),
        (
            Box::new(|r| {
                r.spec
                    .parameters
                    .insert("rds.force_ssl".into(), "0".into())
                    .map(|_| ())
                    .unwrap_or(())
            }),
            "parameters.rds.force_ssl: TLS is required",
        ),
    ];
    for (mutate, want) in cases {
        let mut r = request("valid-name", "postgres");
        mutate(&mut r);
        let got = b
            .create_instance(&r, None)
            .await
            .err()
            .map(|f| f.error.to_string())
            .unwrap_or_default();
        assert!(got.starts_with(want), "want {want:?}, got {got:?}");
    }
}

#[tokio::test]
async fn parameter_group_forces_tls_and_tracks_user_parameters() {
    let b = common::backend().await;
    for (engine, family, tls_key) in [
        ("postgres", "postgres16", "rds.force_ssl"),
        ("mysql", "mysql8.0", "require_secure_transport"),
    ] {
        let name = common::unique(&format!("pg-{engine}"));
        let user = BTreeMap::from([("max_connections".to_string(), "200".to_string())]);
        let params =
            effective_parameters(engine, "tier-1", "1.2", &user).unwrap_or_else(|e| panic!("{e}"));
        let spec = ParameterGroupSpec {
            name: name.clone(),
            family: family.into(),
            engine: engine.into(),
            description: "test".into(),
            parameters: params.clone(),
            tags: BTreeMap::from([("team".to_string(), "db".to_string())]),
        };
        let g = b
            .ensure_parameter_group(&spec)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.family, family);
        assert_eq!(g.parameters, params);
        assert_eq!(g.parameters.get(tls_key).map(String::as_str), Some("1"));
        // Changing a value modifies it in place. (Removing one calls ResetDBParameterGroup, which moto 5.2.5
        // does not implement, so that path is not covered here.)
        let mut other = spec.clone();
        other
            .parameters
            .insert("max_connections".into(), "300".into());
        let g = b
            .ensure_parameter_group(&other)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.parameters, other.parameters);
        assert_eq!(g.tags.get("team").map(String::as_str), Some("db"));
        b.delete_parameter_group(&name)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(b.read_parameter_group(&name).await.ok().flatten().is_none());
    }
}

#[tokio::test]
async fn trait_create_and_update_keep_rds_options() {
    let b = common::backend().await;
    let name = common::unique("trait");
    let spec = request(&name, "postgres").spec;
    let info = b.create(&spec).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.spec, with_tier_tag(&spec));
    let mut bigger = spec.clone();
    bigger.instance_class = "db.t4g.medium".into();
    let out = b
        .update(&name, &bigger)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.restarted, "a class change restarts");
    assert_eq!(out.info.spec, with_tier_tag(&bigger));
    let before = b.list_backups(&name).await.map(|v| v.len()).unwrap_or(0);
    let bk = b.backup(&name).await.unwrap_or_else(|e| panic!("{e}"));
    let after = b.list_backups(&name).await.unwrap_or_default();
    assert_eq!(after.len(), before + 1);
    assert!(after.iter().any(|x| x.id == bk.id));
    let _ = Duration::from_secs(0);
    b.delete(
        &name,
        &DeleteOptions {
            skip_final_backup: true,
            final_backup_name: None,
            timeout: None,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}
