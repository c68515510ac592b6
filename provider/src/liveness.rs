//! Whether a process that left something behind (a database being created, a plugin socket directory) is still
//! running, so leftovers of dead processes can be cleaned up and those of live ones are never touched.
//!
//! A pid alone can be reused; the process's start time (field 22 of `/proc/PID/stat`, in clock ticks since boot)
//! tells the original process from a newcomer with the same pid.

/// This process's pid and start time, to record beside something it owns.
pub fn current() -> (u32, u64) {
    let pid = std::process::id();
    (pid, start_ticks(pid).unwrap_or(0))
}

/// The start time of `pid` in clock ticks since boot, `None` when there is no such process (or no `/proc`).
pub fn start_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process `pid` that started at `ticks` (0: unknown, compare pids only) is still running.
pub fn alive(pid: u32, ticks: u64) -> bool {
    if pid == 0 {
        return false;
    }
    match start_ticks(pid) {
        Some(t) => ticks == 0 || t == ticks,
        None => {
            // No /proc entry: fall back to kill(pid, 0) (EPERM still means it exists).
            let Ok(p) = libc::pid_t::try_from(pid) else {
                return false;
            };
            // SAFETY: kill with signal 0 only checks for existence and permission.
            let r = unsafe { libc::kill(p, 0) };
            r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not_it() {
        let (pid, ticks) = current();
        assert!(ticks > 0);
        assert!(alive(pid, ticks));
        assert!(!alive(pid, ticks + 1), "same pid, other start time");
        assert!(!alive(0, 0));
    }

    #[test]
    fn a_finished_child_is_dead() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id();
        let ticks = start_ticks(pid).unwrap();
        assert!(alive(pid, ticks));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!alive(pid, ticks));
    }
}
