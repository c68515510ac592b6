//! Evaluation: one query per input over a per-thread clone of the prepared engine, then statuses from
//! enforcement, unknowns, exceptions and overrides, and the decision summary.

use std::collections::BTreeMap;

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::engine::input_fields::Selection;
use crate::engine::order::natural;
use crate::engine::to_value::to_value;
use crate::engine::vm::{Evaluator, Source};
use crate::engine::{EngineError, EvalContext, OnUnknown, PolicyEngine, RuleMeta};
use crate::model::decision::{
    AppliedException, Decision, Enforcement, ExceptionReport, Outcome, References, RuleResult,
    SharedStr, Status, Summary, DECISION_SCHEMA,
};
use crate::model::exception::Applicability;
use crate::model::input::{Input, Kind};

/// Inputs per thread below which a second thread is not worth starting.
const MIN_CHUNK: usize = 32;

/// A rule's texts as results carry them: one shared copy per rule instead of one per result.
struct SharedRule<'a> {
    meta: &'a RuleMeta,
    id: SharedStr,
    title: SharedStr,
    remediation: SharedStr,
    references: References,
}

impl<'a> SharedRule<'a> {
    fn new(meta: &'a RuleMeta) -> Self {
        SharedRule {
            meta,
            id: meta.id.as_str().into(),
            title: meta.title.as_str().into(),
            remediation: meta.remediation.as_str().into(),
            references: Arc::new(meta.references.clone()),
        }
    }
}

/// A work item of [`evaluate_inputs`]: a borrowed input, or an owned one that is dropped as soon as it is
/// evaluated (so a large plan's inputs and its results are not all in memory together).
pub(crate) trait Slot: Send {
    fn input(&self) -> Option<&Input>;
    /// The input to change in place, when the slot owns it (a borrowed one is copied when it must change).
    fn input_mut(&mut self) -> Option<&mut Input> {
        None
    }
    /// Called once the input's results are out.
    fn done(&mut self) {}
}

impl Slot for &Input {
    fn input(&self) -> Option<&Input> {
        Some(self)
    }
}

impl Slot for Option<Input> {
    fn input(&self) -> Option<&Input> {
        self.as_ref()
    }
    fn input_mut(&mut self) -> Option<&mut Input> {
        self.as_mut()
    }
    fn done(&mut self) {
        *self = None;
    }
}

/// The slots sorted by address. A permutation is sorted and the slots moved once: an input is over a
/// kilobyte, and sorting them in place moves each many times.
fn in_address_order<S: Slot>(slots: Vec<S>) -> Vec<S> {
    fn key<S: Slot>(s: &S) -> &str {
        s.input().map(|i| i.address.as_str()).unwrap_or("")
    }
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by(|&a, &b| key(&slots[a]).cmp(key(&slots[b])));
    let mut slots: Vec<Option<S>> = slots.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Inputs per work item at most: small, so both workers stay busy to the end and results come back in small
/// pieces.
const WORK_ITEM: usize = 64;

/// Work items per thread at least: 200 migrations of 100 statements each are 200 heavy inputs, and items of
/// 64 left one worker with 128 of them and the other with 72.
const ITEMS_PER_THREAD: usize = 16;

/// Evaluates every input, in parallel over the available cores; results come out in address order.
pub(crate) fn evaluate_inputs<S: Slot>(
    pe: &PolicyEngine,
    source: &Source,
    slots: Vec<S>,
    ctx: &EvalContext,
) -> Result<Vec<RuleResult>, EngineError> {
    let rules: Vec<SharedRule> = pe.rules.iter().map(SharedRule::new).collect();
    let rules = rules.as_slice();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let threads = threads.min(slots.len().div_ceil(MIN_CHUNK)).max(1);
    // Evaluate in address order: results then come out in decision order and need no sort of their own.
    let mut slots = in_address_order(slots);
    let run = |ev: &mut Evaluator, part: &mut [S]| -> Result<Vec<RuleResult>, EngineError> {
        let mut out = Vec::new();
        for slot in part {
            // An owned input takes its assumed tier in place: copying a migration of thousands of statements
            // to set one field cost more than evaluating some of its rules.
            if let Some(input) = slot.input_mut() {
                assume_tier(pe, input);
            }
            if let Some(input) = slot.input() {
                eval_one(pe, rules, ev, input, ctx, &mut out)?;
            }
            slot.done();
        }
        out.shrink_to_fit();
        Ok(out)
    };
    if threads == 1 {
        let mut ev = Evaluator::new(source)?;
        return run(&mut ev, &mut slots);
    }
    // Workers take the next work item from a shared queue; the first error in address order is reported.
    let item = (slots.len() / (threads * ITEMS_PER_THREAD)).clamp(1, WORK_ITEM);
    let queue = std::sync::Mutex::new(slots.chunks_mut(item).enumerate());
    let failed = std::sync::atomic::AtomicBool::new(false);
    type Piece = (usize, Result<Vec<RuleResult>, EngineError>);
    let pieces: Vec<Vec<Piece>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done: Vec<Piece> = Vec::new();
                    let mut ev = match Evaluator::new(source) {
                        Ok(ev) => ev,
                        Err(e) => {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                            done.push((0, Err(e)));
                            return done;
                        }
                    };
                    while !failed.load(std::sync::atomic::Ordering::Relaxed) {
                        let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
                        let Some((k, part)) = next else { break };
                        let r = run(&mut ev, part);
                        if r.is_err() {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        done.push((k, r));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        0,
                        Err(EngineError::Eval {
                            address: "<worker>".into(),
                            message: "evaluation thread panicked".into(),
                        }),
                    )]
                })
            })
            .collect()
    });
    let mut pieces: Vec<Piece> = pieces.into_iter().flatten().collect();
    pieces.sort_by_key(|(k, _)| *k);
    let mut parts = Vec::with_capacity(pieces.len());
    for (_, r) in pieces {
        parts.push(r?);
    }
    // One vector of the exact size; each piece is freed as soon as it is moved in.
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut all = Vec::with_capacity(total);
    for p in parts {
        all.extend(p);
    }
    Ok(all)
}

