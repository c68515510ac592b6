//! Restore time (RTO) of the local backend for a ~1 GiB database: an ignored test, run on demand with
//! `cargo test -p terraform-provider-dbplatform --test local_backend_restore_timing -- --ignored --nocapture`.
//! It prints the size, base backup seconds and restore seconds, and checks the restored data matches.

use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use provider::backend::local::LocalBackend;
use provider::backend::{DatabaseBackend, DatabaseSpec, DeleteOptions, RestoreTarget};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "loads ~1 GiB; run on demand for restore-time figures"]
async fn restore_seconds_for_one_gib() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let backend = LocalBackend::new(tmp.path().join("data"))
        .with_pg_env(provider::config::ConfigEnv::from_process().pg);
    let spec = DatabaseSpec {
        name: "big".into(),
        engine: "postgres".into(),
        engine_version: None,
        tier: "tier-3".into(),
        instance_class: "db.t4g.large".into(),
        db_name: "big".into(),
        master_username: "big_admin".into(),
        multi_az: false,
        backup_retention_days: 1,
        point_in_time_recovery: true,
        deletion_protection: false,
        tls_required: true,
        min_tls_version: "1.2".into(),
        parameters: Default::default(),
        tags: Default::default(),
        instance: None,
        timeouts: Default::default(),
    };
    backend.create(&spec).await.expect("create");
    let result = async {
        let c = backend.connection("big").await?.connect().await?;
        let t = Instant::now();
        c.batch_execute(
            "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 7) AS v FROM generate_series(1, 3600000) g",
        )
        .await
        .map_err(|e| provider::backend::BackendError::Sql { name: "big".into(), message: e.to_string() })?;
        let size: String = c
            .query_one("SELECT pg_size_pretty(pg_database_size('big'))", &[])
            .await
            .map_err(|e| provider::backend::BackendError::Sql { name: "big".into(), message: e.to_string() })?
            .get(0);
        println!("loaded {size} in {:.1} s", t.elapsed().as_secs_f64());
        let q = "SELECT count(*)::text || ':' || md5(string_agg(v, '' ORDER BY id)) FROM big";
        // First from the base backup taken at create: the whole load is replayed from the WAL archive.
        let t = Instant::now();
        let r = backend.restore("big", RestoreTarget::Latest).await?;
        let replay_seconds = t.elapsed().as_secs_f64();
        let rc = r.connection.connect().await?;
        let n: i64 = rc
            .query_one("SELECT count(*) FROM big", &[])
            .await
            .map_err(|e| provider::backend::BackendError::Sql { name: "big".into(), message: e.to_string() })?
            .get(0);
        println!("restore_seconds = {replay_seconds:.1} from the create-time base backup + {size} of WAL replay ({n} rows)");
        assert_eq!(n, 3_600_000);
        drop(rc);
        backend.discard_restored(&r).await?;
        let t = Instant::now();
        let b = backend.backup("big").await?;
        println!("base backup {} in {:.1} s", b.id, t.elapsed().as_secs_f64());
        let t = Instant::now();
        let r = backend.restore("big", RestoreTarget::Latest).await?;
        let restore_seconds = t.elapsed().as_secs_f64();
        let src: String = c.query_one(q, &[]).await.map_err(|e| provider::backend::BackendError::Sql { name: "big".into(), message: e.to_string() })?.get(0);
        let rc = r.connection.connect().await?;
        let dst: String = rc.query_one(q, &[]).await.map_err(|e| provider::backend::BackendError::Sql { name: "big".into(), message: e.to_string() })?.get(0);
        println!("restore_seconds = {restore_seconds:.1} from a fresh base backup (database {size}); source {src} restored {dst}");
        assert_eq!(src, dst);
        drop(rc);
        backend.discard_restored(&r).await?;
        Ok::<(), provider::backend::BackendError>(())
    }
    .await;
    backend
        .delete(
            "big",
            &DeleteOptions {
                skip_final_backup: true,
                final_backup_name: None,
                timeout: None,
            },
        )
        .await
        .expect("delete");
    result.expect("timing run");
}
