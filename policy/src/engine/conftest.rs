//! conftest compatibility: `deny` / `violation` / `warn` rules (and every `deny_*`, `violation_*`, `warn_*` rule)
//! of chosen namespaces, evaluated once on the raw plan JSON as conftest does, so existing conftest policies run
//! unchanged next to the dbplatform bundle.
//!
//! As in conftest: a rule's results are strings or objects with a string `msg` (other keys are kept as the
//! result's `metadata`); a namespace's `exception` rule (a set of lists of rule names, each name the rule's
//! name without its `deny_`/`violation_` prefix) turns the failures of the rules it names into exceptions.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::engine::input_fields::Selection;
use crate::engine::load::{is_rule_package, ScannedModule};
use crate::engine::EngineError;
use crate::model::decision::{
    AppliedException, Enforcement, RuleInfo, RuleResult, Severity, SharedStr, Status,
};

/// Whether conftest queries a rule of this name: `deny`, `violation`, `warn`, or one of them followed by
/// `_name` parts (conftest's `^(deny|violation|warn)(_[a-zA-Z0-9]+)*$`).
pub(crate) fn is_conftest_rule(name: &str) -> bool {
    ["deny", "violation", "warn"]
        .iter()
        .any(|p| match name.strip_prefix(p) {
            Some("") => true,
            Some(rest) => rest.strip_prefix('_').is_some_and(|r| {
                r.split('_')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
            }),
            None => false,
        })
}

fn is_warning(rule: &str) -> bool {
    rule.starts_with("warn")
}

/// The name an `exception` rule uses for `rule` (conftest strips `deny_` and `violation_`, nothing else).
fn exception_name(rule: &str) -> &str {
    rule.strip_prefix("deny_")
        .or_else(|| rule.strip_prefix("violation_"))
        .unwrap_or(rule)
}

/// The keys of an object message other than `msg`.
type Metadata = Box<serde_json::Map<String, serde_json::Value>>;

/// A selected namespace and the conftest rules it defines.
#[derive(Debug, Clone)]
pub(crate) struct Namespace {
    pub name: String,
    /// Its conftest rules (`deny`, `warn_x`...), sorted.
    pub rules: Vec<String>,
    /// Whether it defines an `exception` rule.
    pub has_exceptions: bool,
    /// `--policy` directories its modules came from.
    pub dirs: Vec<PathBuf>,
}

impl Namespace {
    fn info(&self, rule: &str) -> RuleInfo {
        let warn = is_warning(rule);
        RuleInfo {
            id: format!("{}.{}", self.name, rule),
            title: format!("conftest {} rules of {}", rule, self.name),
            version: None,
            severity: if warn { Severity::Low } else { Severity::High },
            enforcement: if warn {
                Enforcement::Advisory
            } else {
                Enforcement::HardMandatory
            },
        }
    }

    /// The pseudo-rules listed in the decision (`NS.deny`, `NS.warn`...).
    pub fn infos(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(|r| self.info(r)).collect()
    }
}

