//! The reports one `dbpolicy check` writes: `--format FORMAT[=FILE]` (repeatable, short `-o` as in conftest)
//! and `--output FILE` for the one format without its own file. Validated before any work, so a typo costs no
//! evaluation; written after it, with what the formats need besides the decision (repository root for
//! GitHub paths, plan-file locations, the invocation's times and exit code, the job summary).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use clap::ValueEnum;

use crate::cli::{CheckArgs, CliError};
use crate::engine::{OnUnknown, RuleMeta};
use crate::model::decision::Decision;
use crate::report::{github, junit, sarif, Format, Locations, ReportInput};

/// One `--format` value: a format and, after `=`, the file it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Format,
    pub file: Option<PathBuf>,
}

/// Why a `--format` value was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a format: use one of {names}, optionally with =FILE (sarif=dbpolicy.sarif)", names = format_names())]
pub struct BadFormat(String);

fn format_names() -> String {
    Format::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for OutputSpec {
    type Err = BadFormat;
    fn from_str(s: &str) -> Result<Self, BadFormat> {
        let (name, file) = match s.split_once('=') {
            Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
            Some(_) => return Err(BadFormat(s.to_string())),
            None => (s, None),
        };
        let format = Format::from_str(name, true).map_err(|_| BadFormat(s.to_string()))?;
        Ok(OutputSpec { format, file })
    }
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
    /// Checks the output flags: at most one report on standard output, no file written twice, no directory,
    /// and `--output` naming a file rather than a format.
    pub fn new(a: &CheckArgs) -> Result<Self, CliError> {
        let started = Utc::now();
        let clock = std::time::Instant::now();
        if let Some(out) = &a.output {
            let s = out.to_string_lossy();
            if Format::from_str(&s, true).is_ok() {
                return Err(CliError::usage(format!(
                    "--output {s}: --output takes a file name, not a format; use --format {s} (or -o {s}), \
                     or --format {s}=FILE to write it to a file (a file really named {s}: --output ./{s})"
                )));
            }
        }
        let bare: Vec<&OutputSpec> = a.format.iter().filter(|s| s.file.is_none()).collect();
        if bare.len() > 1 {
            return Err(CliError::usage(format!(
                "{} --format values have no =FILE, but only one report can go to {}: give the others a file, \
                 e.g. --format sarif=dbpolicy.sarif",
                bare.len(),
                a.output
                    .as_ref()
                    .map_or("standard output".to_string(), |p| p.display().to_string())
            )));
        }
        if bare.is_empty() {
            if let Some(out) = &a.output {
                return Err(CliError::usage(format!(
                    "--output {}: every --format has its own =FILE, so --output would write nothing",
                    out.display()
                )));
            }
        }
        let targets: Vec<(Format, Option<PathBuf>)> = a
            .format
            .iter()
            .map(|s| (s.format, s.file.clone().or_else(|| a.output.clone())))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for path in targets.iter().filter_map(|(_, p)| p.as_ref()) {
            if path.is_dir() {
                return Err(CliError::usage(format!(
                    "{}: --output is a directory; give a file name",
                    path.display()
                )));
            }
            if !seen.insert(path.clone()) {
                return Err(CliError::usage(format!(
                    "{}: two reports would write the same file; give each --format its own =FILE",
                    path.display()
                )));
            }
        }
        Ok(Outputs {
            targets,
            max_annotations: a.max_annotations,
            plans: a.plans.clone(),
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
    ) -> Result<(), CliError> {
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
        for name in self.plans.iter().filter(|n| n.as_str() != "-") {
            let Ok(file) = std::fs::File::open(name) else {
                continue;
            };
            // SAFETY: read-only private map of the plan just checked, read once here; see `read_plan`.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                locations.add_plan_entries(name, &map);
            } else if let Ok(bytes) = std::fs::read(name) {
                locations.add_plan_entries(name, &bytes);
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
fn append_summary(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            CliError::usage(format!(
                "{}: cannot write the job summary ($GITHUB_STEP_SUMMARY): {e}",
                path.display()
            ))
        })
}

/// Writes through a buffer to `dest` or standard output; a closed standard output (`| head`) is not an error.
fn write_with(
    dest: Option<&Path>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    /// Large enough that a 50 MiB report goes out in few system calls.
    const BUF: usize = 1 << 20;
    match dest {
        Some(p) => std::fs::File::create(p)
            .and_then(|file| {
                let mut w = std::io::BufWriter::with_capacity(BUF, file);
                f(&mut w)?;
                w.flush()
            })
            .map_err(|e| CliError::usage(format!("{}: cannot write output: {e}", p.display()))),
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
    fn parses_format_with_and_without_file() {
        assert_eq!(
            "sarif=out/x.sarif".parse::<OutputSpec>().unwrap(),
            OutputSpec {
                format: Format::Sarif,
                file: Some(PathBuf::from("out/x.sarif"))
            }
        );
        assert_eq!("TEXT".parse::<OutputSpec>().unwrap().format, Format::Text);
        let e = "xml".parse::<OutputSpec>().unwrap_err().to_string();
        assert!(
            e.contains("\"xml\" is not a format: use one of text, json, sarif"),
            "{e}"
        );
        assert!("sarif=".parse::<OutputSpec>().is_err());
    }

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
