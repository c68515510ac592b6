//! The reports one `dbpolicy check` writes: `--format FORMAT[=FILE]` (repeatable, short `-o` as in conftest)
//! and `--output FILE` for the one format without its own file. Validated before any work, so a typo costs no
//! evaluation; written after it, with what the formats need besides the decision (repository root for
//! GitHub paths, plan-file locations, the invocation's times and exit code, the job summary).

use chrono::{DateTime, Utc};
use clap::ValueEnum as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::output_spec::OutputSpec;
use crate::engine::{OnUnknown, RuleMeta};
use crate::model::decision::Decision;
use crate::report::{github, junit, sarif, Format, Locations, ReportInput};

/// Output flags that cannot work together, or a report that could not be written (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("--output {0}: --output takes a file name, not a format; use --format {0} (or -o {0}), or --format {0}=FILE to write it to a file (a file really named {0}: --output ./{0})")]
    FormatAsFile(String),
    #[error("{count} --format values have no =FILE, but only one report can go to {dest}: give the others a file, e.g. --format sarif=dbpolicy.sarif")]
    SeveralOnOneOutput { count: usize, dest: String },
    #[error("--output {0}: every --format has its own =FILE, so --output would write nothing")]
    OutputUnused(String),
    #[error("{0}: --output is a directory; give a file name")]
    Directory(String),
    #[error("{0}: two reports would write the same file; give each --format its own =FILE")]
    SameFile(String),
    #[error("{path}: cannot write output: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: cannot write the job summary ($GITHUB_STEP_SUMMARY): {source}")]
    Summary {
        path: String,
        source: std::io::Error,
    },
}

/// The validated outputs of one run, and when it started.
pub struct Outputs {
    /// Each format with its destination (`None` = standard output).
    targets: Vec<(Format, Option<PathBuf>)>,
    max_annotations: usize,
    plans: Vec<String>,
    started: DateTime<Utc>,
    clock: std::time::Instant,
}

impl Outputs {
    /// Checks the output flags (`formats`, `--output`): at most one report on standard output, no file
    /// written twice, no directory, and `--output` naming a file rather than a format. `plans` are the plan
    /// files, read again for locations when a report needs them.
    pub fn new(
        formats: &[OutputSpec],
        output: Option<&Path>,
        max_annotations: usize,
        plans: &[String],
    ) -> Result<Self, OutputError> {
        let started = Utc::now();
        let clock = std::time::Instant::now();
        if let Some(out) = output {
            let s = out.to_string_lossy();
            if Format::from_str(&s, true).is_ok() {
                return Err(OutputError::FormatAsFile(s.into_owned()));
            }
        }
        let bare = formats.iter().filter(|s| s.file.is_none()).count();
        if bare > 1 {
            return Err(OutputError::SeveralOnOneOutput {
                count: bare,
                dest: output.map_or("standard output".to_string(), |p| p.display().to_string()),
            });
        }
        if let (0, Some(out)) = (bare, output) {
            return Err(OutputError::OutputUnused(out.display().to_string()));
        }
        let targets: Vec<(Format, Option<PathBuf>)> = formats
            .iter()
            .map(|s| {
                (
                    s.format,
                    s.file.clone().or_else(|| output.map(Path::to_path_buf)),
                )
            })
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for path in targets.iter().filter_map(|(_, p)| p.as_ref()) {
            if path.is_dir() {
                return Err(OutputError::Directory(path.display().to_string()));
            }
            if !seen.insert(path.clone()) {
                return Err(OutputError::SameFile(path.display().to_string()));
            }
        }
        Ok(Outputs {
            targets,
            max_annotations,
            plans: plans.to_vec(),
            started,
            clock,
        })
    }

    /// Whether any report shows file locations (all but JSON): scanning `.tf` files is skipped otherwise.
    pub fn want_locations(&self) -> bool {
        self.targets.iter().any(|(f, _)| *f != Format::Json)
    }

    /// Whether a report names files for GitHub (SARIF, annotations): those need repository-relative paths
    /// and a location for every result.
    fn for_github(&self) -> bool {
        self.targets
            .iter()
            .any(|(f, _)| matches!(f, Format::Sarif | Format::Github))
    }

