//! Our own waiter for RDS state changes: poll with exponential backoff and jitter until a condition holds,
//! riding out throttling, 5xx and network errors, and giving up at a deadline with the last status seen.
//! (The SDK retries each call; this retries the *question* "is it available yet?" for up to the timeout.)

use std::future::Future;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::error::ApiFailure;

/// How often and how long to poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// First delay between polls; doubles each poll.
    pub initial_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl WaitPolicy {
    /// The same policy with another overall timeout (the resource's `timeouts` block).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }
}

impl Default for WaitPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(40 * 60),
        }
    }
}

/// Exponential backoff with "equal jitter": each delay is uniformly random in [d/2, d], d doubling up to a cap,
/// so many instances polled at once do not hit the API in lock-step.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
    rng: StdRng,
}

impl Backoff {
    /// A backoff; `seed` fixes the jitter (tests), `None` seeds from the OS.
    pub fn new(policy: &WaitPolicy, seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        Self {
            next: policy.initial_delay,
            max: policy.max_delay.max(policy.initial_delay),
            rng,
        }
    }

    /// The delay before the next poll.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        let half = d / 2;
        let jitter_ms = self.rng.gen_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter_ms)
    }
}

/// What one poll found.
pub enum Poll<T> {
    /// The condition holds; stop with this value.
    Done(T),
    /// Not yet; `status` is remembered for the timeout message.
    Pending(String),
    /// It can never hold (e.g. the instance failed); stop with this message.
    Failed(String),
}

/// Why waiting ended without the condition holding.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitError {
    TimedOut {
        after: Duration,
        last_status: String,
    },
    Failed(String),
    Api {
        code: String,
        message: String,
    },
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::TimedOut { after, last_status } => {
                write!(
                    f,
                    "timed out after {}s (last status: {last_status})",
                    after.as_secs()
                )
            }
            WaitError::Failed(m) => f.write_str(m),
            WaitError::Api { code, message } => write!(f, "{code}: {message}"),
        }
    }
}

/// Polls `check` until it reports done or failed, or the policy's timeout passes. Transient API failures
/// count as "not yet"; other API failures end the wait.
pub async fn wait_for<T, F, Fut>(
    policy: &WaitPolicy,
    seed: Option<u64>,
    mut check: F,
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, ApiFailure>>,
{
    let start = tokio::time::Instant::now();
    let deadline = start + policy.timeout;
    let mut backoff = Backoff::new(policy, seed);
    let mut last_status = String::from("not checked yet");
    loop {
        match tokio::time::timeout_at(deadline, check()).await {
            Err(_) => break,
            Ok(Ok(Poll::Done(v))) => return Ok(v),
            Ok(Ok(Poll::Failed(m))) => return Err(WaitError::Failed(m)),
            Ok(Ok(Poll::Pending(s))) => last_status = s,
            Ok(Err(f)) if f.transient => {
                tracing::debug!(code = %f.code, "transient error while waiting; polling again");
                last_status = format!("{} while polling: {}", f.code, f.message);
            }
            Ok(Err(f)) => {
                return Err(WaitError::Api {
                    code: f.code,
                    message: f.message,
                })
            }
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        let delay = backoff.next_delay().min(deadline - now);
        tokio::time::sleep(delay).await;
    }
    Err(WaitError::TimedOut {
        after: policy.timeout,
        last_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> WaitPolicy {
        WaitPolicy {
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(80),
            timeout: Duration::from_millis(500),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new(&policy(), Some(7));
        let delays: Vec<_> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        let caps = [10, 20, 40, 80, 80, 80];
        for (d, cap) in delays.iter().zip(caps) {
            assert!(*d >= cap / 2 && *d <= cap, "{delays:?}");
        }
        let mut again = Backoff::new(&policy(), Some(7));
        let same: Vec<_> = (0..6).map(|_| again.next_delay().as_millis()).collect();
        assert_eq!(delays, same, "a fixed seed gives the same delays");
    }

    #[tokio::test]
    async fn transient_errors_are_ridden_out() {
        let mut n = 0;
        let got = wait_for(&policy(), Some(1), || {
            n += 1;
            let k = n;
            async move {
                match k {
                    1 => Err(ApiFailure {
                        code: "Throttling".into(),
                        message: "Rate exceeded".into(),
                        status: Some(400),
                        transient: true,
                    }),
                    2 => Ok(Poll::Pending("creating".into())),
                    _ => Ok(Poll::Done(k)),
                }
            }
        })
        .await;
        assert_eq!(got, Ok(3));
    }

    #[tokio::test]
    async fn timeout_reports_the_last_status() {
        let got: Result<(), _> = wait_for(&policy(), Some(1), || async {
            Ok(Poll::Pending("modifying".into()))
        })
        .await;
        assert_eq!(
            got,
            Err(WaitError::TimedOut {
                after: Duration::from_millis(500),
                last_status: "modifying".into()
            })
        );
    }

    #[tokio::test]
    async fn final_errors_stop_at_once() {
        let got: Result<(), _> = wait_for(&policy(), Some(1), || async {
            Err(ApiFailure {
                code: "AccessDenied".into(),
                message: "no".into(),
                status: Some(403),
                transient: false,
            })
        })
        .await;
        assert_eq!(
            got,
            Err(WaitError::Api {
                code: "AccessDenied".into(),
                message: "no".into()
            })
        );
    }
}
