//! Which parts of the `input` document a bundle can read, so each resource's input is handed to the engine
//! without what no rule looks at (the raw `before` attributes, all of `after` but `after.parameters`,
//! `paths`, `context`...). Converting the input into the engine's value type is a large part of evaluating a
//! big plan, and rules cannot tell the difference: a part that no module names cannot be read.
//!
//! The scan is deliberately conservative. It reads the Rego source token by token, skipping comments and string
//! literals, and takes each use of `input` with the static path after it (`input.after.parameters`,
//! `input["tier"]`). Whatever follows the static path (`[k]`, a space, a call) can read anything below its end,
//! so the whole value there is kept. A use of `input` with no static path at all (`input` alone, `input[x]`,
//! `with input as`, `import input`) keeps the whole document.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// The parts of a JSON value that rules can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The whole value.
    Whole,
    /// Only these members (each with its own selection) of an object; any other value is kept whole.
    Members(BTreeMap<String, Selection>),
}

impl Selection {
    /// Marks the value at `path` (and everything below it) as read.
    fn add(&mut self, path: &[String]) {
        match self {
            Selection::Whole => {}
            Selection::Members(_) if path.is_empty() => *self = Selection::Whole,
            Selection::Members(m) => m
                .entry(path[0].clone())
                .or_insert_with(|| Selection::Members(BTreeMap::new()))
                .add(&path[1..]),
        }
    }

    /// The selected members, unless the whole value is selected.
    pub fn members(&self) -> Option<&BTreeMap<String, Selection>> {
        match self {
            Selection::Whole => None,
            Selection::Members(m) => Some(m),
        }
    }

    /// Whether nothing is left out.
    pub fn is_whole(&self) -> bool {
        matches!(self, Selection::Whole)
    }

    /// Appends the selected parts of the JSON value `text` to `out`, as JSON. Members are copied as they are;
    /// a value that is not an object of plainly written keys is kept whole.
    pub fn prune(&self, text: &str, out: &mut String) {
        let Selection::Members(wanted) = self else {
            out.push_str(text);
            return;
        };
        // Borrowed keys only parse when written without escapes, so each can be written back as it is.
        let Ok(members) = serde_json::from_str::<BTreeMap<&str, &RawValue>>(text) else {
            out.push_str(text);
            return;
        };
        out.push('{');
        let mut first = true;
        for (key, value) in members {
            let Some(sel) = wanted.get(key) else { continue };
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
            sel.prune(value.get(), out);
        }
        out.push('}');
    }
}

/// What these module sources can read of `input`.
pub fn input_selection<'a>(sources: impl IntoIterator<Item = &'a str>) -> Selection {
    let mut sel = Selection::Members(BTreeMap::new());
    for src in sources {
        scan(src, &mut sel);
        if sel.is_whole() {
            break;
        }
    }
    sel
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Adds every use of `input` in `src` to `sel`.
fn scan(src: &str, sel: &mut Selection) {
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
                    let (path, end) = static_path(src, i);
                    // No static path: the whole document can be read (an empty path marks it whole).
                    sel.add(&path);
                    i = end;
                }
            }
            _ => i += 1,
        }
    }
}

/// The `.NAME` / `["NAME"]` segments at `i`, and where they end.
fn static_path(src: &str, mut i: usize) -> (Vec<String>, usize) {
    let b = src.as_bytes();
    let mut path = Vec::new();
    loop {
        match b.get(i) {
            Some(b'.') => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && is_ident(b[j]) {
                    j += 1;
                }
                if j == start {
                    return (path, i);
                }
                path.push(src[start..j].to_string());
                i = j;
            }
            Some(b'[') if b.get(i + 1) == Some(&b'"') => {
                let start = i + 2;
                let mut j = start;
                while j < b.len() && b[j] != b'"' && b[j] != b'\\' && b[j] != b'\n' {
                    j += 1;
                }
                if b.get(j) != Some(&b'"') || b.get(j + 1) != Some(&b']') {
                    return (path, i);
                }
                path.push(src[start..j].to_string());
                i = j + 2;
            }
            _ => return (path, i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pruned(src: &str, doc: &str) -> String {
        let mut out = String::new();
        input_selection([src]).prune(doc, &mut out);
        out
    }

    const DOC: &str = r#"{"address":"a.b","after":{"engine":"postgres","parameters":{"rds.force_ssl":"0"}},"before":{"x":1},"settings":{"kms_key_id":null,"multi_az":true},"tier":"tier-1"}"#;

    #[test]
    fn only_named_paths_are_kept() {
        let src = r#"package x
import rego.v1
violation contains msg if {
	input.settings.multi_az == false
	t := input["tier"]
	p := input.after.parameters[k]
	msg := sprintf("%s", [input.address])
}"#;
        assert_eq!(
            pruned(src, DOC),
            r#"{"address":"a.b","after":{"parameters":{"rds.force_ssl":"0"}},"settings":{"multi_az":true},"tier":"tier-1"}"#
        );
    }

    #[test]
    fn a_path_read_whole_keeps_everything_below_it() {
        let src = "package x\nr if { s := input.settings; s.kms_key_id; input.settings.multi_az }";
        assert_eq!(
            pruned(src, DOC),
            r#"{"settings":{"kms_key_id":null,"multi_az":true}}"#
        );
    }

    #[test]
    fn comments_strings_and_other_objects_inputs_are_not_uses() {
        let src = "package x\n# METADATA\n# description: the input document, input alone\n\
                   r if { x := \"input\"; y := `input[k]`; z := data.input; w := foo.input.bar; input.tier }";
        assert_eq!(pruned(src, DOC), r#"{"tier":"tier-1"}"#);
    }

    #[test]
    fn any_use_without_a_static_path_keeps_the_whole_document() {
        for src in [
            "package x\nr if { some k, v in input }",
            "package x\nr if { input[k] }",
            "package x\nr if { f(input) }",
            "package x\nimport input\n",
            "package x\nr if { data.y.z with input as {} }",
            "package x\nr if { input[\"a\\\"b\"] }",
            "package x\nr if { input }",
        ] {
            assert!(input_selection([src]).is_whole(), "{src}");
            assert_eq!(pruned(src, DOC), DOC);
        }
    }

    #[test]
    fn import_of_a_path_is_a_use_of_that_path() {
        assert_eq!(
            pruned("package x\nimport input.before as b\n", DOC),
            r#"{"before":{"x":1}}"#
        );
    }

    #[test]
    fn values_that_are_not_plain_objects_are_kept_whole() {
        let sel = input_selection(["package x\nr if { input.a.b }"]);
        for (doc, want) in [
            (r#"{"a":[1,2],"z":0}"#, r#"{"a":[1,2]}"#),
            (
                r#"{"a":{"b\u0041":1,"b":2},"z":0}"#,
                r#"{"a":{"b\u0041":1,"b":2}}"#,
            ),
            ("[1]", "[1]"),
        ] {
            let mut out = String::new();
            sel.prune(doc, &mut out);
            assert_eq!(out, want);
        }
    }
}
