//! Finding this machine's PostgreSQL server binaries and running them, as an unprivileged OS user when the
//! provider runs as root (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::LocalPgError;

/// Environment variable naming a directory with `initdb`, `pg_ctl` and `postgres`, overriding the search.
pub const BINDIR_ENV: &str = "DBPLATFORM_PG_BINDIR";
/// Environment variable naming the OS user that runs the servers when the provider runs as root.
pub const OS_USER_ENV: &str = "DBPLATFORM_PG_OS_USER";

/// Where to look for PostgreSQL and which OS user runs it: [`BINDIR_ENV`], `PATH` and [`OS_USER_ENV`] as
/// the caller read them ([`PgEnv::from_process`] at the provider's and dbpolicy's edge; nothing else in this
/// crate reads an environment variable, so tests pass values in). The default searches only the standard
/// install directories and runs servers as `postgres` when root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PgEnv {
    /// [`BINDIR_ENV`]: a directory with `initdb`, `pg_ctl` and `postgres`, searched first.
    pub bindir: Option<PathBuf>,
    /// `PATH`: directories whose `initdb` leads to an installation.
    pub path: Option<std::ffi::OsString>,
    /// [`OS_USER_ENV`]: the OS user servers run as when the provider runs as root.
    pub os_user: Option<String>,
}

impl PgEnv {
    /// The three variables of the running process: the one place the provider and dbpolicy read them.
    pub fn from_process() -> Self {
        PgEnv {
            bindir: std::env::var_os(BINDIR_ENV).map(PathBuf::from),
            path: std::env::var_os("PATH"),
            os_user: std::env::var(OS_USER_ENV).ok(),
        }
    }
}

/// One installed PostgreSQL version's binaries: found once, so every command of a cluster runs the same version.
#[derive(Debug, Clone, PartialEq)]
pub struct PgBinaries {
    /// The directory holding `initdb`, `pg_ctl`, `postgres` and the other tools of this version.
    pub bindir: PathBuf,
    /// Major version ("15").
    pub major: String,
    /// Full version ("15.13").
    pub version: String,
}

impl PgBinaries {
    /// The path of one tool in this installation.
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }

    /// Whether a tool exists in this installation (pg_amcheck is optional).
    pub fn has(&self, name: &str) -> bool {
        self.tool(name).is_file()
    }

    /// Finds the server binaries for `major` (or the newest installed when `None`), searching as `env` says.
    pub fn locate(major: Option<&str>, env: &PgEnv) -> Result<PgBinaries, LocalPgError> {
        let mut searched = Vec::new();
        let mut found = Vec::new();
        for dir in candidate_dirs(env) {
            searched.push(dir.display().to_string());
            if let Some(b) = probe(&dir) {
                if !found.iter().any(|f: &PgBinaries| f.bindir == b.bindir) {
                    found.push(b);
                }
            }
        }
        found.sort_by_key(|b| std::cmp::Reverse(b.major.parse::<u32>().unwrap_or(0)));
        let pick = match major {
            Some(m) => found.iter().find(|b| b.major == m),
            None => found.first(),
        };
        match pick {
            Some(b) => Ok(b.clone()),
            None => {
                let have: Vec<String> = found
                    .iter()
                    .map(|b| format!("{} in {}", b.version, b.bindir.display()))
                    .collect();
                let (tool, hint) = match major {
                    Some(m) if !found.is_empty() => (
                        format!("PostgreSQL {m} server binaries"),
                        format!(
                            "installed: {}; install PostgreSQL {m} (Debian/Ubuntu: `apt-get install postgresql-{m}`) or set engine_version to an installed major version",
                            have.join(", ")
                        ),
                    ),
                    _ => (
                        "PostgreSQL server binaries (initdb, pg_ctl, postgres)".to_string(),
                        format!(
                            "install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql-{}`, Fedora/RHEL: `dnf install postgresql-server`) or set {BINDIR_ENV} to the directory holding initdb",
                            major.unwrap_or("15")
                        ),
                    ),
                };
                Err(LocalPgError::MissingTool {
                    tool,
                    searched: format!("searched {}", searched.join(", ")),
                    hint,
                })
            }
        }
    }
}

fn candidate_dirs(env: &PgEnv) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = &env.bindir {
        dirs.push(d.clone());
    }
    for root in ["/usr/lib/postgresql", "/usr/local/pgsql"] {
        if let Ok(rd) = std::fs::read_dir(root) {
            let mut v: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect();
            v.sort();
            dirs.extend(v);
        }
    }
    if let Ok(rd) = std::fs::read_dir("/usr") {
        let mut v: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("pgsql-"))
            .map(|e| e.path().join("bin"))
            .collect();
        v.sort();
        dirs.extend(v);
    }
    if let Some(path) = &env.path {
        for d in std::env::split_paths(path) {
            let initdb = d.join("initdb");
            if let Ok(real) = std::fs::canonicalize(&initdb) {
                if let Some(parent) = real.parent() {
                    dirs.push(parent.to_path_buf());
                }
            }
        }
    }
    dirs
}

