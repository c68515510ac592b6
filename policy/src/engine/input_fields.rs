//! Which top-level `input` fields a bundle can read, so each resource's input document is handed to the engine
//! without the fields no rule looks at (the raw `before` attributes, `paths`, `context`...). Converting the
//! input into the engine's value type is a large part of evaluating a big plan, and rules cannot tell the
//! difference: a field that no module names cannot be read.
//!
//! The scan is deliberately conservative. It reads the Rego source token by token, skipping comments and string
//! literals, and accepts only `input.NAME` and `input["NAME"]`. Any other use of `input` (alone, `input[x]`,
//! `with input as`, `import input`, passed to a function) means every field may be read, and nothing is dropped.

use std::collections::BTreeSet;

/// The fields named after `input` in these module sources, or `None` when some use can read any field.
pub fn referenced_input_fields<'a>(
    sources: impl IntoIterator<Item = &'a str>,
) -> Option<BTreeSet<String>> {
    let mut fields = BTreeSet::new();
    for src in sources {
        scan(src, &mut fields)?;
    }
    Some(fields)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Adds the fields `src` reads to `fields`; `None` when it can read any.
fn scan(src: &str, fields: &mut BTreeSet<String>) -> Option<()> {
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            c if is_ident(c) => {
                let start = i;
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                let after_dot = start > 0 && b[start - 1] == b'.';
                if &src[start..i] == "input" && !after_dot {
                    i = field_after(src, i, fields)?;
                }
            }
            _ => i += 1,
        }
    }
    Some(())
}

/// Reads `.NAME` or `["NAME"]` at `i` (just after `input`) into `fields`; returns where scanning goes on.
fn field_after(src: &str, i: usize, fields: &mut BTreeSet<String>) -> Option<usize> {
    let b = src.as_bytes();
    match b.get(i) {
        Some(b'.') => {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && is_ident(b[j]) {
                j += 1;
            }
            if j == start {
                return None;
            }
            fields.insert(src[start..j].to_string());
            Some(j)
        }
        Some(b'[') if b.get(i + 1) == Some(&b'"') => {
            let start = i + 2;
            let mut j = start;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' {
                    return None;
                }
                j += 1;
            }
            if b.get(j + 1) != Some(&b']') {
                return None;
            }
            fields.insert(src[start..j].to_string());
            Some(j + 2)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(src: &str) -> Option<Vec<String>> {
        referenced_input_fields([src]).map(|s| s.into_iter().collect())
    }

    #[test]
    fn dotted_and_quoted_fields_are_collected() {
        let src = r#"package x
import rego.v1
violation contains msg if {
	input.settings.storage_encrypted == false
	t := input["tier"]
	msg := sprintf("%s", [input.address])
}"#;
        assert_eq!(
            fields(src),
            Some(vec!["address".into(), "settings".into(), "tier".into()])
        );
    }

    #[test]
    fn comments_strings_and_other_objects_inputs_are_not_uses() {
        let src = "package x\n# METADATA\n# description: the input document, input alone\n\
                   r if { x := \"input\"; y := `input[k]`; z := data.input; w := foo.input.bar; input.kind }";
        assert_eq!(fields(src), Some(vec!["kind".into()]));
    }

    #[test]
    fn any_other_use_keeps_every_field() {
        for src in [
            "package x\nr if { some k, v in input }",
            "package x\nr if { input[k] }",
            "package x\nr if { f(input) }",
            "package x\nimport input\n",
            "package x\nr if { data.y.z with input as {} }",
            "package x\nr if { input[\"a\\\"b\"] }",
            "package x\nr if { input }",
        ] {
            assert_eq!(fields(src), None, "{src}");
        }
    }

    #[test]
    fn import_of_a_field_is_a_use_of_that_field() {
        assert_eq!(
            fields("package x\nimport input.resource_changes as rc\n"),
            Some(vec!["resource_changes".into()])
        );
    }
}
