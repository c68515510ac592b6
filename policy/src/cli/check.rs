//! `dbpolicy check`: read plans once, evaluate, render, exit 0/1/2.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::adapter::{parse_plan_releasing, ParseOptions};
use crate::cli::{BundleArgs, CheckArgs, CliError, EXIT_FAIL};
use crate::engine::{EngineOptions, PolicyEngine};
use crate::gate::{
    self, DecisionSink, GateRequest, InputFile, Provenance, RequestedOverride, RequestedSkip,
    Source,
};
use crate::model::decision::{Override, SkippedResource};
use crate::model::TierCatalogue;
use crate::report::Locations;

/// Builds engine options from the shared bundle flags.
pub(crate) fn engine_options(b: &BundleArgs) -> Result<EngineOptions, CliError> {
    let mut tiers = None;
    let mut data_files = Vec::new();
    for f in &b.data {
        if f.extension().is_some_and(|e| e == "toml") {
            if tiers.is_some() {
                return Err(CliError::usage(format!(
                    "{}: only one tier catalogue (*.toml) may be given with --data",
                    f.display()
                )));
            }
            tiers = Some(TierCatalogue::from_file(f)?);
        } else {
            data_files.push(f.clone());
        }
    }
    Ok(EngineOptions {
        extra_dirs: b.policy.clone(),
        include_default_bundle: !b.no_default_bundle,
        tiers: tiers.unwrap_or_else(TierCatalogue::embedded),
        exceptions_file: None,
        data_files,
        rego_version: b.rego_version,
        namespaces: vec![],
        all_namespaces: false,
    })
}

pub(crate) fn parse_now(s: &Option<String>) -> Result<DateTime<Utc>, CliError> {
    match s {
        None => Ok(Utc::now()),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| {
                CliError::usage(format!(
                    "--now {s:?}: not an RFC 3339 time ({e}); use e.g. 2026-11-25T12:00:00Z"
                ))
            }),
    }
}

/// Who asks, for the audit record.
pub(crate) fn provenance(a: &CheckArgs, terraform_version: Option<String>) -> Provenance {
    Provenance {
        terraform_workspace: a.workspace.clone(),
        terraform_version,
        ..Provenance::new(Source::Cli, env!("CARGO_PKG_VERSION"))
    }
}

/// The `--override`/`--reason`/`--by` triples, paired in order.
pub(crate) fn overrides(a: &CheckArgs) -> Result<Vec<RequestedOverride>, CliError> {
    if a.overrides.len() != a.reason.len() || a.overrides.len() != a.by.len() {
        return Err(CliError::usage(format!(
            "--override needs one --reason and one --by each: got {} --override, {} --reason, {} --by",
            a.overrides.len(),
            a.reason.len(),
            a.by.len()
        )));
    }
    Ok(a.overrides
        .iter()
        .zip(&a.reason)
        .zip(&a.by)
        .map(|((rule_id, reason), by)| RequestedOverride {
            origin: "--override".into(),
            rule: Override {
                rule_id: rule_id.clone(),
                reason: reason.clone(),
                by: by.clone(),
            },
        })
        .collect())
}

/// A plan file's bytes: the file mapped into memory, or what was read from stdin.
enum PlanBytes {
    /// Mapped, not copied: the pages are the kernel's page cache, and unmapping gives them back at once, where
    /// a freed 40 MiB heap buffer would stay in the process (the allocator keeps it) while the check runs.
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for PlanBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            PlanBytes::Mapped(m) => m,
            PlanBytes::Read(v) => v,
        }
    }
}

impl PlanBytes {
    /// Gives back the resident pages of `range` (offsets into the plan) that the adapter has finished reading.
    fn release(&self, range: std::ops::Range<usize>) {
        static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let PlanBytes::Mapped(map) = self else { return };
        let page = *PAGE.get_or_init(|| {
            // SAFETY: sysconf has no preconditions.
            usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
                .unwrap_or(4096)
                .max(1)
        });
        let start = range.start.div_ceil(page) * page;
        let end = range.end.min(map.len()) / page * page;
        if start < end {
            // SAFETY: the map is a private, read-only mapping of a file and is never written, so MADV_DONTNEED
            // only drops our copy of those pages: a later read of them (an error message quoting the file, say)
            // faults them in again from the file, with the same bytes. What the crate warns about, pages
            // dropped under a borrow losing their contents, concerns anonymous or written pages. The same
            // caveat as for the map itself applies: another process truncating the file meanwhile.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
}

/// Whether the decision is to be recorded in an audit log (`--audit-log` or `$DBPOLICY_AUDIT_LOG`).
pub(crate) fn audit_configured(a: &CheckArgs) -> bool {
    a.audit_log.is_some()
        || std::env::var_os(crate::audit::config::ENV_LOG).is_some_and(|v| !v.is_empty())
}

/// Reads a plan file (or stdin for `-`) with a one-line error naming it.
fn read_plan(name: &str) -> Result<(PlanBytes, String, PathBuf), CliError> {
    if name == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::usage(format!("<stdin>: cannot read plan: {e}")))?;
        return Ok((PlanBytes::Read(buf), "<stdin>".into(), PathBuf::from(".")));
    }
    let p = Path::new(name);
    if p.is_dir() {
        return Err(CliError::usage(format!(
            "{name}: is a directory; pass the plan JSON file (terraform show -json PLANFILE > plan.json)"
        )));
    }
    let cannot = |e: std::io::Error| CliError::usage(format!("{name}: cannot read plan: {e}"));
    let file = std::fs::File::open(p).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    let bytes = if meta.len() == 0 || !meta.is_file() {
        // Empty files cannot be mapped, and pipes or devices (`<(terraform show -json ...)`) have no size.
        let mut buf = Vec::new();
        (&file).read_to_end(&mut buf).map_err(cannot)?;
        PlanBytes::Read(buf)
    } else {
        // SAFETY: the map is read-only and private, and only read while `check` runs. A plan file truncated
        // by another process during those fractions of a second is the one case a map cannot guard against.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => PlanBytes::Mapped(m),
            Err(_) => {
                let mut buf = Vec::new();
                (&file).read_to_end(&mut buf).map_err(cannot)?;
                PlanBytes::Read(buf)
            }
        }
    };
    let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((bytes, name.to_string(), dir))
}

