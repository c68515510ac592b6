//! Helpers for tests that start long-running processes (the provider in `--debug` mode, `moto_server`,
//! a local PostgreSQL): a free loopback port, waiting for a port to accept connections, and a guard that
//! kills its child when dropped so a failing test never leaks a process.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::error::HarnessError;

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, released).
pub fn free_port() -> Result<u16, HarnessError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
        HarnessError::io("binding 127.0.0.1:0 to find a free port", "127.0.0.1:0", e)
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| HarnessError::io("reading the bound port", "127.0.0.1:0", e))?
        .port();
    Ok(port)
}

/// Waits until `127.0.0.1:port` accepts a TCP connection, polling every 20 ms, for at most `timeout`.
pub fn wait_for_port(port: u16, timeout: Duration) -> Result<(), HarnessError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(HarnessError::Timeout {
                what: format!("{addr} to accept connections"),
                secs: timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Owns a child process and kills (SIGKILL) and reaps it on drop.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Child,
    lines: Option<Receiver<String>>,
    seen: Vec<String>,
}

impl ChildGuard {
    /// Spawns `cmd` (set `stdout(Stdio::piped())` on it to use [`ChildGuard::wait_for_stdout_line`]);
    /// `name` identifies it in error messages.
    pub fn spawn(name: impl Into<String>, cmd: &mut Command) -> Result<Self, HarnessError> {
        let name = name.into();
        let child = cmd
            .spawn()
            .map_err(|e| HarnessError::io(format!("starting {name}"), cmd.get_program(), e))?;
        Ok(ChildGuard {
            name,
            child,
            lines: None,
            seen: Vec::new(),
        })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child, e.g. to take its stderr.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Reads the child's stdout line by line until a line satisfies `pred`, and returns that line. The
    /// error on timeout or exit shows every line read so far.
    pub fn wait_for_stdout_line(
        &mut self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, HarnessError> {
        if self.lines.is_none() {
            let stdout = self.child.stdout.take().ok_or_else(|| {
                HarnessError::Expectation(format!(
                    "{}: stdout is not piped; spawn it with .stdout(Stdio::piped())",
                    self.name
                ))
            })?;
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            self.lines = Some(rx);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let rx = self.lines.as_ref().ok_or_else(|| {
                HarnessError::Expectation(format!("{}: stdout reader is gone", self.name))
            })?;
            match rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return Ok(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(HarnessError::Timeout {
                        what: format!(
                            "a matching stdout line from {}; it printed:\n{}",
                            self.name,
                            self.seen.join("\n")
                        ),
                        secs: timeout.as_secs_f64(),
                    })
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    return Err(HarnessError::Expectation(format!(
                        "{} closed stdout (exit status {:?}) before printing a matching line; it printed:\n{}",
                        self.name,
                        status,
                        self.seen.join("\n")
                    )));
                }
            }
        }
    }

    /// Whether the child is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the child now and returns how it ended.
    pub fn kill(&mut self) -> Result<ExitStatus, HarnessError> {
        let _ = self.child.kill();
        self.child
            .wait()
            .map_err(|e| HarnessError::io(format!("waiting for {}", self.name), &self.name, e))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    #[test]
    fn free_port_is_bindable_and_wait_for_port_sees_a_listener() {
        let port = free_port().expect("free port");
        assert!(wait_for_port(port, Duration::from_millis(100)).is_err());
        let _l = TcpListener::bind(("127.0.0.1", port)).expect("port was free");
        wait_for_port(port, Duration::from_secs(2)).expect("listener accepts");
    }

    #[test]
    fn guard_reads_lines_and_kills_on_drop() {
        let mut g = ChildGuard::spawn(
            "sh",
            Command::new("/bin/sh")
                .args(["-c", "echo one; echo READY=42; exec sleep 30"])
                .stdout(Stdio::piped()),
        )
        .expect("spawn");
        let line = g
            .wait_for_stdout_line(|l| l.starts_with("READY="), Duration::from_secs(5))
            .expect("ready line");
        assert_eq!(line, "READY=42");
        let pid = g.id();
        assert!(g.is_running());
        drop(g);
        // Reaped by the drop, so the pid is gone (barring an unlikely immediate reuse).
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn guard_reports_what_was_printed_when_the_line_never_comes() {
        let mut g = ChildGuard::spawn(
            "sh",
            Command::new("/bin/sh")
                .args(["-c", "echo hello"])
                .stdout(Stdio::piped()),
        )
        .expect("spawn");
        let e = g
            .wait_for_stdout_line(|l| l == "never", Duration::from_secs(5))
            .expect_err("no such line")
            .to_string();
        assert!(e.contains("sh closed stdout"), "{e}");
        assert!(e.contains("hello"), "{e}");
    }
}