    /// Renders and writes every report; `exit_code` is what the run will exit with (recorded in SARIF).
    pub fn write(
        &self,
        decision: &Decision,
        rules: &[RuleMeta],
        locations: &mut Locations,
        on_unknown: Option<OnUnknown>,
        exit_code: u8,
    ) -> Result<(), OutputError> {
        if self.for_github() {
            self.add_plan_entries(locations);
            if let Ok(cwd) = std::env::current_dir() {
                locations.relative_to(&repository_root(&cwd), &cwd);
            }
        }
        let input = ReportInput {
            decision,
            rules,
            locations,
            on_unknown,
        };
        for (format, file) in &self.targets {
            let dest = file.as_deref();
            match format {
                // Streamed: the JSON report of a large plan is tens of MiB, and building it as one string
                // first set the process' peak memory. Same bytes as `render` (same pretty printer).
                Format::Json => write_with(dest, |w| {
                    serde_json::to_writer_pretty(&mut *w, decision)
                        .map_err(std::io::Error::from)?;
                    w.write_all(b"\n")
                })?,
                Format::Sarif => {
                    let invocation = sarif::Invocation {
                        start: self.started,
                        end: Utc::now(),
                        exit_code,
                    };
                    let text = sarif::render_run(&input, Some(invocation));
                    write_with(dest, |w| w.write_all(text.as_bytes()))?;
                }
                Format::Junit => {
                    let text = junit::render_timed(&input, self.clock.elapsed());
                    write_with(dest, |w| w.write_all(text.as_bytes()))?;
                }
                Format::Github => {
                    let text = github::render_limited(&input, self.max_annotations);
                    write_with(dest, |w| w.write_all(text.as_bytes()))?;
                    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
                        if !summary.is_empty() {
                            append_summary(Path::new(&summary), &github::summary(&input))?;
                        }
                    }
                }
                Format::Text => {
                    let text = crate::report::render(Format::Text, &input);
                    write_with(dest, |w| w.write_all(text.as_bytes()))?;
                }
            }
        }
        Ok(())
    }

    /// Locations in the plan files themselves, for results whose configuration was not found.
    fn add_plan_entries(&self, locations: &mut Locations) {
        let labeled = self.plans.len() > 1;
        for name in self.plans.iter().filter(|n| n.as_str() != "-") {
            let Ok(file) = std::fs::File::open(name) else {
                continue;
            };
            // SAFETY: read-only private map of the plan just checked, read once here; see `read_plan`.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                locations.add_plan_entries(name, &map, labeled);
            } else if let Ok(bytes) = std::fs::read(name) {
                locations.add_plan_entries(name, &bytes, labeled);
            }
        }
    }
}

/// The repository root that GitHub paths are relative to: `$GITHUB_WORKSPACE` in Actions, else the nearest
/// directory above `cwd` holding `.git`, else `cwd`.
pub fn repository_root(cwd: &Path) -> PathBuf {
    if let Some(ws) = std::env::var_os("GITHUB_WORKSPACE").filter(|v| !v.is_empty()) {
        return cwd.join(ws);
    }
    cwd.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(cwd)
        .to_path_buf()
}

/// Appends the job summary (GitHub concatenates what the steps append).
fn append_summary(path: &Path, text: &str) -> Result<(), OutputError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| OutputError::Summary {
            path: path.display().to_string(),
            source,
        })
}

/// Writes through a buffer to `dest` or standard output; a closed standard output (`| head`) is not an error.
fn write_with(
    dest: Option<&Path>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    /// Large enough that a 50 MiB report goes out in few system calls.
    const BUF: usize = 1 << 20;
    match dest {
        Some(p) => std::fs::File::create(p)
            .and_then(|file| {
                let mut w = std::io::BufWriter::with_capacity(BUF, file);
                f(&mut w)?;
                w.flush()
            })
            .map_err(|source| OutputError::Write {
                path: p.display().to_string(),
                source,
            }),
        None => {
            let mut w = std::io::BufWriter::with_capacity(BUF, std::io::stdout().lock());
            let _ = f(&mut w).and_then(|()| w.flush());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_root_is_the_git_top_level() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".git")).unwrap();
        std::fs::create_dir_all(d.path().join("infra/prod")).unwrap();
        if std::env::var_os("GITHUB_WORKSPACE").is_none() {
            assert_eq!(repository_root(&d.path().join("infra/prod")), d.path());
        }
    }
}
