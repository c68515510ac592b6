//! The local backend against the machine's real PostgreSQL: create, write rows, back up, restore with matching
//! checksums, point-in-time recovery, corrupted backups failing loudly, in-place and restart-requiring updates,
//! stop -> drift, deletion protection, destroy with a final backup, and a deleted data directory.
//!
//! The machine has 2 cores, so one test walks the whole lifecycle of one database (plus one short-lived second
//! database) instead of starting a cluster per case. A guard stops every server under the test directory even
//! when an assertion fails, so nothing is left running.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use provider::backend::local::pg::PgBinaries;
use provider::backend::local::LocalBackend;
use provider::backend::{
    BackendError, DatabaseBackend, DatabaseSpec, DatabaseStatus, DeleteOptions, RestoreTarget,
};
use provider::config::ConfigEnv;

/// Where to find PostgreSQL, from this process's environment as the provider reads it.
fn pg_env() -> provider::backend::local::pg::PgEnv {
    ConfigEnv::from_process().pg
}

/// Stops every PostgreSQL server whose data directory lies under `root` when dropped.
struct StopAll {
    root: PathBuf,
}

impl Drop for StopAll {
    fn drop(&mut self) {
        for pgdata in find_pgdata(&self.root) {
            if let Ok(b) = PgBinaries::locate(None, &pg_env()) {
                let mut c = std::process::Command::new("runuser");
                if unsafe_is_root() {
                    // Each database's server runs as its own OS user: the owner of its data directory.
                    let owner = std::process::Command::new("stat")
                        .args(["-c", "%U"])
                        .arg(&pgdata)
                        .output()
                        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                        .unwrap_or_else(|_| "postgres".into());
                    c.args(["-u", &owner, "--"]);
                    c.arg(b.tool("pg_ctl"));
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
}

fn unsafe_is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn find_pgdata(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join("postmaster.pid").exists() {
            out.push(d.clone());
        }
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    stack.push(e.path());
                }
            }
        }
    }
    out
}

fn spec(name: &str) -> DatabaseSpec {
    DatabaseSpec {
        name: name.into(),
        engine: "postgres".into(),
        engine_version: None,
        tier: "tier-3".into(),
        instance_class: "db.t4g.micro".into(),
        db_name: "app".into(),
        master_username: "app_admin".into(),
        multi_az: false,
        backup_retention_days: 1,
        point_in_time_recovery: true,
        deletion_protection: false,
        tls_required: true,
        min_tls_version: "1.2".into(),
        parameters: BTreeMap::new(),
        tags: BTreeMap::from([("owner".to_string(), "tests".to_string())]),
        instance: None,
        timeouts: Default::default(),
    }
}

async fn checksum(client: &tokio_postgres::Client) -> (i64, String) {
    let row = client
        .query_one("SELECT count(*), coalesce(md5(string_agg(id::text || ':' || v, ',' ORDER BY id)), '') FROM items", &[])
        .await
        .expect("checksum query");
    (row.get(0), row.get(1))
}

