//! Building every resource change of a large plan on the available cores, handing the text of finished changes
//! back as it goes; results keep plan order whatever the threads do.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::config::ConfigIndex;
use super::error::AdapterError;
use super::options::{span_in, DoneWith, ParseOptions};
use super::resource_change::{build_change, Built};
use crate::model::PlanContext;

/// One copy of each distinct `paths` map: resources of one type and shape all have the same one.
#[derive(Default)]
struct SharedPaths(std::collections::HashSet<std::sync::Arc<BTreeMap<String, String>>>);

impl SharedPaths {
    fn share(
        &mut self,
        paths: std::sync::Arc<BTreeMap<String, String>>,
    ) -> std::sync::Arc<BTreeMap<String, String>> {
        if let Some(existing) = self.0.get(&*paths) {
            return existing.clone();
        }
        self.0.insert(paths.clone());
        paths
    }
}

/// Resource changes built between two hand-backs of their text to [`DoneWith`].
const RELEASE_EVERY: usize = 64;

/// Resource changes per thread below which a second thread is not worth starting.
const MIN_CHANGES_PER_THREAD: usize = 256;

/// Builds every resource change, in parallel over the available cores; results keep plan order and the
/// error reported is the first in plan order.
pub(super) fn build_changes<'a>(
    changes: &[&RawValue],
    config: &ConfigIndex<'a>,
    context: &PlanContext,
    file: &str,
    opts: ParseOptions,
    bytes: &[u8],
    done: DoneWith<'_>,
) -> Result<Vec<Built<'a>>, AdapterError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(changes.len().div_ceil(MIN_CHANGES_PER_THREAD))
        .max(1);
    let run = |offset: usize, part: &[&RawValue]| -> Result<Vec<Built<'a>>, AdapterError> {
        let mut shared = SharedPaths::default();
        let mut out = Vec::with_capacity(part.len());
        // This worker's text runs from its first change to its last; what it has built is handed back in runs.
        let mut unreleased = part.first().map_or(0, |rc| span_in(bytes, rc.get()).start);
        for (j, rc) in part.iter().enumerate() {
            let mut built = build_change(offset + j, rc, config, context, file)?;
            if let Built::Input(b) = &mut built {
                if opts.keep_inputs {
                    b.input.paths = shared.share(std::mem::take(&mut b.input.paths));
                } else {
                    built = Built::Counted;
                }
            }
            out.push(built);
            if (j + 1) % RELEASE_EVERY == 0 || j + 1 == part.len() {
                let end = span_in(bytes, rc.get()).end;
                done(unreleased..end);
                unreleased = end;
            }
        }
        Ok(out)
    };
    if threads == 1 {
        return run(0, changes);
    }
    let chunk = changes.len().div_ceil(threads);
    let parts: Vec<Result<Vec<Built<'a>>, AdapterError>> = std::thread::scope(|s| {
        let handles: Vec<_> = changes
            .chunks(chunk)
            .enumerate()
            .map(|(k, part)| s.spawn(move || run(k * chunk, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(AdapterError::NotAPlan {
                        file: file.to_string(),
                        message: "reading resource changes failed (a worker thread panicked)"
                            .into(),
                    })
                })
            })
            .collect()
    });
    let mut all = Vec::with_capacity(changes.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}
