//! Running one Terraform command: hermetic environment, captured output, a timeout, and a `Display` that
//! shows everything a person debugging a failed test needs (command, directory, exit code, stdout, stderr).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::HarnessError;

/// Default limit for one Terraform command; `DBPLATFORM_ACC_TIMEOUT_SECS` overrides it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// How long output streams may stay open after the command exited before the harness stops waiting.
const STREAM_GRACE: Duration = Duration::from_secs(1);
/// How often the exit of a command is checked while its streams are still open.
const POLL: Duration = Duration::from_millis(50);
/// Most of a stream shown in a failure message; longer output keeps its tail (where errors are).
const MAX_SHOWN: usize = 20_000;

/// The result of one command, whatever its exit code.
#[derive(Debug, Clone)]
pub struct TfOutput {
    /// The command line as a shell would show it, with non-default environment variables in front.
    pub command: String,
    /// The working directory it ran in.
    pub dir: PathBuf,
    /// The exit code; `None` when killed by a signal (or by the harness's timeout).
    pub code: Option<i32>,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    /// Wall time of the command.
    pub elapsed: Duration,
    /// Whether the harness killed the command for running past its timeout.
    pub timed_out: bool,
    /// Whether stdout/stderr stayed open after the command exited: a process it started (e.g. a database
    /// server the provider spawned) inherited them, so `terraform apply | tee log` would hang for a user.
    pub streams_held_open: bool,
}

impl TfOutput {
    /// True when the command exited with code 0 (and closed its output streams).
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.streams_held_open
    }

    /// stderr with Terraform's diagnostic boxes and 78-column line wrapping undone (see
    /// [`normalize_diagnostics`]), for matching messages regardless of where Terraform broke the lines.
    pub fn stderr_normalized(&self) -> String {
        normalize_diagnostics(&self.stderr)
    }

    /// stdout and stderr together, normalized: Terraform prints some diagnostics (e.g. `validate`) on either.
    pub fn all_normalized(&self) -> String {
        normalize_diagnostics(&format!("{}\n{}", self.stdout, self.stderr))
    }

    /// Turns a non-zero exit into [`HarnessError::Command`] saying `why`.
    pub fn ok_or_fail(self, why: &str) -> Result<TfOutput, HarnessError> {
        if self.success() {
            Ok(self)
        } else {
            Err(self.into_error(why))
        }
    }

    /// Wraps this output in a [`HarnessError::Command`] saying `why`.
    pub fn into_error(self, why: impl Into<String>) -> HarnessError {
        HarnessError::Command {
            why: why.into(),
            output: Box::new(self),
        }
    }
}

impl fmt::Display for TfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "  (in {})", self.dir.display())?;
        match (self.code, self.timed_out) {
            (_, true) => writeln!(
                f,
                "  killed by the harness after {:.1}s (timeout)",
                self.elapsed.as_secs_f64()
            )?,
            (Some(code), _) => writeln!(
                f,
                "  exit code {code} after {:.2}s",
                self.elapsed.as_secs_f64()
            )?,
            (None, _) => writeln!(f, "  killed by a signal")?,
        }
        if self.streams_held_open {
            writeln!(
                f,
                "  stdout/stderr stayed open {:.1}s after it exited: a process it started inherited them \
                 (a user piping terraform's output would hang until that process ends)",
                STREAM_GRACE.as_secs_f64()
            )?;
        }
        writeln!(f, "--- stdout ---\n{}", tail(&self.stdout))?;
        write!(f, "--- stderr ---\n{}", tail(&self.stderr))
    }
}