/// The input as a regorus value, with only the parts the bundle can read: built straight from the Rust types
/// (members no rule names are never converted at all: the raw `before`/`after` maps are most of an input and
/// most bundles read little of them).
fn input_value(input: &Input, selection: &Selection) -> Result<regorus::Value, EngineError> {
    to_value(input, selection).map_err(|e| EngineError::Eval {
        address: input.address.clone(),
        message: format!("cannot convert input: {e}"),
    })
}

/// Whether the rule's METADATA filters select this input.
pub(crate) fn applies(rule: &RuleMeta, input: &Input) -> bool {
    // Migrations are seen only by rules that name them: a rule for "every resource" means every resource.
    let kind_ok = if rule.applies_to.is_empty() {
        input.kind != Kind::Migration
    } else {
        rule.applies_to.iter().any(|k| k == input.kind.as_str())
    };
    kind_ok
        && rule.actions.iter().any(|a| a == input.action.as_str())
        && (rule.backends.is_empty() || rule.backends.contains(&input.backend))
}

/// `settings.x` and `x` name the same setting.
fn norm(p: &str) -> &str {
    p.strip_prefix("settings.").unwrap_or(p)
}

/// Whether `path` (or a parent or child of it) is unknown in this input.
pub(crate) fn is_unknown(path: &str, unknown: &[String]) -> bool {
    if path.is_empty() {
        return false;
    }
    let p = norm(path);
    unknown.iter().any(|u| {
        let u = norm(u);
        u == p
            || (p.len() > u.len() && p.starts_with(u) && p.as_bytes()[u.len()] == b'.')
            || (u.len() > p.len() && u.starts_with(p) && u.as_bytes()[p.len()] == b'.')
    })
}

/// The resource's own attribute path for a normalized path.
fn raw_path(path: &str, input: &Input) -> String {
    input
        .paths
        .get(path)
        .or_else(|| input.paths.get(norm(path)))
        .cloned()
        .unwrap_or_else(|| norm(path).to_string())
}

fn base_result(rule: &SharedRule, address: &SharedStr, status: Status) -> RuleResult {
    RuleResult {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.meta.severity,
        enforcement: rule.meta.enforcement,
        status,
        address: address.clone(),
        path: String::new(),
        message: String::new(),
        remediation: SharedStr::from(""),
        references: References::default(),
        exception: None,
        override_: None,
        suppression: None,
        input: None,
        metadata: None,
    }
}

