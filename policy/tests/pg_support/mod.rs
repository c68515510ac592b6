//! A real PostgreSQL 15 for a test binary: started as the `postgres` OS user (PostgreSQL refuses to run as root),
//! unix socket in a temp dir, free port; stopped when the [`Server`] is dropped, even when an assertion fails.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster; `conn` is a key=value connection string for the `postgres` superuser.
pub struct Server {
    bin: PathBuf,
    data: PathBuf,
    pub conn: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .status();
    }
}

/// The directory of `initdb` and `pg_ctl` (Debian's PostgreSQL 15, else whatever is on PATH).
pub fn pg_bin() -> PathBuf {
    let debian = PathBuf::from("/usr/lib/postgresql/15/bin");
    if debian.join("initdb").exists() {
        return debian;
    }
    let out = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .unwrap();
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !p.is_empty(),
        "PostgreSQL server binaries not found (apt-get install postgresql-15)"
    );
    Path::new(&p).parent().unwrap().to_path_buf()
}

/// Runs `cmd`, failing the test with its output when it fails.
pub fn run_as_postgres(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh cluster, started; one per test binary.
pub fn start() -> Server {
    let bin = pg_bin();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    let sock = root.join("sock");
    std::fs::create_dir_all(&sock).unwrap();
    run_as_postgres(Command::new("chmod").arg("755").arg(&root));
    run_as_postgres(Command::new("chown").arg("postgres:").arg(&root).arg(&sock));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server {
        bin: bin.clone(),
        data: data.clone(),
        conn: format!(
            "host={} port={port} user=postgres dbname=postgres",
            sock.display()
        ),
        _dir: dir,
    };
    run_as_postgres(
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data),
    );
    run_as_postgres(
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(root.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=''",
                sock.display()
            ))
            .args(["-w", "start"]),
    );
    server
}