fn tail(s: &str) -> &str {
    if s.len() <= MAX_SHOWN {
        return s;
    }
    let mut start = s.len() - MAX_SHOWN;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Undoes Terraform's diagnostic layout: drops the `╷ │ ╵` box characters and joins all lines with single
/// spaces. Terraform wraps diagnostics at 78 columns when not on a terminal, so a message can be split at
/// any space; matching against this text makes tests independent of where the line breaks fall.
pub fn normalize_diagnostics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim_start().trim_start_matches(['│', '╷', '╵']).trim();
        for word in line.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// The timeout for one command: `DBPLATFORM_ACC_TIMEOUT_SECS` or [`DEFAULT_TIMEOUT`].
pub fn command_timeout() -> Duration {
    std::env::var("DBPLATFORM_ACC_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// Runs `program args` in `dir` with every inherited `TF_*` variable removed and `env` set, stdin closed,
/// stdout and stderr captured, and the process killed after `timeout`. `shown_env` is the part of `env`
/// worth printing in the command line of a failure message.
pub fn run(
    program: &Path,
    args: &[&str],
    dir: &Path,
    env: &[(String, String)],
    shown_env: &[(String, String)],
    timeout: Duration,
) -> Result<TfOutput, HarnessError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("TF_")) {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let command = render_command(program, args, shown_env);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| HarnessError::io(format!("starting `{command}`"), program, e))?;

    let (done_tx, done_rx) = mpsc::channel::<()>();
    let buffers = [
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    ];
    let streams = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    for (stream, buf) in streams.into_iter().zip(buffers.iter()) {
        let (done, buf) = (done_tx.clone(), Arc::clone(buf));
        std::thread::spawn(move || {
            if let Some(mut s) = stream {
                let mut chunk = [0u8; 8192];
                while let Ok(n) = s.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    lock(&buf).extend_from_slice(&chunk[..n]);
                }
            }
            let _ = done.send(());
        });
    }
    drop(done_tx);

    // Both streams reach EOF when the process exits, so the usual case returns at once. A process that
    // Terraform's children left behind holding the pipes (e.g. a database server that inherited them)
    // would keep them open: then the exit is noticed by polling and the streams get a grace period.
    let deadline = started + timeout;
    let (mut eofs, mut status, mut exited_at, mut timed_out) = (0, None, None::<Instant>, false);
    while eofs < 2 {
        let now = Instant::now();
        let wait = match exited_at {
            Some(t) => (t + STREAM_GRACE).saturating_duration_since(now),
            None => deadline.saturating_duration_since(now).min(POLL),
        };
        match done_rx.recv_timeout(wait) {
            Ok(()) => eofs += 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if status.is_none() {
            if let Ok(Some(st)) = child.try_wait() {
                status = Some(st);
                exited_at = Some(Instant::now());
            } else if Instant::now() >= deadline {
                timed_out = true;
                let _ = child.kill();
                break;
            }
        }
        if exited_at.is_some_and(|t| t.elapsed() >= STREAM_GRACE) {
            break;
        }
    }
    let status = match status {
        Some(st) => st,
        None => child
            .wait()
            .map_err(|e| HarnessError::io(format!("waiting for `{command}`"), program, e))?,
    };
    let streams_held_open = eofs < 2 && !timed_out;
    let [stdout, stderr] =
        buffers.map(|b| String::from_utf8_lossy(&std::mem::take(&mut *lock(&b))).into_owned());
    Ok(TfOutput {
        command,
        dir: dir.to_path_buf(),
        code: status.code(),
        stdout,
        stderr,
        elapsed: started.elapsed(),
        timed_out,
        streams_held_open,
    })
}

fn lock(buf: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    buf.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn render_command(program: &Path, args: &[&str], shown_env: &[(String, String)]) -> String {
    let mut parts: Vec<String> = shown_env
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    parts.push(program.display().to_string());
    parts.extend(args.iter().map(|a| quote(a)));
    parts.join(" ")
}

fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_undoes_boxes_and_wrapping() {
        let stderr = "\n╷\n│ Error: Invalid tier\n│ \n│   with data.dbplatform_tier.x,\n│   on main.tf line 3:\n│ \n│ tier \"tier-9\" is not one of tier-0,\n│ tier-1, tier-2, tier-3\n╵\n";
        assert_eq!(
            normalize_diagnostics(stderr),
            "Error: Invalid tier with data.dbplatform_tier.x, on main.tf line 3: tier \"tier-9\" is not one of tier-0, tier-1, tier-2, tier-3"
        );
    }

    #[test]
    fn run_captures_output_exit_code_and_hides_inherited_tf_vars() {
        let out = run(
            Path::new("/bin/sh"),
            &[
                "-c",
                "echo out; echo err >&2; echo \"[$(env | grep -c '^TF_')][$X]\"; exit 3",
            ],
            Path::new("/"),
            &[("X".into(), "y".into())],
            &[("X".into(), "y".into())],
            Duration::from_secs(10),
        )
        .expect("sh runs");
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, "out\n[0][y]\n");
        assert_eq!(out.stderr, "err\n");
        assert!(
            out.command.starts_with("X=y /bin/sh -c 'echo out;"),
            "{}",
            out.command
        );
        let shown = out.clone().into_error("expected success").to_string();
        assert!(shown.contains("expected success\n$ X=y /bin/sh"), "{shown}");
        assert!(shown.contains("exit code 3"), "{shown}");
        assert!(shown.contains("--- stderr ---\nerr"), "{shown}");
    }

    #[test]
    fn run_returns_soon_after_exit_when_a_leftover_child_holds_the_pipes() {
        let out = run(
            Path::new("/bin/sh"),
            &["-c", "echo hi; sleep 3 & exit 0"],
            Path::new("/"),
            &[],
            &[],
            Duration::from_secs(20),
        )
        .expect("sh runs");
        assert!(out.streams_held_open, "{out}");
        assert!(!out.success());
        assert_eq!(out.code, Some(0));
        assert_eq!(out.stdout, "hi\n");
        assert!(out.elapsed < Duration::from_secs(5), "{out}");
        assert!(out.to_string().contains("stayed open"), "{out}");
    }

    #[test]
    fn run_kills_a_command_past_its_timeout() {
        let out = run(
            Path::new("/bin/sleep"),
            &["30"],
            Path::new("/"),
            &[],
            &[],
            Duration::from_millis(200),
        )
        .expect("sleep runs");
        assert!(out.timed_out);
        assert!(!out.success());
        assert!(out.elapsed < Duration::from_secs(5));
        assert!(out.to_string().contains("timeout"));
    }
}