fn eval_one(
    pe: &PolicyEngine,
    rules: &[SharedRule],
    ev: &mut Evaluator,
    input: &Input,
    ctx: &EvalContext,
    out: &mut Vec<RuleResult>,
) -> Result<(), EngineError> {
    // A resource that declares no tier is held to the catalogue's default tier (the strictest unless named).
    let assumed;
    let input = match assumed_tier(pe, input) {
        Some(tier) => {
            let mut i = input.clone();
            i.tier = Some(tier);
            i.tier_assumed = true;
            assumed = i;
            &assumed
        }
        None => input,
    };
    let applicable: Vec<&SharedRule> = rules.iter().filter(|r| applies(r.meta, input)).collect();
    if applicable.is_empty() {
        return Ok(());
    }
    let first = out.len();
    // The results an assumed tier decides say so.
    let on_assumed_tier: Vec<&str> = if input.tier_assumed {
        applicable
            .iter()
            .filter(|r| r.meta.attributes.iter().any(|a| a == "tier"))
            .map(|r| r.meta.id.as_str())
            .collect()
    } else {
        Vec::new()
    };
    let address: SharedStr = input.address.as_str().into();
    let value = ev
        .eval(input_value(input, &pe.input_selection)?)
        .map_err(|e| {
            // The whole reason with the rule's file and line, not just the excerpt's first line.
            let (location, reason) = crate::engine::error::describe(&e);
            EngineError::Eval {
                address: input.address.clone(),
                message: match location {
                    Some(l) => format!("{l}: {reason}"),
                    None => reason,
                },
            }
        })?;
    let pairs = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
    // Rule id -> (violations, whether the rule's `not_applicable` holds).
    let mut by_rule: BTreeMap<&str, (&serde_json::Value, bool)> = BTreeMap::new();
    for pair in pairs.as_array().map(Vec::as_slice).unwrap_or_default() {
        if let (Some(id), Some(v)) = (pair.get(0).and_then(|i| i.as_str()), pair.get(1)) {
            let na = pair
                .get(2)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            by_rule.insert(id, (v, na));
        }
    }
    for rule in applicable {
        let entry = by_rule.get(rule.meta.id.as_str()).copied();
        let not_applicable = entry.is_some_and(|(_, na)| na);
        let violations: Vec<&serde_json::Value> = match entry.map(|(v, _)| v) {
            Some(serde_json::Value::Array(a)) => a.iter().collect(),
            Some(v @ (serde_json::Value::Object(_) | serde_json::Value::String(_))) => vec![v],
            _ => {
                // Applicable but no value: the rule's `violation` is undefined. Never a silent pass.
                let mut r = base_result(rule, &address, Status::Unknown);
                r.message =
                    "rule produced no result for this resource (its `violation` set is undefined)"
                        .into();
                out.push(finish_result(pe, rule, input, r, ctx));
                continue;
            }
        };
        if violations.is_empty() {
            // An unknown attribute makes the result `unknown` only when the known values leave the outcome open:
            // the rule's `not_applicable` says when they do not (its tier does not ask, a known value settles it).
            let unknown_attr = rule
                .meta
                .attributes
                .iter()
                .find(|a| is_unknown(a, &input.unknown))
                .filter(|_| !not_applicable);
            match unknown_attr {
                Some(a) => {
                    let mut r = base_result(rule, &address, Status::Unknown);
                    r.path = raw_path(a, input);
                    r.message = format!("outcome depends on {a}, which is unknown until apply");
                    out.push(finish_result(pe, rule, input, r, ctx));
                }
                None => out.push(base_result(rule, &address, Status::Pass)),
            }
            continue;
        }
        let mut sorted: Vec<(String, String)> = violations
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => (String::new(), s.clone()),
                other => (
                    other
                        .get("path")
                        .and_then(|p| p.as_str())
                        .unwrap_or("")
                        .to_string(),
                    other
                        .get("msg")
                        .and_then(|p| p.as_str())
                        .map(str::to_string)
                        .unwrap_or_else(|| other.to_string()),
                ),
            })
            .collect();
        sorted.sort_by(|a, b| natural(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
        sorted.dedup();
        for (path, msg) in sorted {
            let status = if is_unknown(&path, &input.unknown) {
                Status::Unknown
            } else {
                Status::Fail
            };
            let mut r = base_result(rule, &address, status);
            if status == Status::Unknown {
                r.message = format!(
                    "{msg} (the value of {} is unknown until apply)",
                    norm(&path)
                );
            } else {
                r.message = msg;
            }
            r.path = if path.is_empty() {
                String::new()
            } else {
                raw_path(&path, input)
            };
            out.push(finish_result(pe, rule, input, r, ctx));
        }
    }
    if input.kind == Kind::Migration {
        for r in out[first..].iter_mut().filter(|r| r.status == Status::Pass) {
            if let Some(meta) = pe.rules.iter().find(|m| *m.id == *r.rule_id) {
                r.enforcement = effective_enforcement(pe, meta, input);
            }
        }
    }
    if !on_assumed_tier.is_empty() {
        let note = format!(
            "assumed {}: no tier declared",
            input.tier.as_deref().unwrap_or_default()
        );
        for r in out[first..]
            .iter_mut()
            .filter(|r| on_assumed_tier.contains(&&*r.rule_id))
        {
            r.message = if r.message.is_empty() {
                note.clone()
            } else {
                format!("{} ({note})", r.message)
            };
        }
    }
    Ok(())
}