fn psql(bins: &PgBinaries, password: &str, uri: &str, sql: &str) -> std::process::Output {
    std::process::Command::new(bins.tool("psql"))
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5")
        .args(["-X", "-A", "-t", "-c", sql, uri])
        .output()
        .expect("run psql")
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Flips bytes across the first pages of a file, so whatever records or blocks live there are damaged.
fn corrupt(path: &Path) {
    let mut data = std::fs::read(path).expect("read file to corrupt");
    let pages = (data.len() / 8192).clamp(1, 256);
    for p in 0..pages {
        for off in [100usize, 1000, 3000, 6000] {
            let i = p * 8192 + off;
            if i < data.len() {
                data[i] ^= 0xff;
            }
        }
    }
    std::fs::write(path, data).expect("write corrupted file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_backend_lifecycle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The server runs as an unprivileged user when the tests run as root: let it reach the directory.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod tempdir");
    let data_dir = tmp.path().join("data");
    let _guard = StopAll {
        root: tmp.path().to_path_buf(),
    };
    let backend = LocalBackend::new(&data_dir).with_pg_env(pg_env());
    let bins = PgBinaries::locate(None, &pg_env()).expect("PostgreSQL installed");

    // --- create ---
    let s = spec("orders");
    let info = backend.create(&s).await.expect("create");
    assert_eq!(info.status, DatabaseStatus::Available);
    assert_eq!(info.endpoint, "127.0.0.1");
    assert!(
        port_open(info.port),
        "server listens on 127.0.0.1:{}",
        info.port
    );
    assert_eq!(
        info.connection_string,
        format!(
            "postgresql://app_admin@127.0.0.1:{}/app?sslmode=require",
            info.port
        )
    );
    assert!(info.engine_version_actual.starts_with(&bins.major));
    let secret = PathBuf::from(&info.master_user_secret);
    let mode = std::fs::metadata(&secret)
        .expect("secret file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "master password file is private");
    let password = std::fs::read_to_string(&secret)
        .expect("read secret")
        .trim()
        .to_string();
    assert!(!info.connection_string.contains(&password));
    let again = backend.create(&s).await.unwrap_err();
    assert!(
        matches!(again, BackendError::AlreadyExists { .. }),
        "{again}"
    );
    assert!(again.to_string().contains("terraform import"), "{again}");

    // TLS is required over TCP, checksums and scram are on.
    let out = psql(
        &bins,
        &password,
        &info.connection_string,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    assert!(
        out.status.success(),
        "psql over TLS: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "t");
    let plain = info
        .connection_string
        .replace("sslmode=require", "sslmode=disable");
    let out = psql(&bins, &password, &plain, "SELECT 1");
    assert!(!out.status.success(), "plain TCP must be refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no encryption"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = psql(&bins, "wrong-password", &info.connection_string, "SELECT 1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("password authentication failed"));

    let client = backend
        .connection("orders")
        .await
        .expect("conn")
        .connect()
        .await
        .expect("connect");
    let settings = client
        .query_one("SELECT current_setting('data_checksums'), current_setting('password_encryption'), current_setting('archive_mode')", &[])
        .await
        .expect("settings");
    assert_eq!(
        (
            settings.get::<_, String>(0),
            settings.get::<_, String>(1),
            settings.get::<_, String>(2)
        ),
        ("on".into(), "scram-sha-256".into(), "on".into())
    );

    // --- write rows, restore latest: checksums match ---
    client
        .batch_execute("CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 1000) g")
        .await
        .expect("seed");
    let source = checksum(&client).await;
    assert_eq!(source.0, 1000);
    let before_restore = Utc::now();
    let restored = backend
        .restore("orders", RestoreTarget::Latest)
        .await
        .expect("restore latest");
    assert!(restored.recovery_point >= before_restore && restored.recovery_point <= Utc::now());
    let rc = restored
        .connection
        .connect()
        .await
        .expect("connect to restored copy");
    assert_eq!(
        checksum(&rc).await,
        source,
        "restored data equals the source"
    );
    let integrity = backend.check_integrity(&restored).await.expect("amcheck");
    assert!(integrity.ok, "pg_amcheck: {}", integrity.output);
    drop(rc);
    backend.discard_restored(&restored).await.expect("discard");
    assert!(
        !Path::new(&restored.location).exists(),
        "scratch copy removed"
    );

    // --- point in time: rows written after the target are not in the copy ---
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let t1 = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    client
        .batch_execute("INSERT INTO items SELECT g, 'late' FROM generate_series(1001, 1500) g")
        .await
        .expect("more rows");
    let pitr = backend
        .restore("orders", RestoreTarget::PointInTime(t1))
        .await
        .expect("restore to point in time");
    let rc = pitr.connection.connect().await.expect("connect pitr");
    assert_eq!(checksum(&rc).await, source, "copy holds the data as of t1");
    drop(rc);
    backend.discard_restored(&pitr).await.expect("discard pitr");
    let future = backend
        .restore(
            "orders",
            RestoreTarget::PointInTime(Utc::now() + chrono::Duration::hours(1)),
        )
        .await
        .unwrap_err();
    assert!(future.to_string().contains("in the future"), "{future}");

    // --- update in place (no restart), then a restart-requiring change ---
    let mut s2 = s.clone();
    s2.tags.insert("team".into(), "data".into());
    s2.parameters.insert("work_mem".into(), "8MB".into());
    assert!(backend.restart_required(&s, &s2).is_empty());
    let out = backend
        .update("orders", &s2)
        .await
        .expect("update tags and work_mem");
    assert!(!out.restarted && !out.started);
    assert_eq!(
        out.info.spec.tags.get("team").map(String::as_str),
        Some("data")
    );
    let c2 = backend
        .connection("orders")
        .await
        .expect("conn")
        .connect()
        .await
        .expect("connect");
    let wm: String = c2
        .query_one("SHOW work_mem", &[])
        .await
        .expect("work_mem")
        .get(0);
    assert_eq!(wm, "8MB");

    let mut s3 = s2.clone();
    s3.instance_class = "db.t4g.medium".into();
    let why = backend.restart_required(&s2, &s3);
    assert_eq!(why.len(), 1, "{why:?}");
    let out = backend
        .update("orders", &s3)
        .await
        .expect("update instance class");
    assert!(out.restarted, "shared_buffers needs a restart");
    let c3 = backend
        .connection("orders")
        .await
        .expect("conn")
        .connect()
        .await
        .expect("connect");
    let sb: String = c3
        .query_one("SHOW shared_buffers", &[])
        .await
        .expect("shared_buffers")
        .get(0);
    assert_eq!(sb, "128MB");

    // A value PostgreSQL rejects names the parameter and leaves the server as it was.
    let mut bad = s3.clone();
    bad.parameters.insert("work_mem".into(), "lots".into());
    let e = backend
        .update("orders", &bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("parameters.work_mem"), "{e}");
    let wm: String = c3
        .query_one("SHOW work_mem", &[])
        .await
        .expect("still up")
        .get(0);
    assert_eq!(wm, "8MB");
    drop((client, c2, c3));

    // --- stop -> drift, apply starts it ---
    backend.stop("orders").await.expect("stop");
    let read = backend
        .read("orders")
        .await
        .expect("read")
        .expect("still exists");
    assert_eq!(read.status, DatabaseStatus::Stopped);
    assert!(!port_open(read.port));
    let out = backend
        .update("orders", &s3)
        .await
        .expect("apply starts it");
    assert!(out.started);
    assert_eq!(out.info.status, DatabaseStatus::Available);

    // --- deletion protection ---
    let mut protected = s3.clone();
    protected.deletion_protection = true;
    backend.update("orders", &protected).await.expect("protect");
    let e = backend
        .delete("orders", &DeleteOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("deletion_protection = true") && e.contains("set deletion_protection = false"),
        "{e}"
    );
    backend.update("orders", &s3).await.expect("unprotect");

    // --- corrupted backups make restores fail loudly ---
    let layout_root = data_dir.join("databases/orders");
    let backups = backend.list_backups("orders").await.expect("list backups");
    let base = backups.last().expect("a base backup").clone();
    let mut wal: Vec<PathBuf> = std::fs::read_dir(layout_root.join("wal-archive"))
        .expect("archive")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            n.len() == 24
                && base
                    .start_wal
                    .as_ref()
                    .is_some_and(|s| n.as_str() > s.as_str())
        })
        .collect();
    wal.sort();
    let first_after_backup = wal
        .first()
        .expect("archived WAL after the base backup")
        .clone();
    let pristine = std::fs::read(&first_after_backup).expect("read wal");
    corrupt(&first_after_backup);
    let e = backend
        .restore("orders", RestoreTarget::Latest)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("restoring \"orders\"") && e.contains("failed"),
        "{e}"
    );
    assert!(
        e.to_lowercase().contains("recovery"),
        "the server log explains the failed recovery: {e}"
    );
    std::fs::write(&first_after_backup, pristine).expect("repair wal");

    let tarball = PathBuf::from(&base.location).join("base.tar.gz");
    let pristine = std::fs::read(&tarball).expect("read base backup");
    corrupt(&tarball);
    let e = backend
        .restore("orders", RestoreTarget::Latest)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unpacking base backup"), "{e}");
    std::fs::write(&tarball, pristine).expect("repair base backup");
    assert!(
        find_pgdata(&data_dir.join("restores")).is_empty(),
        "failed restores leave no server running"
    );

    // --- destroy leaves a final backup ---
    let port = backend
        .read("orders")
        .await
        .expect("read")
        .expect("exists")
        .port;
    let out = backend
        .delete("orders", &DeleteOptions::default())
        .await
        .expect("delete");
    let fb = out.final_backup.expect("final backup taken");
    let fb_dir = PathBuf::from(&fb.location);
    assert!(fb_dir.starts_with(data_dir.join("final-backups")));
    for f in ["base.tar.gz", "metadata.json", "backup.json"] {
        assert!(fb_dir.join(f).exists(), "final backup has {f}");
    }
    assert!(
        !fb_dir.join("master-password").exists(),
        "a final backup holds no copy of the master password"
    );
    assert!(!layout_root.exists());
    assert!(!port_open(port), "server stopped");
    assert!(backend.read("orders").await.expect("read").is_none());

    // --- a database whose directory was deleted is gone (removed from state) ---
    let mut small = spec("scratchpad");
    small.backup_retention_days = 0;
    let info = backend.create(&small).await.expect("create second db");
    backend.stop("scratchpad").await.expect("stop");
    let small_dir = info.data_dir.expect("data dir");
    let small_uid = std::os::unix::fs::MetadataExt::uid(
        &std::fs::metadata(PathBuf::from(&small_dir).join("pgdata")).expect("pgdata"),
    );
    std::fs::remove_dir_all(&small_dir).expect("rm data dir");
    assert!(backend.read("scratchpad").await.expect("read").is_none());
    let out = backend
        .delete("scratchpad", &DeleteOptions::default())
        .await
        .expect("deleting a vanished db is a no-op");
    assert!(out.final_backup.is_none());
    // Its own OS user (root only: otherwise servers run as the caller) goes with it, directory or not.
    let me =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc/self"));
    if small_uid != me {
        let passwd = std::fs::read_to_string("/etc/passwd").expect("passwd");
        assert!(
            !passwd
                .lines()
                .any(|l| l.split(':').nth(2) == Some(small_uid.to_string().as_str())),
            "the vanished database's OS user (uid {small_uid}) was left behind"
        );
    }

    assert!(find_pgdata(tmp.path()).is_empty(), "no server left running");
}