/// The audit log to record the decision in, when one is configured (`--audit-log` or `$DBPOLICY_AUDIT_LOG`).
pub(crate) fn audit_config(a: &CheckArgs) -> Result<Option<crate::audit::AuditConfig>, CliError> {
    if !audit_configured(a) {
        return Ok(None);
    }
    Ok(Some(crate::audit::AuditConfig::resolve(
        a.audit_log.as_deref(),
    )?))
}

/// What evaluating the plans of one check produced, for the reports.
pub(crate) struct Checked {
    pub decision: crate::model::decision::Decision,
    pub engine: PolicyEngine,
    pub locations: Locations,
}

/// Prints `timing: PHASE SECONDS VmHWM, VmRSS` on stderr when `$DBPOLICY_TIMING` is set.
struct Timing {
    on: bool,
    t0: std::time::Instant,
}

impl Timing {
    fn new() -> Self {
        Timing {
            on: std::env::var_os("DBPOLICY_TIMING").is_some(),
            t0: std::time::Instant::now(),
        }
    }

    fn phase(&self, name: &str) {
        if self.on {
            // VmHWM/VmRSS from /proc (Linux), to see which phase sets the peak.
            let mem = std::fs::read_to_string("/proc/self/status")
                .unwrap_or_default()
                .lines()
                .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(", ");
            eprintln!(
                "timing: {name} {:.3}s {mem}",
                self.t0.elapsed().as_secs_f64()
            );
        }
    }
}

/// The `--skip-rule` flags for the gate.
pub(crate) fn skips(a: &CheckArgs) -> Vec<RequestedSkip> {
    a.skip_rules
        .iter()
        .map(|id| RequestedSkip {
            origin: "--skip-rule".into(),
            rule_id: id.clone(),
        })
        .collect()
}