fn probe(dir: &Path) -> Option<PgBinaries> {
    for t in ["initdb", "pg_ctl", "postgres", "pg_basebackup"] {
        if !dir.join(t).is_file() {
            return None;
        }
    }
    let out = std::process::Command::new(dir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "postgres (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)"
    let version = text.split_whitespace().nth(2)?.to_string();
    let major = version.split('.').next()?.to_string();
    Some(PgBinaries {
        bindir: dir.to_path_buf(),
        major,
        version,
    })
}

/// The OS account the PostgreSQL server processes run as (PostgreSQL refuses root, and one account per database
/// keeps one cluster from reading another's files).
#[derive(Debug, Clone, PartialEq)]
pub struct OsUser {
    /// The login name (`dbp_...`, `postgres`).
    pub name: String,
    /// Its numeric user id, which commands are run with.
    pub uid: u32,
    /// Its primary group id, which commands are run with.
    pub gid: u32,
}

/// The user to run servers as: `None` when the provider is not root (the server runs as the provider's user);
/// otherwise `postgres` (or `$DBPLATFORM_PG_OS_USER`), created as a system user when missing.
pub fn server_user(env: &PgEnv) -> Result<Option<OsUser>, LocalPgError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return Ok(None);
    }
    let name = env
        .os_user
        .clone()
        .unwrap_or_else(|| "postgres".to_string());
    if let Some(u) = lookup_user(&name) {
        return Ok(Some(u));
    }
    // Several providers may add users at once: useradd fails while another holds the lock on /etc/passwd.
    let mut attempt = 0;
    let out = loop {
        let out = std::process::Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", &name])
            .output()
            .map_err(|e| LocalPgError::MissingTool {
                tool: "useradd".into(),
                searched: "PATH".into(),
                hint: format!("PostgreSQL refuses to run as root and OS user {name:?} does not exist; create it ({e})"),
            })?;
        if let Some(u) = lookup_user(&name) {
            return Ok(Some(u));
        }
        attempt += 1;
        if out.status.success() || attempt >= 10 {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    if !out.status.success() {
        return Err(LocalPgError::Command {
            what: format!(
                "creating OS user {name:?} to run PostgreSQL (it refuses to run as root)"
            ),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    lookup_user(&name)
        .map(Some)
        .ok_or_else(|| LocalPgError::Command {
            what: format!("looking up OS user {name:?}"),
            status: "not found after useradd".into(),
            output: String::new(),
        })
}

fn lookup_user(name: &str) -> Option<OsUser> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[0] == name {
            Some(OsUser {
                name: name.to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
            })
        } else {
            None
        }
    })
}

/// Builds a command that runs as `user` (when set), in `/`, with a C locale and no stdin.
pub fn command(program: &Path, user: Option<&OsUser>) -> Command {
    let mut c = Command::new(program);
    if let Some(u) = user {
        c.uid(u.uid).gid(u.gid);
        c.env("HOME", "/tmp")
            .env("USER", &u.name)
            .env("LOGNAME", &u.name);
    }
    c.current_dir("/")
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .stdin(Stdio::null());
    // Own process group: a Ctrl-C in the terminal running terraform must not stop the database servers.
    c.process_group(0);
    // A PostgreSQL server outlives the provider: it must not inherit any descriptor beyond stdin/stdout/stderr
    // (pipes of Terraform or of whatever started it would stay open for as long as the server runs, and a
    // reader of those pipes would wait forever).
    // Nor its signal mask: a caller that takes SIGINT/SIGTERM in a thread of its own (dbpolicy while a scratch
    // copy exists) blocks them, and the block would outlive exec in tar, pg_ctl and the server.
    // SAFETY: the closure only calls fcntl, sigemptyset and sigprocmask, which are async-signal-safe, between
    // fork and exec, on memory of its own.
    unsafe {
        c.pre_exec(|| {
            for fd in 3..4096 {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            Ok(())
        });
    }
    c
}

/// Runs a command to completion; a non-zero exit becomes an error carrying its output.
pub async fn run(cmd: &mut Command, what: &str) -> Result<String, LocalPgError> {
    let out = cmd.output().await.map_err(|e| LocalPgError::Command {
        what: what.to_string(),
        status: "could not start".into(),
        output: e.to_string(),
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    } else {
        let mut output = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if output.is_empty() {
            output = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        Err(LocalPgError::Command {
            what: what.to_string(),
            status: out.status.to_string(),
            output,
        })
    }
}

/// Hands a path to the server user (no-op when not running as root).
pub fn chown(path: &Path, user: Option<&OsUser>) -> Result<(), LocalPgError> {
    if let Some(u) = user {
        std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid))
            .map_err(LocalPgError::io("changing owner of", path))?;
    }
    Ok(())
}

/// Sets Unix permission bits.
pub fn chmod(path: &Path, mode: u32) -> Result<(), LocalPgError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(LocalPgError::io("setting permissions of", path))
}

/// Creates a directory owned by the server user with the given mode.
pub fn server_dir(path: &Path, user: Option<&OsUser>, mode: u32) -> Result<(), LocalPgError> {
    std::fs::create_dir_all(path).map_err(LocalPgError::io("creating directory", path))?;
    chmod(path, mode)?;
    chown(path, user)
}

/// Quotes a value for postgresql.conf (single quotes, embedded quotes doubled).
pub fn conf_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// The last `n` lines of a server log, for error messages.
pub fn log_tail(path: &Path, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(t) => {
            let lines: Vec<&str> = t.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(_) => format!("(no log at {})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_values_are_quoted() {
        assert_eq!(conf_quote("a'b"), "'a''b'");
    }

    #[test]
    fn missing_major_names_the_package() {
        let e = PgBinaries::locate(Some("99"), &PgEnv::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("PostgreSQL 99") || e.contains("postgresql-99"),
            "{e}"
        );
    }
}
