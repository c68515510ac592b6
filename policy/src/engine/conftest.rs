//! conftest compatibility: `deny` / `violation` / `warn` rules of chosen namespaces, evaluated once on the raw
//! plan JSON as conftest does, so existing conftest policies run unchanged next to the dbplatform bundle.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::engine::input_fields::Selection;
use crate::engine::load::{is_rule_package, ScannedModule};
use crate::engine::EngineError;
use crate::model::decision::{Enforcement, RuleInfo, RuleResult, Severity, SharedStr, Status};

/// Rule names conftest queries in a namespace.
const CONFTEST_RULES: &[&str] = &["deny", "violation", "warn"];

/// A selected namespace and the conftest rules it defines.
#[derive(Debug, Clone)]
pub(crate) struct Namespace {
    pub name: String,
    /// Subset of `deny`, `violation`, `warn`, sorted.
    pub rules: Vec<String>,
    /// `--policy` directories its modules came from.
    pub dirs: Vec<PathBuf>,
}

impl Namespace {
    fn info(&self, rule: &str) -> RuleInfo {
        let warn = rule == "warn";
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
            .filter(|r| CONFTEST_RULES.contains(&r.as_str()))
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
                dirs: vec![],
            });
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

/// Evaluates the namespaces on the raw plan JSON; `origin` (the plan file) is the result's address.
pub(crate) fn evaluate(
    namespaces: &[Namespace],
    prepared: &regorus::Engine,
    raw: &serde_json::Value,
    origin: &str,
) -> Result<Vec<RuleResult>, EngineError> {
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
        for rule in &ns.rules {
            let info = ns.info(rule);
            let v = eng
                .eval_rule(format!("data.{}.{}", ns.name, rule))
                .map_err(|e| EngineError::Eval {
                    address: origin.into(),
                    message: format!(
                        "{}: {}",
                        info.id,
                        e.to_string().lines().next().unwrap_or("")
                    ),
                })?;
            let json = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
            let items: Vec<serde_json::Value> = match json {
                serde_json::Value::Array(a) => a,
                serde_json::Value::Null => vec![],
                other => vec![other],
            };
            let mut msgs: Vec<String> = items
                .into_iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Object(o) => match o.get("msg") {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        _ => serde_json::Value::Object(o).to_string(),
                    },
                    other => other.to_string(),
                })
                .collect();
            msgs.sort();
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
            };
            if msgs.is_empty() {
                out.push(mk(Status::Pass, String::new()));
            }
            let status = if rule == "warn" {
                Status::Warn
            } else {
                Status::Fail
            };
            out.extend(msgs.into_iter().map(|m| mk(status, m)));
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
