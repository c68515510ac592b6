//! Isolation on the local backend, against the machine's real PostgreSQL: the application's master user owns its
//! database and nothing more (no program execution, no server files, no superuser), the provider's admin role has
//! no TCP login, and (when run as root) one database's server OS user cannot read another database's directory.
//! Also: an interrupted create is neither imported nor left behind, and a foreign directory is never touched.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use provider::backend::local::identity::ADMIN_ROLE;
use provider::backend::local::pg::PgBinaries;
use provider::backend::local::LocalBackend;
use provider::backend::{DatabaseBackend, DatabaseSpec, DeleteOptions};
use provider::config::ConfigEnv;

fn pg_env() -> provider::backend::local::pg::PgEnv {
    ConfigEnv::from_process().pg
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn spec(name: &str) -> DatabaseSpec {
    DatabaseSpec {
        name: name.into(),
        engine: "postgres".into(),
        engine_version: None,
        tier: "tier-3".into(),
        instance_class: "db.t4g.micro".into(),
        db_name: "app".into(),
        master_username: "app_owner".into(),
        multi_az: false,
        backup_retention_days: 0,
        point_in_time_recovery: false,
        deletion_protection: false,
        tls_required: true,
        min_tls_version: "1.2".into(),
        parameters: BTreeMap::new(),
        tags: BTreeMap::new(),
        instance: None,
        timeouts: Default::default(),
    }
}

/// Stops every server under `root` (as the owner of its data directory) when dropped.
struct StopAll(PathBuf);

impl Drop for StopAll {
    fn drop(&mut self) {
        let Ok(b) = PgBinaries::locate(None, &pg_env()) else {
            return;
        };
        let Ok(rd) = std::fs::read_dir(self.0.join("databases")) else {
            return;
        };
        for e in rd.flatten() {
            let pgdata = e.path().join("pgdata");
            if !pgdata.join("postmaster.pid").exists() {
                continue;
            }
            let mut c = std::process::Command::new("runuser");
            if is_root() {
                let owner = owner_name(&pgdata);
                c.args(["-u", &owner, "--"]).arg(b.tool("pg_ctl"));
            } else {
                c = std::process::Command::new(b.tool("pg_ctl"));
            }
            let _ = c
                .arg("stop")
                .arg("-D")
                .arg(&pgdata)
                .args(["-m", "immediate", "-s"])
                .output();
        }
    }
}

fn owner_name(path: &Path) -> String {
    let out = std::process::Command::new("stat")
        .args(["-c", "%U"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let d = tmp.path().join("data");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    (tmp, d)
}

async fn refused(client: &tokio_postgres::Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql:?} was allowed for the master user"),
        Err(e) => e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_user_owns_its_database_and_nothing_more() {
    let (_tmp, dd) = data_dir();
    let _stop = StopAll(dd.clone());
    let backend = LocalBackend::new(&dd).with_pg_env(pg_env());
    let a = backend.create(&spec("iso-a")).await.expect("create a");
    let b = backend.create(&spec("iso-b")).await.expect("create b");

    let conn = backend.connection("iso-a").await.expect("connection");
    let client = conn.connect().await.expect("master user connects");
    client
        .batch_execute(
            "CREATE TABLE t (id int); INSERT INTO t VALUES (1); CREATE TEMP TABLE x (i int)",
        )
        .await
        .expect("the owner creates tables in its database");
    let row = client
        .query_one(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap();
    for i in 0..5 {
        assert!(!row.get::<_, bool>(i), "master user attribute {i} is set");
    }
    let member: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
             WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user) \
             AND r.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(member, 0, "no server program or file roles");
    let owner: String = client
        .query_one(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner, "app_owner");

    let e = refused(&client, "COPY t FROM PROGRAM 'id'").await;
    assert!(
        e.contains("permission denied") || e.contains("must be superuser"),
        "{e}"
    );
    let e = refused(&client, "SELECT pg_read_file('/etc/hostname')").await;
    assert!(e.contains("permission denied"), "{e}");
    let e = refused(&client, "ALTER ROLE app_owner SUPERUSER").await;
    assert!(
        e.contains("permission denied") || e.contains("must be superuser"),
        "{e}"
    );
    let e = refused(&client, &format!("SET ROLE {ADMIN_ROLE}")).await;
    assert!(e.contains("permission denied"), "{e}");
    let e = refused(&client, "ALTER SYSTEM SET work_mem = '1GB'").await;
    assert!(
        e.contains("permission denied") || e.contains("must be superuser"),
        "{e}"
    );

    // The admin role has no TCP login, with or without a password.
    let mut tcp = conn.clone();
    tcp.host = "127.0.0.1".into();
    tcp.user = ADMIN_ROLE.into();
    tcp.password = String::new();
    let err = tcp.connect().await.expect_err("admin over TCP is refused");
    assert!(err.to_string().contains("pg_hba.conf"), "{err}");

    // One database's server OS user cannot read another database's directory (root only: servers run as
    // distinct users); nor the other's password file.
    if is_root() {
        let (da, db) = (a.data_dir.clone().unwrap(), b.data_dir.clone().unwrap());
        let ua = std::fs::metadata(da.join("pgdata")).unwrap().uid();
        let ub = std::fs::metadata(db.join("pgdata")).unwrap().uid();
        assert_ne!(ua, ub, "each database's server runs as its own OS user");
        assert_ne!(ua, 0);
        let user_a = owner_name(&da.join("pgdata"));
        assert!(user_a.starts_with("dbp_"), "{user_a}");
        for target in [
            db.clone(),
            db.join("pgdata"),
            db.join("wal-archive"),
            db.join("base-backups"),
        ] {
            let out = std::process::Command::new("runuser")
                .args(["-u", &user_a, "--", "ls"])
                .arg(&target)
                .output()
                .unwrap();
            assert!(
                !out.status.success(),
                "{user_a} could list {}",
                target.display()
            );
        }
        for file in ["master-password", "metadata.json", "pgdata/PG_VERSION"] {
            let out = std::process::Command::new("runuser")
                .args(["-u", &user_a, "--", "cat"])
                .arg(db.join(file))
                .output()
                .unwrap();
            assert!(!out.status.success(), "{user_a} could read b's {file}");
        }
    }

    let users: Vec<String> = [&a, &b]
        .iter()
        .filter_map(|i| i.data_dir.as_ref())
        .map(|d| owner_name(&d.join("pgdata")))
        .collect();
    for n in ["iso-a", "iso-b"] {
        backend
            .delete(
                n,
                &DeleteOptions {
                    skip_final_backup: true,
                    ..Default::default()
                },
            )
            .await
            .expect("delete");
    }
    if is_root() {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
        for u in users {
            assert!(
                !passwd.lines().any(|l| l.starts_with(&format!("{u}:"))),
                "OS user {u} outlived its database"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_create_is_redone_and_foreign_directories_are_left_alone() {
    let (_tmp, dd) = data_dir();
    let _stop = StopAll(dd.clone());
    let backend = LocalBackend::new(&dd).with_pg_env(pg_env());
    let info = backend.create(&spec("half")).await.expect("create");
    let root = info.data_dir.clone().unwrap();

    // Turn it into what a provider killed after the server started leaves: phase "creating", a dead process.
    let meta_path = root.join("metadata.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["phase"] = "creating".into();
    meta["step"] = "start".into();
    meta["owner_process"] = serde_json::json!([999_999_u32, 1_u64]);
    std::fs::write(&meta_path, meta.to_string()).unwrap();

    assert!(
        backend.read("half").await.unwrap().is_none(),
        "not a database yet"
    );
    let e = backend.import("half").await.unwrap_err().to_string();
    assert!(
        e.contains("not completely created")
            && e.contains("missing: the master user, the application database")
            && e.contains("run terraform apply to finish creating it"),
        "{e}"
    );
    let again = backend
        .create(&spec("half"))
        .await
        .expect("apply redoes the create");
    let client = backend
        .connection("half")
        .await
        .unwrap()
        .connect()
        .await
        .expect("the redone database accepts its master user");
    client.batch_execute("SELECT 1").await.unwrap();
    drop(client);
    assert_ne!(again.port, 0);
    // A complete database: create says "already exists", and import succeeds.
    let exists = backend.create(&spec("half")).await.unwrap_err().to_string();
    assert!(exists.contains("terraform import"), "{exists}");
    backend
        .import("half")
        .await
        .expect("import of a complete database");
    backend
        .delete("half", &DeleteOptions::default())
        .await
        .expect("delete");
    let finals: Vec<PathBuf> = std::fs::read_dir(dd.join("final-backups"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(finals.len(), 1, "{finals:?}");
    assert!(finals[0].join("base.tar.gz").exists());
    assert!(
        !finals[0].join("master-password").exists(),
        "no password copy in a final backup"
    );

    // A directory without metadata is not ours: refused by create, import and delete, and left as it was.
    let foreign = dd.join("databases/foreign");
    std::fs::create_dir_all(foreign.join("stuff")).unwrap();
    for e in [
        backend
            .create(&spec("foreign"))
            .await
            .unwrap_err()
            .to_string(),
        backend.import("foreign").await.unwrap_err().to_string(),
        backend
            .delete("foreign", &DeleteOptions::default())
            .await
            .unwrap_err()
            .to_string(),
    ] {
        assert!(e.contains("no metadata.json"), "{e}");
    }
    assert!(foreign.join("stuff").exists());
}