/// Picks the namespaces to evaluate; a requested namespace with no conftest rules is an error.
pub(crate) fn select(
    modules: &[ScannedModule],
    requested: &[String],
    all: bool,
    dirs: &[PathBuf],
) -> Result<Vec<Namespace>, EngineError> {
    if requested.is_empty() && !all {
        return Ok(vec![]);
    }
    let mut found: BTreeMap<String, Namespace> = BTreeMap::new();
    for m in modules
        .iter()
        .filter(|m| m.file.dir.is_some() && !is_rule_package(&m.scan.package))
    {
        let rules: Vec<String> = m
            .scan
            .rule_names
            .iter()
            .filter(|r| is_conftest_rule(r))
            .cloned()
            .collect();
        if rules.is_empty() {
            continue;
        }
        let ns = found
            .entry(m.scan.package.clone())
            .or_insert_with(|| Namespace {
                name: m.scan.package.clone(),
                rules: vec![],
                has_exceptions: false,
                dirs: vec![],
            });
        ns.has_exceptions |= m.scan.rule_names.iter().any(|r| r == "exception");
        for r in rules {
            if !ns.rules.contains(&r) {
                ns.rules.push(r);
            }
        }
        if let Some(d) = &m.file.dir {
            if !ns.dirs.contains(d) {
                ns.dirs.push(d.clone());
            }
        }
    }
    for ns in found.values_mut() {
        ns.rules.sort();
    }
    let dir_list = || {
        if dirs.is_empty() {
            "(no --policy directory given)".to_string()
        } else {
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    if all {
        if found.is_empty() {
            return Err(EngineError::NoRules(format!(
                "--all-namespaces: no package in {} defines deny/violation/warn rules",
                dir_list()
            )));
        }
        return Ok(found.into_values().collect());
    }
    let mut out = Vec::new();
    for name in requested {
        match found.get(name) {
            Some(ns) => out.push(ns.clone()),
            None => {
                return Err(EngineError::NoRules(format!(
                    "namespace {name} defines no deny/violation/warn rules in {}",
                    dir_list()
                )))
            }
        }
    }
    Ok(out)
}

/// Evaluates the namespaces on the raw plan JSON; `origin` (the plan file) is the result's address. The CLI
/// converts the plan text directly instead ([`evaluate_value`]); this form serves the engine's tests.
#[cfg(test)]
pub(crate) fn evaluate(
    namespaces: &[Namespace],
    prepared: &regorus::Engine,
    raw: &serde_json::Value,
    origin: &str,
) -> Result<Vec<RuleResult>, EngineError> {
    use serde::Deserialize;
    // Deserialize straight from the borrowed JSON tree: no clone of a large plan.
    let input = regorus::Value::deserialize(raw).map_err(|e| EngineError::Eval {
        address: origin.into(),
        message: format!("cannot convert plan for conftest rules: {e}"),
    })?;
    evaluate_value(namespaces, prepared, input, origin)
}

/// The raw plan JSON text as a rule input, built directly (no intermediate JSON tree of a large plan), with only
/// the parts the modules can read (see `input_fields`): a plan's `planned_values` and `prior_state` repeat most
/// of its resource changes, and conftest policies rarely read them.
pub(crate) fn plan_value(
    text: &str,
    origin: &str,
    selection: &Selection,
    done: crate::adapter::DoneWith<'_>,
) -> Result<regorus::Value, EngineError> {
    let fail = |e: String| EngineError::Eval {
        address: origin.into(),
        message: format!(
            "cannot convert plan for conftest rules: {}",
            e.lines().next().unwrap_or("")
        ),
    };
    let wanted = match selection {
        Selection::Members(m) => m,
        Selection::Whole => {
            return regorus::Value::from_json_str(text).map_err(|e| fail(e.to_string()))
        }
    };
    let Ok(members) = serde_json::from_str::<BTreeMap<&str, &serde_json::value::RawValue>>(text)
    else {
        // Not an object of plainly written keys: the whole text, as conftest reads it.
        return regorus::Value::from_json_str(text).map_err(|e| fail(e.to_string()));
    };
    // Member by member, so a pruned copy of the plan's text is never made whole. The text of members no module
    // reads is handed back at once, each other member's once it is converted.
    let span = |raw: &serde_json::value::RawValue| {
        crate::adapter::plan_json::span_in(text.as_bytes(), raw.get())
    };
    let mut wanted_members = Vec::new();
    for (key, raw) in members {
        match wanted.get(key) {
            Some(sel) => wanted_members.push((key, raw, sel)),
            None => done(span(raw)),
        }
    }
    let mut plan = regorus::Value::new_object();
    for (key, raw, sel) in wanted_members {
        let v = if sel.is_whole() {
            regorus::Value::from_json_str(raw.get())
        } else {
            let mut pruned = String::new();
            sel.prune(raw.get(), &mut pruned);
            regorus::Value::from_json_str(&pruned)
        }
        .map_err(|e| fail(e.to_string()))?;
        done(span(raw));
        plan.as_object_mut()
            .map_err(|e| fail(e.to_string()))?
            .insert(regorus::Value::from(key), v);
    }
    Ok(plan)
}

/// Like [`evaluate`], on a plan already converted to a rule input.
pub(crate) fn evaluate_value(
    namespaces: &[Namespace],
    prepared: &regorus::Engine,
    input: regorus::Value,
    origin: &str,
) -> Result<Vec<RuleResult>, EngineError> {
    let mut eng = prepared.clone();
    eng.set_input(input);
    let mut out = Vec::new();
    for ns in namespaces {
        let excepted = if ns.has_exceptions {
            exception_names(&mut eng, ns, origin)?
        } else {
            Default::default()
        };
        for rule in &ns.rules {
            let info = ns.info(rule);
            let query = format!("data.{}.{}", ns.name, rule);
            let v = eng.eval_rule(query.clone()).map_err(|e| {
                let (loc, why) = crate::engine::error::describe(&e);
                EngineError::Eval {
                    address: origin.into(),
                    message: match loc {
                        Some(l) => format!("{}: {l}: {why}", info.id),
                        None => format!("{}: {why}", info.id),
                    },
                }
            })?;
            let json = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
            let items: Vec<serde_json::Value> = match json {
                serde_json::Value::Array(a) => a,
                serde_json::Value::Null => vec![],
                // A rule that is not a set (`deny = true`): conftest reads no message from it.
                _ => vec![],
            };
            let mut msgs: Vec<(String, Option<Metadata>)> = Vec::new();
            for item in items {
                match item {
                    serde_json::Value::String(s) => msgs.push((s, None)),
                    serde_json::Value::Object(mut o) => match o.remove("msg") {
                        Some(serde_json::Value::String(m)) => {
                            msgs.push((m, (!o.is_empty()).then(|| Box::new(o))))
                        }
                        _ => {
                            return Err(EngineError::Eval {
                                address: origin.into(),
                                message: format!(
                                    "{}: a result object has no string `msg` (conftest requires one): {}",
                                    info.id,
                                    serde_json::Value::Object(o)
                                ),
                            })
                        }
                    },
                    // conftest ignores results that are neither strings nor objects.
                    _ => {}
                }
            }
            // One result per distinct message, in order (metadata compared as JSON text).
            msgs.sort_by_cached_key(|(m, meta)| {
                (
                    m.clone(),
                    meta.as_ref()
                        .map(|o| serde_json::Value::Object((**o).clone()).to_string()),
                )
            });
            msgs.dedup();
            let (rule_id, title, address): (SharedStr, SharedStr, SharedStr) = (
                info.id.as_str().into(),
                info.title.as_str().into(),
                origin.into(),
            );
            let mk = |status: Status, message: String| RuleResult {
                rule_id: rule_id.clone(),
                title: title.clone(),
                severity: info.severity,
                enforcement: info.enforcement,
                status,
                address: address.clone(),
                path: String::new(),
                message,
                remediation: SharedStr::from(""),
                references: Default::default(),
                exception: None,
                override_: None,
                suppression: None,
                input: None,
                metadata: None,
            };
            if msgs.is_empty() {
                out.push(mk(Status::Pass, String::new()));
            }
            let name = exception_name(rule);
            let exception = excepted.contains(name).then(|| {
                Box::new(AppliedException {
                    id: format!("data.{}.exception", ns.name),
                    // Reports print these fields; an exception rule has no owner, ticket or expiry of its own.
                    owner: "policy".into(),
                    reason: format!("data.{}.exception[_][_] == {:?}", ns.name, name),
                    ticket: "conftest exception rule".into(),
                    approved_by: "the policy".into(),
                    expires: "no expiry".into(),
                })
            });
            let status = if exception.is_some() {
                Status::Exempted
            } else if is_warning(rule) {
                Status::Warn
            } else {
                Status::Fail
            };
            out.extend(msgs.into_iter().map(|(m, meta)| {
                let mut r = mk(status, m);
                r.exception = exception.clone();
                r.metadata = meta;
                r
            }));
        }
    }
    Ok(out)
}

/// The rule names a namespace's `exception` rule lists for this input (`exception contains ["name", ...]`).
fn exception_names(
    eng: &mut regorus::Engine,
    ns: &Namespace,
    origin: &str,
) -> Result<std::collections::BTreeSet<String>, EngineError> {
    let v = eng
        .eval_rule(format!("data.{}.exception", ns.name))
        .map_err(|e| {
            let (loc, why) = crate::engine::error::describe(&e);
            EngineError::Eval {
                address: origin.into(),
                message: format!(
                    "data.{}.exception: {}{why}",
                    ns.name,
                    loc.map(|l| format!("{l}: ")).unwrap_or_default()
                ),
            }
        })?;
    let mut out = std::collections::BTreeSet::new();
    let json = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Array(entries) = json {
        for e in entries {
            match e {
                serde_json::Value::Array(names) => out.extend(
                    names
                        .into_iter()
                        .filter_map(|n| n.as_str().map(str::to_string)),
                ),
                serde_json::Value::String(n) => {
                    out.insert(n);
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{"format_version":"1.2","planned_values":{"root_module":{}},
        "resource_changes":[{"address":"aws_db_instance.a","type":"aws_db_instance"}],"prior_state":{}}"#;

    fn keys(v: &regorus::Value) -> Vec<String> {
        match serde_json::to_value(v).unwrap() {
            serde_json::Value::Object(m) => m.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn only_fields_the_modules_read_are_converted() {
        let sel = crate::engine::input_fields::input_selection([
            "package p\nr if { some rc in input.resource_changes; input.not_in_plan }",
        ]);
        let v = plan_value(PLAN, "plan.json", &sel, &|_| {}).unwrap();
        assert_eq!(keys(&v), ["resource_changes"]);
        let whole = plan_value(PLAN, "plan.json", &Selection::Whole, &|_| {}).unwrap();
        assert_eq!(
            keys(&whole),
            [
                "format_version",
                "planned_values",
                "prior_state",
                "resource_changes"
            ]
        );
        let rc = serde_json::to_value(&v).unwrap()["resource_changes"][0]["address"].clone();
        assert_eq!(rc, "aws_db_instance.a");
    }

    #[test]
    fn a_plan_that_is_not_an_object_is_converted_whole_or_refused() {
        let sel = crate::engine::input_fields::input_selection([
            "package p\nr if { input.resource_changes }",
        ]);
        let v = plan_value("[1, 2]", "plan.json", &sel, &|_| {}).unwrap();
        assert_eq!(serde_json::to_value(&v).unwrap(), serde_json::json!([1, 2]));
        let e = plan_value("{\"a\": ", "plan.json", &sel, &|_| {}).unwrap_err();
        assert!(e.to_string().contains("cannot convert plan"), "{e}");
    }
}
