//! Removing the socket directories (`dbplatform-plugin-PID-*`) that killed provider processes left in the temp
//! directory. A provider removes its own directory when it stops; one killed by a signal or OOM cannot. Each start
//! removes those whose process is dead, and never one of a live process.

use std::path::Path;
use std::time::Duration;

/// Prefix of every plugin socket directory; the process id follows (`dbplatform-plugin-PID-XXXXXX`).
pub const DIR_PREFIX: &str = "dbplatform-plugin";
/// Directories of older versions carry no pid: they count as stale when older than this and nothing listens on
/// their socket.
const UNNAMED_MIN_AGE: Duration = Duration::from_secs(60);

/// The prefix of this process's socket directory.
pub fn own_prefix() -> String {
    format!("{DIR_PREFIX}-{}-", std::process::id())
}

/// Removes stale plugin directories in `parent`; returns how many were removed. Best effort: what cannot be read
/// or removed is left (and logged).
pub fn remove_stale(parent: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(parent) else {
        return 0;
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mut removed = 0;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(DIR_PREFIX) else {
            continue;
        };
        let Ok(md) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        use std::os::unix::fs::MetadataExt;
        if !md.is_dir() || md.uid() != me {
            continue;
        }
        let stale = match pid_of(rest) {
            Some(pid) => pid != std::process::id() && !crate::liveness::alive(pid, 0),
            None => {
                let old = md
                    .modified()
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age >= UNNAMED_MIN_AGE);
                old && !listening(&e.path().join("plugin.sock"))
            }
        };
        if stale {
            match std::fs::remove_dir_all(e.path()) {
                Ok(()) => removed += 1,
                Err(err) => tracing::debug!("could not remove {}: {err}", e.path().display()),
            }
        }
    }
    removed
}

/// The pid in `-PID-XXXXXX` (what follows the prefix), `None` for names of older versions.
fn pid_of(rest: &str) -> Option<u32> {
    let rest = rest.strip_prefix('-')?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
}

/// Whether a process accepts connections on the Unix socket at `path`.
fn listening(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_directories_of_dead_processes_only() {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let dead_dir = tmp.path().join(format!("{DIR_PREFIX}-{dead}-abc"));
        let live_dir = tmp.path().join(format!("{}xyz", own_prefix()));
        let other = tmp.path().join("something-else");
        for d in [&dead_dir, &live_dir, &other] {
            std::fs::create_dir(d).unwrap();
        }
        // A fresh directory of an older version (no pid) is left: it may belong to a provider starting now.
        let unnamed = tmp.path().join(format!("{DIR_PREFIX}Qx12"));
        std::fs::create_dir(&unnamed).unwrap();
        assert_eq!(remove_stale(tmp.path()), 1);
        assert!(!dead_dir.exists());
        assert!(live_dir.exists() && other.exists() && unnamed.exists());
    }

    #[test]
    fn pid_is_read_from_the_name() {
        assert_eq!(pid_of("-123-abc"), Some(123));
        assert_eq!(pid_of("Qx12"), None);
    }
}
