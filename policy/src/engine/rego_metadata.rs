//! `rego.metadata.rule()` and `rego.metadata.chain()`, which regorus 0.14 does not have: the module's own
//! `# METADATA` blocks are known at load time, so each call is replaced by the literal value OPA would return
//! for the rule it is written in (an extension cannot do it: it is not told which rule calls it).
//!
//! Values follow OPA: `rule()` is the annotations of the enclosing rule (`{}` when it has none), with `scope`
//! (`rule` unless the block says otherwise); `chain()` is `[{path, annotations}]` from the rule up to the package,
//! the rule's entry always present (without `annotations` when it has none), the package's only when annotated.

use crate::engine::metadata;
use crate::engine::source::{tokenize, Tok, Token};
use crate::engine::EngineError;

/// Replaces every `rego.metadata.rule()` and `rego.metadata.chain()` call of `src` (module file `path`) by its
/// value. A METADATA block that is not valid YAML, or a call outside any rule, is an error naming file and line.
pub(crate) fn rewrite(path: &str, src: &str) -> Result<String, EngineError> {
    if !src.contains("metadata") {
        return Ok(src.to_string());
    }
    let toks = tokenize(src);
    let calls = find_calls(&toks);
    if calls.is_empty() {
        return Ok(src.to_string());
    }
    let scan = metadata::scan(src);
    // 1-based line right after each block -> its annotations (the item it annotates starts there).
    let mut blocks = Vec::new();
    for (line, yaml) in &scan.blocks {
        let value = crate::yaml::to_json(yaml).map_err(|e| EngineError::Rego {
            location: format!("{path}:{line}"),
            message: format!("METADATA block is not valid YAML: {e}"),
        })?;
        blocks.push((line + yaml.lines().count() + 1, value));
    }
    let annotations_at = |line: usize, scope: &str| {
        blocks.iter().find(|(l, _)| *l == line).map(|(_, v)| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.entry("scope").or_insert_with(|| scope.into());
            }
            v
        })
    };
    let package_ann = annotations_at(scan.package_line, "package");
    let rules = rule_starts(&toks);
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    for call in calls {
        let Some((rule_line, rule_name)) = rules.iter().rev().find(|(l, _)| *l <= call.line) else {
            return Err(EngineError::Rego {
                location: format!("{path}:{}", call.line),
                message: format!("rego.metadata.{}() is only valid inside a rule", call.kind),
            });
        };
        let rule_ann = annotations_at(*rule_line, "rule");
        let value = if call.kind == "rule" {
            rule_ann.unwrap_or_else(|| serde_json::json!({}))
        } else {
            let mut pkg_path: Vec<serde_json::Value> = vec!["data".into()];
            pkg_path.extend(
                scan.package
                    .split('.')
                    .map(|s| serde_json::Value::from(s.trim())),
            );
            let mut rule_path = pkg_path.clone();
            rule_path.push(rule_name.as_str().into());
            let mut chain = vec![match rule_ann {
                Some(a) => serde_json::json!({"path": rule_path, "annotations": a}),
                None => serde_json::json!({"path": rule_path}),
            }];
            if let Some(a) = &package_ann {
                chain.push(serde_json::json!({"path": pkg_path, "annotations": a}));
            }
            serde_json::Value::from(chain)
        };
        out.push_str(&src[last..call.start]);
        out.push_str(&value.to_string());
        last = call.end;
    }
    out.push_str(&src[last..]);
    Ok(out)
}

/// One `rego.metadata.KIND()` call: byte range and line.
struct Call {
    kind: &'static str,
    start: usize,
    end: usize,
    line: usize,
}

fn ident(t: Option<&Token>, name: &str) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::Ident(s)) if s == name)
}

fn punct(t: Option<&Token>, c: char) -> bool {
    t.is_some_and(|t| t.tok == Tok::Punct(c))
}

/// The `rego.metadata.rule()` / `rego.metadata.chain()` calls, in source order.
fn find_calls(toks: &[Token]) -> Vec<Call> {
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if !(ident(toks.get(i), "rego")
            && punct(toks.get(i + 1), '.')
            && ident(toks.get(i + 2), "metadata")
            && punct(toks.get(i + 3), '.')
            && punct(toks.get(i + 5), '(')
            && punct(toks.get(i + 6), ')'))
        {
            continue;
        }
        let kind = if ident(toks.get(i + 4), "rule") {
            "rule"
        } else if ident(toks.get(i + 4), "chain") {
            "chain"
        } else {
            continue;
        };
        out.push(Call {
            kind,
            start: toks[i].start,
            end: toks[i + 6].end,
            line: toks[i].line,
        });
    }
    out
}

/// (1-based line, name) of every top-level rule: an identifier first on its line outside any brackets, other
/// than `package` and `import` (`default NAME` gives NAME).
fn rule_starts(toks: &[Token]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Punct('{' | '[' | '(') => depth += 1,
            Tok::Punct('}' | ']' | ')') => depth -= 1,
            Tok::Ident(name) if depth == 0 && t.first_on_line => {
                if name == "package" || name == "import" {
                    continue;
                }
                let name = if name == "default" {
                    match toks.get(i + 1).map(|n| &n.tok) {
                        Some(Tok::Ident(n)) => n.clone(),
                        _ => continue,
                    }
                } else {
                    name.clone()
                };
                out.push((t.line, name));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "# METADATA\n# title: pkg\npackage p.q\n\nimport rego.v1\n\n# METADATA\n# title: Deny ports\n# custom:\n#   template: 'port %v'\ndeny contains msg if {\n\tm := rego.metadata.rule()\n\tmsg := sprintf(m.custom.template, [1])\n}\n\nwarn contains c if {\n\tc := rego.metadata.chain()\n\ts := \"rego.metadata.rule()\"\n}\n";

    #[test]
    fn calls_become_the_rules_annotations() {
        let out = rewrite("p.rego", SRC).unwrap();
        assert!(
            out.contains(
                r#"m := {"custom":{"template":"port %v"},"scope":"rule","title":"Deny ports"}"#
            ),
            "{out}"
        );
        assert!(
            out.contains(r#"c := [{"path":["data","p","q","warn"]},{"annotations":{"scope":"package","title":"pkg"},"path":["data","p","q"]}]"#),
            "{out}"
        );
        // Text inside strings is left alone.
        assert!(out.contains("s := \"rego.metadata.rule()\""), "{out}");
    }

    #[test]
    fn evaluates_like_opa() {
        let out = rewrite("p.rego", SRC).unwrap();
        let mut e = regorus::Engine::new();
        e.add_policy("p.rego".into(), out).unwrap();
        let v = e.eval_rule("data.p.q.deny".into()).unwrap();
        assert_eq!(
            v.to_json_str().unwrap().replace([' ', '\n'], ""),
            r#"["port1"]"#
        );
    }
}
