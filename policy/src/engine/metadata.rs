//! `# METADATA` parsing: regorus ignores comments, so the engine reads the YAML annotation blocks itself.
//!
//! A block starts with a line `# METADATA` and continues over the following `#` comment lines; it describes the
//! `package` (or rule) line right below it. The rule's identity and filters live under `custom` (see
//! `docs/guides/policy-contract.md`).

use std::collections::BTreeMap;

use crate::engine::EngineError;
use crate::model::decision::{Enforcement, RuleInfo, Severity};

/// Kinds a rule may name in `applies_to`.
pub const KINDS: &[&str] = &[
    "instance",
    "cluster",
    "cluster_member",
    "replica",
    "parameter_group",
    "cluster_parameter_group",
    "subnet_group",
    "role",
    "grant",
    "break_glass",
    "other",
    "migration",
];
/// Actions a rule may name in `actions`.
pub const ACTIONS: &[&str] = &["create", "update", "replace", "delete", "no-op", "read"];
/// Actions a rule sees when its METADATA names none.
pub const DEFAULT_ACTIONS: &[&str] = &["create", "update", "replace", "no-op"];
/// Backends a rule may name in `backends`.
pub const BACKENDS: &[&str] = &["aws", "local"];

/// Everything the engine knows about one rule from its METADATA.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub version: Option<String>,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub remediation: String,
    pub references: BTreeMap<String, Vec<String>>,
    /// Kinds the rule applies to; empty = all kinds.
    pub applies_to: Vec<String>,
    /// Actions the rule applies to (defaults filled in).
    pub actions: Vec<String>,
    /// Normalized input paths the outcome depends on (for unknown handling).
    pub attributes: Vec<String>,
    /// Whether the module defines `not_applicable`: true when the known values alone show the rule cannot fail,
    /// so unknown attributes do not make its result `unknown`.
    pub not_applicable: bool,
    /// Backends the rule applies to; empty = all.
    pub backends: Vec<String>,
    /// Rego package, e.g. `dbplatform.rules.storage_encrypted`.
    pub package: String,
    /// The file the rule came from and the line of its METADATA block.
    pub file: String,
    pub line: usize,
}

impl RuleMeta {
    /// The short form listed in decisions.
    pub fn info(&self) -> RuleInfo {
        RuleInfo {
            id: self.id.clone(),
            title: self.title.clone(),
            version: self.version.clone(),
            severity: self.severity,
            enforcement: self.enforcement,
        }
    }
}

/// What the scan of one module found.
#[derive(Debug, Clone)]
pub struct ModuleScan {
    /// The package path after `package`, e.g. `dbplatform.rules.x`; empty when there is no package line.
    pub package: String,
    /// 1-based line of the package statement.
    pub package_line: usize,
    /// METADATA blocks: (1-based line of `# METADATA`, YAML text).
    pub blocks: Vec<(usize, String)>,
    /// Index into `blocks` of the block directly above `package`, if any.
    pub package_block: Option<usize>,
    /// Top-level rule names defined in the module (`violation`, `deny`, ...).
    pub rule_names: Vec<String>,
}

/// Scans a module's text for its package, METADATA blocks and top-level rule names.
pub fn scan(content: &str) -> ModuleScan {
    let lines: Vec<&str> = content.lines().collect();
    let mut out = ModuleScan {
        package: String::new(),
        package_line: 0,
        blocks: vec![],
        package_block: None,
        rule_names: vec![],
    };
    let mut i = 0;
    let mut last_block_end: Option<(usize, usize)> = None; // (block index, line index after the block)
    while i < lines.len() {
        let t = lines[i].trim();
        if t == "# METADATA" || t == "#METADATA" {
            let start = i;
            let mut yaml = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_start().starts_with('#') {
                let l = lines[i].trim_start();
                let body = l
                    .strip_prefix("# ")
                    .or_else(|| l.strip_prefix('#'))
                    .unwrap_or(l);
                yaml.push_str(body);
                yaml.push('\n');
                i += 1;
            }
            out.blocks.push((start + 1, yaml));
            last_block_end = Some((out.blocks.len() - 1, i));
            continue;
        }
        if out.package.is_empty() {
            if let Some(rest) = t.strip_prefix("package ") {
                out.package = rest.trim().to_string();
                out.package_line = i + 1;
                if let Some((b, end)) = last_block_end {
                    if end == i {
                        out.package_block = Some(b);
                    }
                }
            }
        } else if !lines[i].starts_with([' ', '\t', '#', '}', ']', ')']) && !t.is_empty() {
            let name: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty()
                && name != "import"
                && name != "default"
                && !out.rule_names.contains(&name)
            {
                out.rule_names.push(name);
            } else if name == "default" {
                let rest = t["default".len()..].trim_start();
                let n: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() && !out.rule_names.contains(&n) {
                    out.rule_names.push(n);
                }
            }
        }
        i += 1;
    }
    out
}

fn yaml_str(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn yaml_list(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::Array(s)) => s.iter().filter_map(|x| yaml_str(Some(x))).collect(),
        Some(other) => yaml_str(Some(other)).into_iter().collect(),
        None => vec![],
    }
}