/// Sets the tier to assume on an input that declares none.
fn assume_tier(pe: &PolicyEngine, input: &mut Input) {
    if let Some(tier) = assumed_tier(pe, input) {
        input.tier = Some(tier);
        input.tier_assumed = true;
    }
}

/// The tier to assume for an input that declares none (and whose tier is not merely unknown until apply).
fn assumed_tier(pe: &PolicyEngine, input: &Input) -> Option<String> {
    if input.tier.is_some() || input.tier_assumed || is_unknown("tier", &input.unknown) {
        return None;
    }
    pe.tiers.default_tier().map(str::to_string)
}

/// Whether an unknown result of this enforcement fails the check.
pub fn unknown_fails(enforcement: Enforcement, on_unknown: Option<OnUnknown>) -> bool {
    match (enforcement, on_unknown) {
        (Enforcement::Advisory, _) => false,
        (_, Some(OnUnknown::Fail)) => true,
        (_, Some(OnUnknown::Warn)) => false,
        (e, None) => e == Enforcement::HardMandatory,
    }
}

/// The enforcement a rule's result has for this input: for a migration, the tier's `migration_enforcement`
/// when the catalogue sets one (tier-0/1 hard-mandatory, tier-3 advisory), else the rule's own.
fn effective_enforcement(pe: &PolicyEngine, rule: &RuleMeta, input: &Input) -> Enforcement {
    if input.kind == Kind::Migration {
        if let Some(e) = input
            .tier
            .as_deref()
            .and_then(|t| pe.tiers.get(t))
            .and_then(|t| t.migration_enforcement)
        {
            return e;
        }
    }
    rule.enforcement
}

/// Applies enforcement, exceptions and overrides to a non-pass result, and fills remediation/references.
fn finish_result(
    pe: &PolicyEngine,
    shared: &SharedRule,
    input: &Input,
    mut r: RuleResult,
    ctx: &EvalContext,
) -> RuleResult {
    let rule = shared.meta;
    let enforcement = effective_enforcement(pe, rule, input);
    r.enforcement = enforcement;
    r.remediation = shared.remediation.clone();
    r.references = shared.references.clone();
    if r.status == Status::Fail && enforcement == Enforcement::Advisory {
        r.status = Status::Warn;
    }
    let today = ctx.now.date_naive();
    if let Some(e) = pe.exceptions.iter().find(|e| {
        e.matches_input(&rule.id, input)
            && e.matches_path(&r.path)
            && e.applicability(today, input.tier.as_deref(), &pe.tiers) == Applicability::Applies
    }) {
        r.status = Status::Exempted;
        r.exception = Some(Box::new(AppliedException {
            id: e.id.clone(),
            owner: e.owner.clone(),
            reason: e.reason.clone(),
            ticket: e.ticket.clone(),
            approved_by: e.approved_by.clone(),
            expires: e.expires.to_string(),
        }));
        return r;
    }
    let would_fail = r.status == Status::Fail
        || (r.status == Status::Unknown && unknown_fails(enforcement, ctx.on_unknown));
    if would_fail && enforcement == Enforcement::SoftMandatory {
        if let Some(o) = ctx.overrides.iter().find(|o| o.rule_id == rule.id) {
            r.status = Status::Overridden;
            r.override_ = Some(Box::new(o.clone()));
        }
    }
    r
}

