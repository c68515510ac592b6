//! Helpers for tests of the local backend: running PostgreSQL tools as the OS user that owns a cluster (each
//! database's server runs as its own user when tests run as root), stopping leftover servers, finding the
//! postmasters running under a directory, and psql as the master user.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether this process runs as root (then servers run as other OS users).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// The newest installed PostgreSQL's bin directory (`/usr/lib/postgresql/N/bin`), else `PATH` lookups.
pub fn pg_bindir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.pop()
}

/// The path of a PostgreSQL tool.
pub fn pg_tool(name: &str) -> PathBuf {
    pg_bindir()
        .map(|d| d.join(name))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The name of the OS user owning `path`.
pub fn owner_name(path: &Path) -> Option<String> {
    let uid = std::fs::metadata(path).ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[0].to_string())
    })
}

/// A command running `program` as the owner of `dir` when root (PostgreSQL refuses root), else as this user.
pub fn as_owner_of(dir: &Path, program: &Path) -> Command {
    match owner_name(dir).filter(|_| is_root()) {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// `pg_ctl stop -m MODE` for the cluster in `pgdata`, as its owner.
pub fn stop_cluster(pgdata: &Path, mode: &str) -> Result<(), String> {
    let out = as_owner_of(pgdata, &pg_tool("pg_ctl"))
        .arg("stop")
        .arg("-D")
        .arg(pgdata)
        .args(["-m", mode, "-w"])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The data directories of PostgreSQL postmasters running now whose `-D` lies under `root`.
pub fn postmasters_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).to_string())
            .collect();
        if !args.first().is_some_and(|a| a.ends_with("/postgres")) {
            continue;
        }
        if let Some(i) = args.iter().position(|a| a == "-D") {
            if let Some(d) = args.get(i + 1) {
                let d = PathBuf::from(d);
                if d.starts_with(root) {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// The per-database OS users (`dbp_*`) on this machine: what a test that must not leave one behind compares.
pub fn dbp_os_users() -> Vec<String> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter(|u| u.starts_with("dbp_"))
        .map(str::to_string)
        .collect()
}

/// Stops every server running under `root` when dropped (a failed test must not leave one running).
pub struct StopServersUnder(pub PathBuf);

impl Drop for StopServersUnder {
    fn drop(&mut self) {
        for pgdata in postmasters_under(&self.0) {
            let _ = stop_cluster(&pgdata, "immediate");
        }
    }
}

/// A temp dir with a `data` directory in it that a server's OS user can reach (mode 0755 on both).
pub fn reachable_data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    let d = tmp.path().join("data");
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    (tmp, d)
}

/// Runs SQL through psql against `uri` (a libpq URI without password) with `password`; stdout trimmed.
pub fn psql(uri: &str, password: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(pg_tool("psql"))
        .env("PGPASSWORD", password.trim())
        .env("PGCONNECT_TIMEOUT", "10")
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, uri])
        .output()
        .map_err(|e| format!("run psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The provider block of the local access tests: the local backend in `data_dir`, the audit log in it when
/// `audit_log`, and default tags carrying the required cost_center and data_classification (each test's database
/// adds its owner), so the guardrails pass and the test is about what it names.
pub fn local_provider_block(data_dir: &Path, audit_log: bool) -> String {
    let dd = data_dir.display();
    let audit = if audit_log {
        format!("  policy {{\n    audit_log = \"{dd}/audit.jsonl\"\n  }}\n")
    } else {
        String::new()
    };
    format!(
        "provider \"dbplatform\" {{\n  backend = \"local\"\n  local {{\n    data_dir = \"{dd}\"\n  }}\n{audit}  default_tags = {{\n    cost_center         = \"cc-acc\"\n    data_classification = \"internal\"\n  }}\n}}\n"
    )
}
