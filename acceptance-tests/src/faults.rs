//! The fault campaign's common parts: which kill points an operation has (learned from the provider's own trace),
//! how long a campaign runs (short in `make test`, every case in `make faults`), and the table of outcomes it prints.
//!
//! A case is one fault (kill the provider at a named step, or inject an AWS API fault at one call) followed by the
//! re-applies a user would run. It is judged on what a user and an operator care about: did Terraform converge to the
//! configuration, is anything left behind that state does not know (orphans), was anything created twice
//! (duplicates), and is data written before the fault still there (rows lost).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// The provider's trace variable (see `provider/src/fault_points.rs`).
pub const TRACE_ENV: &str = "DBPLATFORM_FAULT_TRACE";
/// The provider's kill variable (see `provider/src/fault_points.rs`).
pub const KILL_ENV: &str = "DBPLATFORM_FAULT_KILL_AT";
/// Set to `full` to run every case (`make faults`); otherwise a short form runs (`make test`).
pub const CAMPAIGN_ENV: &str = "DBPLATFORM_FAULTS";

/// How much of the campaign to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// A few representative cases per operation: what `make test` runs.
    Short,
    /// Every kill point and every injected fault: what `make faults` runs.
    Full,
}

impl Extent {
    /// The extent asked for by `DBPLATFORM_FAULTS` (`full`, else short).
    pub fn from_env() -> Self {
        match std::env::var(CAMPAIGN_ENV).as_deref() {
            Ok("full") => Extent::Full,
            _ => Extent::Short,
        }
    }

    /// The cases to run out of `all`: every one when full; when short, the first, the middle and the last, which
    /// are the before-anything, half-done and almost-done states.
    pub fn select<T: Clone>(&self, all: &[T]) -> Vec<T> {
        match self {
            Extent::Full => all.to_vec(),
            Extent::Short => {
                let mut idx = vec![0, all.len() / 2, all.len().saturating_sub(1)];
                idx.dedup();
                idx.into_iter()
                    .filter_map(|i| all.get(i).cloned())
                    .collect()
            }
        }
    }
}

/// The distinct step names in a trace file, in the order first reached (an empty list when the file is absent).
pub fn read_trace(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut steps: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !steps.iter().any(|s| s == line) {
            steps.push(line.to_string());
        }
    }
    steps
}

/// The outcome of one fault case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// `local` or `aws`.
    pub backend: String,
    /// `create`, `update` or `destroy`.
    pub operation: String,
    /// What was done: `kill at local.create.initdb`, `throttle CreateDBInstance#1`, ...
    pub fault: String,
    /// Terraform reached the configuration (apply exit 0, then a no-op plan).
    pub converged: bool,
    /// Objects left behind that state does not hold (instances, clusters, directories).
    pub orphans: usize,
    /// Objects created twice for one resource.
    pub duplicates: usize,
    /// Rows written before the fault and not read after it (local backend).
    pub rows_lost: usize,
    /// Re-applies needed after the fault.
    pub reapplies: usize,
    /// Wall time from the fault to convergence (or to giving up).
    pub converge_time: Duration,
    /// What went wrong, when something did.
    pub detail: String,
}

impl CaseOutcome {
    /// Whether the case met the campaign's target: converged, nothing orphaned, duplicated or lost.
    pub fn ok(&self) -> bool {
        self.converged && self.orphans == 0 && self.duplicates == 0 && self.rows_lost == 0
    }
}

/// Every case's outcome, printed as a Markdown table and a totals line.
#[derive(Debug, Default)]
pub struct Campaign {
    /// The outcomes, in the order run.
    pub outcomes: Vec<CaseOutcome>,
}

impl Campaign {
    /// Add one case's outcome.
    pub fn record(&mut self, outcome: CaseOutcome) {
        self.outcomes.push(outcome);
    }

    /// The report: one row per case, then totals (cases, converged, orphans, duplicates, rows lost, median and
    /// worst time to converge).
    pub fn report(&self, title: &str) -> String {
        let mut out = format!("## Fault campaign: {title}\n\n");
        out.push_str("| backend | operation | fault | converged | orphans | duplicates | rows lost | re-applies | time to converge | detail |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        for o in &self.outcomes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s | {} |",
                o.backend,
                o.operation,
                o.fault,
                if o.converged { "yes" } else { "NO" },
                o.orphans,
                o.duplicates,
                o.rows_lost,
                o.reapplies,
                o.converge_time.as_secs_f64(),
                o.detail.replace('|', "\\|").replace('\n', " ")
            );
        }
        let mut times: Vec<f64> = self
            .outcomes
            .iter()
            .map(|o| o.converge_time.as_secs_f64())
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
        let worst = times.last().copied().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "\ncases {}, converged {}, orphans {}, duplicates {}, rows lost {}, time to converge median {:.1} s / worst {:.1} s",
            self.outcomes.len(),
            self.outcomes.iter().filter(|o| o.converged).count(),
            self.outcomes.iter().map(|o| o.orphans).sum::<usize>(),
            self.outcomes.iter().map(|o| o.duplicates).sum::<usize>(),
            self.outcomes.iter().map(|o| o.rows_lost).sum::<usize>(),
            median,
            worst
        );
        out
    }

    /// Print the report, append it to `target/faults-report.md` for `make faults` to show, and return the cases that
    /// missed the target.
    pub fn finish(&self, title: &str) -> Vec<&CaseOutcome> {
        let report = self.report(title);
        println!("{report}");
        let path = crate::paths::target_dir().join("faults-report.md");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            use std::io::Write as _;
            let _ = writeln!(f, "{report}");
        }
        self.outcomes.iter().filter(|o| !o.ok()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_extent_keeps_first_middle_last() {
        let all: Vec<u32> = (0..7).collect();
        assert_eq!(Extent::Short.select(&all), vec![0, 3, 6]);
        assert_eq!(Extent::Short.select(&[1u32]), vec![1]);
        assert_eq!(Extent::Full.select(&all), all);
    }

    #[test]
    fn trace_keeps_first_occurrence_order() {
        let dir = std::env::temp_dir().join(format!("faults-trace-{}", std::process::id()));
        std::fs::write(&dir, "a\nb\na\n\nc\n").unwrap();
        assert_eq!(read_trace(&dir), vec!["a", "b", "c"]);
        let _ = std::fs::remove_file(&dir);
    }
}
