//! Named fault points: the steps of a create, update or destroy where a fault campaign (`make faults`) kills the
//! provider, so that recovery is proven at every step rather than at the few a person thought of.
//!
//! Each backend calls [`reached`] with a stable step name (`local.create.initdb`, `aws.create.requested`, ...)
//! just after the step's effect is durable. The hook is inert unless one of two process environment variables is
//! set by a test harness:
//! - `DBPLATFORM_FAULT_TRACE=FILE`: append every step name reached to FILE, one per line, so the campaign learns the
//!   kill points of an operation by running it once;
//! - `DBPLATFORM_FAULT_KILL_AT=STEP` (or `STEP#N` for its N-th occurrence, 1-based): the process kills itself with
//!   SIGKILL when it reaches that step: no destructor, no flush, no cleanup, as a crash or an OOM kill would.
//!
//! These variables are read here and not in `config::environment` because they are a property of the process (a
//! test harness), not of a provider configuration.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Environment variable naming the file that receives the trace of steps reached.
pub const TRACE_ENV: &str = "DBPLATFORM_FAULT_TRACE";
/// Environment variable naming the step (optionally `#N`) at which the process kills itself.
pub const KILL_ENV: &str = "DBPLATFORM_FAULT_KILL_AT";

/// The fault plan of this process, read once from the environment.
struct Plan {
    trace: Option<std::path::PathBuf>,
    kill: Option<(String, usize)>,
    seen: AtomicUsize,
}

fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| Plan {
        trace: std::env::var_os(TRACE_ENV).map(Into::into),
        kill: std::env::var(KILL_ENV).ok().and_then(|v| parse_kill(&v)),
        seen: AtomicUsize::new(0),
    })
}

/// `STEP` or `STEP#N` (N ≥ 1); anything else disables the kill.
fn parse_kill(value: &str) -> Option<(String, usize)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.rsplit_once('#') {
        Some((step, n)) => match n.parse::<usize>() {
            Ok(n) if n >= 1 && !step.is_empty() => Some((step.to_string(), n)),
            _ => None,
        },
        None => Some((value.to_string(), 1)),
    }
}

/// Mark that `step` has been reached (its effect is durable). Records it when tracing and kills the process when
/// the campaign asked for a crash here.
pub fn reached(step: &str) {
    let plan = plan();
    if let Some(path) = &plan.trace {
        // Best effort: a trace that cannot be written must not change what the provider does.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{step}");
        }
    }
    if let Some((kill_step, nth)) = &plan.kill {
        if kill_step == step && plan.seen.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
            // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_kill;

    #[test]
    fn kill_spec_takes_an_optional_occurrence() {
        assert_eq!(
            parse_kill("local.create.initdb"),
            Some(("local.create.initdb".into(), 1))
        );
        assert_eq!(
            parse_kill("aws.create.wait#3"),
            Some(("aws.create.wait".into(), 3))
        );
        assert_eq!(parse_kill("x#0"), None);
        assert_eq!(parse_kill("#2"), None);
        assert_eq!(parse_kill(""), None);
    }
}