/// What the decision needs of the inputs, taken before they are evaluated (and, for a large plan, dropped).
pub(crate) struct Evaluated {
    count: usize,
    /// Address -> declared tier; only kept when there are exceptions to report on.
    tiers: BTreeMap<String, Option<String>>,
}

impl Evaluated {
    pub(crate) fn of<'a>(
        pe: &PolicyEngine,
        inputs: impl ExactSizeIterator<Item = &'a Input>,
    ) -> Self {
        let count = inputs.len();
        let tiers = if pe.exceptions.is_empty() {
            BTreeMap::new()
        } else {
            inputs
                .map(|i| (i.address.clone(), i.tier.clone()))
                .collect()
        };
        Evaluated { count, tiers }
    }
}

/// Sorts results, counts them, reports exceptions and builds the decision.
pub(crate) fn finish(
    pe: &PolicyEngine,
    inputs: &Evaluated,
    mut results: Vec<RuleResult>,
    ctx: &EvalContext,
) -> Decision {
    fn order(a: &RuleResult, b: &RuleResult) -> std::cmp::Ordering {
        (&*a.address, &*a.rule_id)
            .cmp(&(&*b.address, &*b.rule_id))
            .then_with(|| natural(&a.path, &b.path))
            .then_with(|| a.message.cmp(&b.message))
    }
    // Usually already in order (inputs are evaluated by address); conftest results appended at the end are not.
    if !results.is_sorted_by(|a, b| order(a, b).is_le()) {
        results.sort_by(order);
    }
    let rules = pe.rule_infos();
    let timestamp = ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let tally = tally(&pe.bundle_hash, &timestamp, &results, ctx.on_unknown);
    let summary = Summary {
        resources: inputs.count,
        rules: rules.len(),
        ..tally.summary
    };
    let exceptions = exception_reports(pe, inputs, &results, ctx);
    Decision {
        schema: DECISION_SCHEMA.to_string(),
        decision_id: tally.decision_id,
        timestamp,
        source: ctx.source.clone(),
        bundle_hash: pe.bundle_hash.clone(),
        rules,
        results,
        summary,
        outcome: tally.outcome,
        exceptions,
        skipped_resources: vec![],
        inputs: vec![],
        ci: Default::default(),
    }
}

/// The counts, outcome and id a decision gets from its results' final statuses.
pub(crate) struct Tally {
    /// Counts per status (`resources` and `rules` are left at zero for the caller).
    pub(crate) summary: Summary,
    pub(crate) outcome: Outcome,
    /// Derived from the bundle, the time and every result, so a decision whose statuses change gets a new id.
    pub(crate) decision_id: String,
}

