//! Where each `resource_changes` entry sits in a plan JSON file, so a result with no `.tf` file to point at
//! can still carry a physical location (code scanning drops results without one).
//!
//! A single pass over the bytes with a minimal JSON tokenizer: no tree is built, so a 40 MiB plan costs one
//! scan and a map of addresses. `terraform show -json` writes one line, hence columns as well as lines.

use std::collections::BTreeMap;

/// 1-based lines and columns (Unicode code points); `end_column` is one past the closing brace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Address -> region of its entry in the top-level `resource_changes` array. Text that is not a plan (or not
/// JSON) gives an empty or partial map, never an error: locations are a convenience of the report.
pub fn resource_changes(text: &[u8]) -> BTreeMap<String, Region> {
    let mut out = BTreeMap::new();
    // Open containers; the key last seen at each object depth.
    let mut stack: Vec<u8> = Vec::new();
    let mut keys: Vec<Option<(usize, usize)>> = Vec::new();
    let (mut line, mut col) = (1usize, 1usize);
    let mut i = 0;
    let mut last_string: Option<(usize, usize)> = None;
    let mut after_colon = false;
    let mut in_changes = false;
    let mut entry: Option<(usize, usize, Option<String>)> = None;
    while i < text.len() {
        let b = text[i];
        match b {
            b'"' => {
                let start = i;
                i += 1;
                col += 1;
                while i < text.len() && text[i] != b'"' {
                    if text[i] == b'\\' {
                        i += 1;
                        col += 1;
                    }
                    if i < text.len() && (text[i] & 0xC0) != 0x80 {
                        col += 1;
                    }
                    i += 1;
                }
                let s = (start, (i + 1).min(text.len()));
                if after_colon
                    && in_changes
                    && stack.len() == 3
                    && key_is(text, keys.last().copied().flatten(), "address")
                {
                    if let Some((_, _, addr)) = entry.as_mut() {
                        *addr = serde_json::from_slice::<String>(&text[s.0..s.1]).ok();
                    }
                }
                last_string = Some(s);
                after_colon = false;
            }
            b':' => {
                if let Some(k) = keys.last_mut() {
                    *k = last_string;
                }
                after_colon = true;
            }
            b'{' | b'[' => {
                if b == b'[' && stack.len() == 1 && key_is(text, keys[0], "resource_changes") {
                    in_changes = true;
                }
                if b == b'{' && in_changes && stack.len() == 2 {
                    entry = Some((line, col, None));
                }
                stack.push(b);
                keys.push(None);
                after_colon = false;
            }
            b'}' | b']' => {
                stack.pop();
                keys.pop();
                if b == b'}' && in_changes && stack.len() == 2 {
                    if let Some((start_line, start_column, Some(addr))) = entry.take() {
                        out.entry(addr).or_insert(Region {
                            start_line,
                            start_column,
                            end_line: line,
                            end_column: col + 1,
                        });
                    }
                }
                if b == b']' && in_changes && stack.len() == 1 {
                    // The rest of the plan has nothing more to find.
                    break;
                }
                after_colon = false;
            }
            b'\n' => {
                line += 1;
                col = 0;
            }
            _ => {}
        }
        if (b & 0xC0) != 0x80 {
            col += 1;
        }
        i += 1;
    }
    out
}

/// Whether the string token at `range` (with its quotes) is the key `name`.
fn key_is(text: &[u8], range: Option<(usize, usize)>, name: &str) -> bool {
    range.is_some_and(|(a, b)| {
        b == a + name.len() + 2 && text.get(a + 1..b - 1) == Some(name.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_entries_on_one_line_and_pretty_printed() {
        let one = br#"{"planned_values":{"address":"x"},"resource_changes":[{"address":"a.b","change":{"after":{"address":"no","s":"{[\"]"}}},{"type":"t","address":"m[\"k\"].c"}],"configuration":{}}"#;
        let m = resource_changes(one);
        assert_eq!(m.len(), 2, "{m:?}");
        let a = m["a.b"];
        assert_eq!((a.start_line, a.start_column), (1, 55));
        assert_eq!(
            &one[a.start_column - 1..a.end_column - 1][..12],
            b"{\"address\":\""
        );
        assert_eq!(one[a.end_column - 2], b'}');
        assert!(m.contains_key("m[\"k\"].c"));

        let pretty = serde_json::to_string_pretty(
            &serde_json::from_slice::<serde_json::Value>(one).unwrap(),
        )
        .unwrap();
        let m = resource_changes(pretty.as_bytes());
        let a = m["a.b"];
        let lines: Vec<&str> = pretty.lines().collect();
        assert_eq!(lines[a.start_line - 1].trim(), "{");
        assert!(lines[a.start_line].contains("\"address\": \"a.b\""));
        assert_eq!(lines[a.end_line - 1].trim(), "},");
    }

    #[test]
    fn not_a_plan_gives_nothing() {
        assert!(resource_changes(b"not json {[").is_empty());
        assert!(resource_changes(b"").is_empty());
    }
}