/// Parses the rule METADATA of a module in package `package`; `Ok(None)` when no block carries `custom.id`.
pub fn parse_rule_meta(file: &str, scan: &ModuleScan) -> Result<Option<RuleMeta>, EngineError> {
    // The block above `package` wins; otherwise the first block (above a rule) that has a custom.id.
    let mut order: Vec<usize> = scan.package_block.into_iter().collect();
    order.extend((0..scan.blocks.len()).filter(|i| Some(*i) != scan.package_block));
    for bi in order {
        let (line, yaml) = &scan.blocks[bi];
        let loc = |extra: usize| format!("{file}:{}", line + extra);
        let doc: serde_json::Value =
            crate::yaml::to_json(yaml).map_err(|e| EngineError::Metadata {
                location: loc(e.line().unwrap_or(0)),
                message: format!("METADATA is not valid YAML: {e}"),
            })?;
        let custom = doc.get("custom");
        let Some(id) = yaml_str(custom.and_then(|c| c.get("id"))) else {
            continue;
        };
        let custom = custom.unwrap_or(&serde_json::Value::Null);
        let bad = |message: String| EngineError::Metadata {
            location: loc(0),
            message: format!("rule {id}: {message}"),
        };
        if id.trim().is_empty() {
            return Err(bad("custom.id is empty".into()));
        }
        let sev_s = yaml_str(custom.get("severity")).ok_or_else(|| {
            bad("custom.severity is missing; use critical, high, medium or low".into())
        })?;
        let severity = Severity::parse(&sev_s).ok_or_else(|| {
            bad(format!(
                "bad custom.severity {sev_s:?}; use critical, high, medium or low"
            ))
        })?;
        let enf_s = yaml_str(custom.get("enforcement")).ok_or_else(|| {
            bad(
                "custom.enforcement is missing; use advisory, soft-mandatory or hard-mandatory"
                    .into(),
            )
        })?;
        let enforcement = Enforcement::parse(&enf_s).ok_or_else(|| {
            bad(format!(
                "bad custom.enforcement {enf_s:?}; use advisory, soft-mandatory or hard-mandatory"
            ))
        })?;
        let mut references = BTreeMap::new();
        if let Some(serde_json::Value::Object(m)) = custom.get("references") {
            for (k, v) in m {
                references.insert(k.clone(), yaml_list(Some(v)));
            }
        }
        let applies_to = yaml_list(custom.get("applies_to"));
        check_values(&applies_to, KINDS, "applies_to").map_err(&bad)?;
        let mut actions = yaml_list(custom.get("actions"));
        check_values(&actions, ACTIONS, "actions").map_err(&bad)?;
        if actions.is_empty() {
            actions = DEFAULT_ACTIONS.iter().map(|s| s.to_string()).collect();
        }
        let backends = yaml_list(custom.get("backends"));
        check_values(&backends, BACKENDS, "backends").map_err(&bad)?;
        return Ok(Some(RuleMeta {
            title: yaml_str(doc.get("title")).unwrap_or_else(|| id.clone()),
            description: yaml_str(doc.get("description")).unwrap_or_default(),
            version: yaml_str(custom.get("version")),
            severity,
            enforcement,
            remediation: yaml_str(custom.get("remediation")).unwrap_or_default(),
            references,
            applies_to,
            actions,
            attributes: yaml_list(custom.get("attributes")),
            not_applicable: scan.rule_names.iter().any(|n| n == "not_applicable"),
            backends,
            package: scan.package.clone(),
            file: file.to_string(),
            line: *line,
            id,
        }));
    }
    Ok(None)
}

fn check_values(values: &[String], allowed: &[&str], field: &str) -> Result<(), String> {
    match values.iter().find(|v| !allowed.contains(&v.as_str())) {
        Some(v) => Err(format!(
            "unknown custom.{field} value {v:?}; use one of {}",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "# METADATA\n# title: Storage encrypted\n# custom:\n#   id: DBP-ENC-001\n#   severity: high\n#   enforcement: hard-mandatory\n#   references:\n#     checkov: [CKV_AWS_16]\n#   applies_to: [instance, cluster]\n#   attributes: [settings.storage_encrypted]\npackage dbplatform.rules.storage_encrypted\n\nimport rego.v1\n\nviolation contains {\"msg\": \"x\", \"path\": \"storage_encrypted\"} if {\n  input.settings.storage_encrypted == false\n}\n";

    #[test]
    fn reads_the_block_above_package() {
        let s = scan(RULE);
        assert_eq!(s.package, "dbplatform.rules.storage_encrypted");
        assert_eq!(s.package_line, 11);
        assert_eq!(s.rule_names, vec!["violation"]);
        let m = parse_rule_meta("r.rego", &s).unwrap().unwrap();
        assert_eq!(m.id, "DBP-ENC-001");
        assert_eq!(m.enforcement, Enforcement::HardMandatory);
        assert_eq!(m.references["checkov"], vec!["CKV_AWS_16"]);
        assert_eq!(m.actions, DEFAULT_ACTIONS);
        assert_eq!(m.line, 1);
    }

    #[test]
    fn bad_values_name_file_line_and_fix() {
        let e = parse_rule_meta(
            "r.rego",
            &scan(&RULE.replace("hard-mandatory", "mandatory")),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("r.rego:1: rule DBP-ENC-001: bad custom.enforcement \"mandatory\""),
            "{e}"
        );
        let e = parse_rule_meta("r.rego", &scan(&RULE.replace("cluster]", "clustr]")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("applies_to value \"clustr\""), "{e}");
        assert!(
            parse_rule_meta("r.rego", &scan(&RULE.replace("id: DBP-ENC-001", "name: x")))
                .unwrap()
                .is_none()
        );
    }
}