/// Reads, parses and evaluates the plans of `a` through the gate (recording the decision when an audit log is
/// configured and `record` is set). `want_locations`: find `.tf` declarations for the reports.
pub(crate) fn evaluate(
    a: &CheckArgs,
    want_locations: bool,
    record: bool,
) -> Result<Checked, CliError> {
    let record = record && audit_configured(a);
    let now = parse_now(&a.now)?;
    let overrides = overrides(a)?;
    let baseline = a
        .baseline
        .as_deref()
        .map(crate::model::baseline::Baseline::from_file)
        .transpose()?;
    let mut opts = engine_options(&a.bundle)?;
    opts.exceptions_file = a.exceptions.clone();
    opts.namespaces = a.namespaces.clone();
    opts.all_namespaces = a.all_namespaces;
    if a.combine && a.namespaces.is_empty() && !a.all_namespaces {
        return Err(CliError::usage(
            "--combine gives conftest rules all plans as one input: it needs --namespace NS or --all-namespaces",
        ));
    }
    let timing = Timing::new();
    let engine = PolicyEngine::load(&opts)?;
    timing.phase("load bundle");

    let several = a.plans.len() > 1;
    let mut files = Vec::new();
    let mut combined = Vec::new();
    let mut resources = 0;
    let mut terraform_version = None;
    let mut skipped: std::collections::BTreeMap<String, usize> = Default::default();
    let mut locations = Locations::empty();
    // The whole plan as a JSON tree is never built: `raw` keeps only `configuration` (for locations), and
    // conftest rules get the plan converted straight from its text. With no dbplatform rule to evaluate (and no
    // audit record to hash them into) the inputs are still built and checked, but only counted.
    let parse_opts = ParseOptions {
        keep_raw: false,
        keep_inputs: !engine.rules().is_empty() || record,
    };
    for name in &a.plans {
        let (bytes, origin, dir) = read_plan(name)?;
        timing.phase("read plan");
        let done = |range: std::ops::Range<usize>| bytes.release(range);
        let mut raws = Vec::new();
        let mut plan = if engine.has_conftest() && !a.combine {
            // conftest rules read the whole plan: converted from the file's text on a second core while the
            // adapter reads the same text, instead of one after the other. Neither gives pages back while the
            // other may still read them; the file is unmapped once both are done.
            let (parsed, converted) = std::thread::scope(|s| {
                let convert = s.spawn(|| -> Result<regorus::Value, CliError> {
                    let text = std::str::from_utf8(&bytes)
                        .map_err(|e| CliError::usage(format!("{origin}: not UTF-8: {e}")))?;
                    Ok(engine.conftest_input(text, &origin, &|_| {})?)
                });
                let parsed = parse_plan_releasing(&bytes, &origin, parse_opts, &|_| {});
                let converted = convert.join().unwrap_or_else(|_| {
                    Err(CliError::usage(format!(
                        "{origin}: converting the plan for conftest rules stopped unexpectedly"
                    )))
                });
                (parsed, converted)
            });
            // A plan error is reported first.
            let plan = parsed?;
            raws.push((converted?, origin.clone()));
            timing.phase("parse plan + conftest input");
            plan
        } else {
            // A plan error is reported first.
            let plan = parse_plan_releasing(&bytes, &origin, parse_opts, &done)?;
            timing.phase("parse plan");
            if a.combine {
                let text = std::str::from_utf8(&bytes)
                    .map_err(|e| CliError::usage(format!("{origin}: not UTF-8: {e}")))?;
                // conftest's --combine: `[{path, contents}, ...]`, every plan whole.
                let contents = regorus::Value::from_json_str(text)
                    .map_err(|e| CliError::usage(format!("{origin}: not JSON: {e}")))?;
                let mut entry = regorus::Value::new_object();
                let obj = entry
                    .as_object_mut()
                    .map_err(|e| CliError::usage(e.to_string()))?;
                obj.insert(
                    regorus::Value::from("path"),
                    regorus::Value::from(origin.as_str()),
                );
                obj.insert(regorus::Value::from("contents"), contents);
                combined.push(entry);
                timing.phase("conftest input");
            }
            plan
        };
        drop(bytes);
        if want_locations {
            locations.add_plan(
                several.then_some(origin.as_str()),
                &dir,
                &plan.raw,
                &plan.locations,
            );
        }
        for (t, n) in std::mem::take(&mut plan.skipped) {
            *skipped.entry(t).or_default() += n;
        }
        resources += plan.resources;
        terraform_version = terraform_version.or(plan.terraform_version.take());
        files.push(InputFile {
            name: origin,
            inputs: std::mem::take(&mut plan.inputs),
            raws,
        });
    }
    timing.phase("locations");
    let audit = if record { audit_config(a)? } else { None };
    let mut request = GateRequest::new(vec![], now, provenance(a, terraform_version));
    if several {
        request.files = files;
    } else if let Some(f) = files.pop() {
        request.inputs = f.inputs;
        request.raws = f.raws;
    }
    if a.combine {
        request.files.push(InputFile {
            name: COMBINED.into(),
            inputs: vec![],
            raws: vec![(regorus::Value::from(combined), COMBINED.into())],
        });
    }
    // Counted whether or not the inputs were kept.
    request.resources = Some(resources);
    request.overrides = overrides;
    request.mode = a.enforcement;
    request.on_unknown = a.on_unknown;
    request.soft_fail = a.soft_fail;
    request.skip_rules = skips(a);
    request.baseline = baseline;
    let mut decision = gate::decide(
        &engine,
        request,
        audit.as_ref().map(|c| c as &dyn DecisionSink),
    )?;
    timing.phase("evaluate+audit");
    decision.skipped_resources = skipped
        .into_iter()
        .map(|(resource_type, count)| SkippedResource {
            resource_type,
            count,
        })
        .collect();
    Ok(Checked {
        decision,
        engine,
        locations,
    })
}

/// The input name of conftest results under `--combine` (conftest calls it `Combined`).
pub const COMBINED: &str = "combined";

/// Runs `dbpolicy check`.
pub fn run(a: &CheckArgs) -> Result<u8, CliError> {
    let outputs =
        super::outputs::Outputs::new(&a.format, a.output.as_deref(), a.max_annotations, &a.plans)?;
    let timing = Timing::new();
    let Checked {
        decision,
        engine,
        mut locations,
    } = evaluate(a, outputs.want_locations(), true)?;
    // --soft-fail: exit 0 although the (recorded) outcome is fail.
    let code = if decision.blocks() { EXIT_FAIL } else { 0 };
    outputs.write(
        &decision,
        engine.rules(),
        &mut locations,
        a.on_unknown,
        code,
    )?;
    timing.phase("render+write");
    // The process ends right after this: freeing a decision of 100k+ results and the compiled bundle piece by
    // piece costs a tenth of a second on large plans for nothing, so leave it to the OS.
    std::mem::forget(decision);
    std::mem::forget(engine);
    Ok(code)
}
