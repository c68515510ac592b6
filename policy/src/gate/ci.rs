//! The CI flags of a check: `--skip-rule` (checked before evaluation, applied after) and `--baseline` (applied
//! after evaluation), both turning findings into statuses of their own with the flag that set them, and
//! `--soft-fail`, which changes no result. All three are written into the decision's `ci` field.

use std::collections::BTreeMap;

use crate::engine::PolicyEngine;
use crate::gate::{GateError, RequestedSkip, SkipProblem};
use crate::model::baseline::{baselinable, Baseline};
use crate::model::decision::{
    BaselineKey, BaselineUse, CiFlags, Decision, Enforcement, Status, Suppression,
};

/// Checks every `--skip-rule` against the loaded bundle (conftest rules included): the rule must exist and must
/// not be hard-mandatory. The first problem is the error.
pub fn check_skips(engine: &PolicyEngine, skips: &[RequestedSkip]) -> Result<(), GateError> {
    let infos = engine.rule_infos();
    for s in skips {
        let problem = match infos.iter().find(|i| i.id == s.rule_id) {
            None => Some(SkipProblem::UnknownRule {
                rule_id: s.rule_id.clone(),
            }),
            Some(i) if i.enforcement == Enforcement::HardMandatory => {
                Some(SkipProblem::HardMandatory {
                    rule_id: s.rule_id.clone(),
                })
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(GateError::Skip {
                origin: s.origin.clone(),
                problem,
            });
        }
    }
    Ok(())
}

/// Applies skips, then the baseline, to the findings that would fail or warn (never to pass, exempted or
/// overridden results), and writes what was asked into `decision.ci`. Returns whether a status changed.
pub(crate) fn apply(
    decision: &mut Decision,
    soft_fail: bool,
    skips: &[RequestedSkip],
    baseline: Option<&Baseline>,
) -> bool {
    let mut changed = false;
    for r in &mut decision.results {
        if !baselinable(r.status) {
            continue;
        }
        if let Some(s) = skips.iter().find(|s| *s.rule_id == *r.rule_id) {
            r.suppression = Some(Box::new(Suppression {
                origin: s.origin.clone(),
                was: r.status,
            }));
            r.status = Status::Skipped;
            changed = true;
        }
    }
    let baseline_use = baseline.map(|b| {
        // Key -> entry index, and which entries matched a finding.
        let keys: Vec<BaselineKey> = b.entries.iter().map(|e| e.key()).collect();
        let mut index: BTreeMap<&BaselineKey, usize> = BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            index.entry(k).or_insert(i);
        }
        let mut used = vec![false; b.entries.len()];
        let mut matched = 0;
        let origin = format!("--baseline {}", b.file);
        for r in &mut decision.results {
            if !baselinable(r.status) && r.status != Status::Skipped {
                continue;
            }
            let key = BaselineKey::of(&r.rule_id, &r.address, &r.path, &r.message);
            if let Some(&i) = index.get(&key) {
                used[i] = true;
                if r.status == Status::Skipped {
                    // Still found, only skipped this run: not stale.
                    continue;
                }
                matched += 1;
                r.suppression = Some(Box::new(Suppression {
                    origin: origin.clone(),
                    was: r.status,
                }));
                r.status = Status::Baselined;
                changed = true;
            }
        }
        // Duplicated keys in the file count as used when their first copy is.
        let stale = keys
            .iter()
            .enumerate()
            .filter(|(i, k)| !used[*i] && !index.get(k).is_some_and(|j| used[*j]))
            .map(|(_, k)| k.clone())
            .collect();
        BaselineUse {
            file: b.file.clone(),
            sha256: b.sha256.clone(),
            entries: b.entries.len(),
            matched,
            stale,
        }
    });
    decision.ci = CiFlags {
        soft_fail,
        skip_rules: skips.iter().map(|s| s.rule_id.clone()).collect(),
        baseline: baseline_use,
    };
    changed
}