/// Counts statuses, decides the outcome (a failing result, or an unknown one that fails under `on_unknown`) and
/// derives the decision id. The one place these are computed: evaluation uses it, and so does the gate after an
/// enforcement mode changed statuses, so a decision never reports an outcome its results do not support.
pub(crate) fn tally(
    bundle_hash: &str,
    timestamp: &str,
    results: &[RuleResult],
    on_unknown: Option<OnUnknown>,
) -> Tally {
    let mut summary = Summary::default();
    let mut fail = false;
    let mut h = Sha256::new();
    h.update(bundle_hash.as_bytes());
    h.update(timestamp.as_bytes());
    for r in results {
        match r.status {
            Status::Pass => summary.pass += 1,
            Status::Fail => {
                summary.fail += 1;
                fail = true;
            }
            Status::Warn => summary.warn += 1,
            Status::Unknown => {
                summary.unknown += 1;
                fail |= unknown_fails(r.enforcement, on_unknown);
            }
            Status::Exempted => summary.exempted += 1,
            Status::Overridden => summary.overridden += 1,
            Status::Skipped => summary.skipped += 1,
            Status::Baselined => summary.baselined += 1,
        }
        for part in [
            &*r.address,
            &*r.rule_id,
            r.path.as_str(),
            r.message.as_str(),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(r.status.as_str().as_bytes());
    }
    let digest = crate::hex::lower(&h.finalize());
    let decision_id = format!(
        "{}-{}-{}-{}-{}",
        &digest[0..8],
        &digest[8..12],
        &digest[12..16],
        &digest[16..20],
        &digest[20..32]
    );
    Tally {
        summary,
        outcome: if fail { Outcome::Fail } else { Outcome::Pass },
        decision_id,
    }
}

/// Recomputes a finished decision's status counts, outcome and id from its results, keeping `resources` and
/// `rules`: for the gate, after an enforcement mode changed statuses.
pub(crate) fn retally(decision: &mut Decision, on_unknown: Option<OnUnknown>) {
    let t = tally(
        &decision.bundle_hash,
        &decision.timestamp,
        &decision.results,
        on_unknown,
    );
    decision.summary = Summary {
        resources: decision.summary.resources,
        rules: decision.summary.rules,
        ..t.summary
    };
    decision.outcome = t.outcome;
    decision.decision_id = t.decision_id;
}

/// For each exception of the file: applied, or why not (expired, unapproved, too long, unused).
fn exception_reports(
    pe: &PolicyEngine,
    inputs: &Evaluated,
    results: &[RuleResult],
    ctx: &EvalContext,
) -> Vec<ExceptionReport> {
    let today = ctx.now.date_naive();
    let tiers = &inputs.tiers;
    pe.exceptions
        .iter()
        .map(|e| {
            let mut rep = ExceptionReport {
                id: e.id.clone(),
                rule: e.rule.clone(),
                resource: e.resource.clone(),
                status: "unused".into(),
                detail: String::new(),
            };
            if results.iter().any(|r| r.exception.as_ref().is_some_and(|x| x.id == e.id)) {
                rep.status = "applied".into();
                return rep;
            }
            // Why it did not apply to a result it matched.
            let matched = results.iter().find(|r| r.status != Status::Pass && e.matches(&r.rule_id, &r.address));
            match matched {
                None => match e.applicability(today, None, &pe.tiers) {
                    Applicability::Expired => {
                        rep.status = "expired".into();
                        rep.detail = format!("expired on {}; matched no finding", e.expires);
                    }
                    Applicability::Unapproved => {
                        rep.status = "unapproved".into();
                        rep.detail = "approved_by is empty; matched no finding".into();
                    }
                    _ => rep.detail = "matched no finding".into(),
                },
                Some(r) => match e.applicability(today, tiers.get(&*r.address).and_then(Option::as_deref), &pe.tiers) {
                    Applicability::Expired => {
                        rep.status = "expired".into();
                        rep.detail = format!("expired on {}, not applied to {}", e.expires, r.address);
                    }
                    Applicability::Unapproved => {
                        rep.status = "unapproved".into();
                        rep.detail = format!("approved_by is empty, not applied to {}", r.address);
                    }
                    Applicability::TooLong { days, max, tier } => {
                        rep.status = "too-long".into();
                        rep.detail = format!("lasts {days} days, more than the {max} allowed for {tier}; not applied to {}", r.address);
                    }
                    Applicability::Applies => rep.detail = format!("matched {} but did not apply", r.address),
                },
            }
            rep
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_paths_match_settings_prefix_and_parents() {
        let unknown = vec!["settings.kms_key_id".to_string(), "tags".to_string()];
        assert!(is_unknown("kms_key_id", &unknown));
        assert!(is_unknown("settings.kms_key_id", &unknown));
        assert!(is_unknown("tags.owner", &unknown));
        assert!(!is_unknown("kms", &unknown));
        assert!(!is_unknown("", &unknown));
    }

    #[test]
    fn unknown_failure_follows_enforcement_by_default() {
        assert!(unknown_fails(Enforcement::HardMandatory, None));
        assert!(!unknown_fails(Enforcement::SoftMandatory, None));
        assert!(unknown_fails(
            Enforcement::SoftMandatory,
            Some(OnUnknown::Fail)
        ));
        assert!(!unknown_fails(Enforcement::Advisory, Some(OnUnknown::Fail)));
        assert!(!unknown_fails(
            Enforcement::HardMandatory,
            Some(OnUnknown::Warn)
        ));
    }
}
