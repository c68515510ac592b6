//! Who is who on a local database: the OS user its server runs as (one per database when the provider is root, so
//! one cluster's server cannot read another's directory), and the administrative role the provider itself uses
//! (peer authentication over the Unix socket only, so it has no password anywhere and no TCP access).

use std::path::Path;

use super::pg::{self, OsUser, PgEnv};
use crate::LocalPgError;

/// The superuser role created by initdb and used only by the provider, over the Unix socket with `peer`
/// authentication mapped from the provider's and the server's OS users. The application's master user is an
/// ordinary role that owns its database.
pub const ADMIN_ROLE: &str = "dbplatform_admin";
/// The pg_ident.conf map naming which OS users may log in as [`ADMIN_ROLE`].
pub const IDENT_MAP: &str = "dbplatform";
/// Prefix of the per-database OS users created when the provider runs as root.
pub const OS_USER_PREFIX: &str = "dbp_";

/// The name of the OS user a database's server runs as when the provider is root: `dbp_` and a hash of the data
/// directory and database name (stable across runs, distinct per database, within useradd's 32 characters).
pub fn os_user_name(data_dir: &Path, name: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    name.hash(&mut h);
    format!("{OS_USER_PREFIX}{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// The OS user to run database `name`'s server as: `None` when the provider is not root (the server runs as the
/// provider's own user); `$DBPLATFORM_PG_OS_USER` when set (one shared user, opting out of per-database
/// isolation); otherwise the database's own user, created with useradd when missing.
pub fn server_user_for(
    env: &PgEnv,
    data_dir: &Path,
    name: &str,
) -> Result<Option<OsUser>, LocalPgError> {
    if !is_root() {
        return Ok(None);
    }
    if env.os_user.is_some() {
        return pg::server_user(env);
    }
    let env = PgEnv {
        os_user: Some(os_user_name(data_dir, name)),
        ..env.clone()
    };
    pg::server_user(&env)
}

/// The OS user owning `path` (a data directory), as the user to run that cluster's tools as; `None` when the
/// provider is not root.
pub fn owner_of(path: &Path) -> Result<Option<OsUser>, LocalPgError> {
    if !is_root() {
        return Ok(None);
    }
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(path).map_err(LocalPgError::io("reading the owner of", path))?;
    if md.uid() == 0 {
        return Err(LocalPgError::Invalid {
            field: "local.data_dir".into(),
            message: format!(
                "{} belongs to root; PostgreSQL refuses to run as root, so this is not a cluster this provider made",
                path.display()
            ),
        });
    }
    Ok(Some(OsUser {
        name: user_name_of(md.uid()).unwrap_or_else(|| md.uid().to_string()),
        uid: md.uid(),
        gid: md.gid(),
    }))
}

/// Removes a per-database OS user (best effort: a user that is gone or shared is left as it is). userdel refuses
/// while a process still runs as the user (a server's last backends exiting after `pg_ctl stop`) and while another
/// provider holds the lock on /etc/passwd, so it waits for the user's processes and retries for a few seconds; a
/// user that still cannot be removed is logged as a warning naming the command that removes it by hand.
pub fn remove_os_user(user: &OsUser) {
    if !is_root() || !user.name.starts_with(OS_USER_PREFIX) {
        return;
    }
    let Some(uid) = user_uid(&user.name) else {
        return;
    };
    let mut last_error = String::new();
    for _ in 0..20 {
        wait_for_processes_of(uid, std::time::Duration::from_secs(5));
        match std::process::Command::new("userdel")
            .arg(&user.name)
            .output()
        {
            Ok(out) if out.status.success() => return,
            Ok(out) => last_error = String::from_utf8_lossy(&out.stderr).trim().to_string(),
            Err(e) => {
                last_error = e.to_string();
                break;
            }
        }
        if user_uid(&user.name).is_none() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    tracing::warn!(
        "could not remove OS user {} ({last_error}); remove it with `userdel {}` once nothing runs as it",
        user.name,
        user.name
    );
}

/// The uid of OS user `name`, when it exists.
fn user_uid(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && f[0] == name)
            .then(|| f[2].parse().ok())
            .flatten()
    })
}

/// Waits up to `limit` until no process runs as `uid` (read from /proc).
fn wait_for_processes_of(uid: u32, limit: std::time::Duration) {
    let deadline = std::time::Instant::now() + limit;
    while processes_of(uid) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// How many processes run as `uid`.
fn processes_of(uid: u32) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| e.metadata().map(|m| m.uid() == uid).unwrap_or(false))
        .count()
}

/// pg_ident.conf: the provider's OS user and the server's OS user may log in as [`ADMIN_ROLE`] (peer, socket only).
pub fn ident_conf(server_user: Option<&OsUser>) -> String {
    let mut users = vec![provider_user_name()];
    if let Some(u) = server_user {
        if !users.contains(&u.name) {
            users.push(u.name.clone());
        }
    }
    let mut s =
        String::from("# Managed by dbplatform: OS users allowed to log in as its admin role.\n");
    for u in users {
        s.push_str(&format!("{IDENT_MAP} {u} {ADMIN_ROLE}\n"));
    }
    s
}

/// The OS user name the provider runs as.
pub fn provider_user_name() -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    user_name_of(uid).unwrap_or_else(|| {
        std::env::var("USER").unwrap_or_else(|_| {
            if uid == 0 {
                "root".into()
            } else {
                uid.to_string()
            }
        })
    })
}

fn user_name_of(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[0].to_string())
    })
}

/// Whether this process runs as root (then servers run as other OS users, since PostgreSQL refuses root).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_user_names_are_short_stable_and_distinct() {
        let a = os_user_name(Path::new("/var/lib/dbplatform"), "orders");
        assert_eq!(a, os_user_name(Path::new("/var/lib/dbplatform"), "orders"));
        assert_ne!(a, os_user_name(Path::new("/var/lib/dbplatform"), "billing"));
        assert_ne!(a, os_user_name(Path::new("/srv/other"), "orders"));
        assert!(a.starts_with("dbp_") && a.len() <= 32, "{a}");
    }

    #[test]
    fn ident_map_names_the_admin_role_only() {
        let u = OsUser {
            name: "dbp_0123".into(),
            uid: 1,
            gid: 1,
        };
        let text = ident_conf(Some(&u));
        assert!(
            text.contains(&format!("{IDENT_MAP} dbp_0123 {ADMIN_ROLE}")),
            "{text}"
        );
        assert!(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| l.ends_with(ADMIN_ROLE)));
    }

    #[test]
    fn a_user_with_a_running_process_is_seen_and_a_missing_user_has_no_uid() {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        assert!(processes_of(me) >= 1, "this test runs as uid {me}");
        assert_eq!(user_uid("root"), Some(0));
        assert_eq!(user_uid("dbp_no_such_user_here"), None);
    }
}
