//! Rego source handling before regorus sees a module: which Rego version it is written in, rewriting the forms
//! regorus 0.14 evaluates differently from OPA, and refusing calls of functions that exist nowhere (regorus would
//! only notice them when the calling rule is evaluated, with an error that loses the reason).
//!
//! Everything here works on a small tokenizer that knows Rego's strings, raw strings and comments, so text inside
//! them is never touched.

use std::collections::BTreeSet;

use crate::engine::EngineError;

/// Which Rego version a module is parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RegoVersion {
    /// Per module: `import rego.v1`, or `if`/`contains` used without `future.keywords` imports, is v1;
    /// anything else is v0 (a module that does not parse as its detected version is tried as the other one).
    #[default]
    Auto,
    /// Every `--policy` module is Rego v0 (OPA before 1.0: `deny[msg] { ... }`).
    V0,
    /// Every `--policy` module is Rego v1 (OPA 1.x: `if` and `contains` required).
    V1,
}

/// A token of Rego source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Punct(char),
    /// A string, raw string or number: only its extent matters here.
    Lit,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte range in the source.
    pub start: usize,
    pub end: usize,
    /// 1-based line of the token's start.
    pub line: usize,
    /// Whether the token is the first one on its line.
    pub first_on_line: bool,
}

/// Splits Rego source into tokens (comments and whitespace dropped).
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut line_start_pending = true;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                line_start_pending = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
                out.push(Token {
                    tok: Tok::Lit,
                    start,
                    end: i,
                    line,
                    first_on_line: std::mem::take(&mut line_start_pending),
                });
            }
            b'`' => {
                let start = i;
                let start_line = line;
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
                out.push(Token {
                    tok: Tok::Lit,
                    start,
                    end: i,
                    line: start_line,
                    first_on_line: std::mem::take(&mut line_start_pending),
                });
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(src[start..i].to_string()),
                    start,
                    end: i,
                    line,
                    first_on_line: std::mem::take(&mut line_start_pending),
                });
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Lit,
                    start,
                    end: i,
                    line,
                    first_on_line: std::mem::take(&mut line_start_pending),
                });
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or(' ');
                let len = ch.len_utf8();
                out.push(Token {
                    tok: Tok::Punct(ch),
                    start: i,
                    end: i + len,
                    line,
                    first_on_line: std::mem::take(&mut line_start_pending),
                });
                i += len;
            }
        }
    }
    out
}

fn is_ident(t: &Token, name: &str) -> bool {
    matches!(&t.tok, Tok::Ident(s) if s == name)
}

fn is_punct(t: &Token, c: char) -> bool {
    t.tok == Tok::Punct(c)
}

/// Whether a module is written in Rego v1 (see [`RegoVersion::Auto`]).
pub fn detect_v1(src: &str) -> bool {
    let toks = tokenize(src);
    let mut future_keywords = false;
    let mut keywords = false;
    for (i, t) in toks.iter().enumerate() {
        if is_ident(t, "import") {
            let next: Vec<&Token> = toks[i + 1..].iter().take(3).collect();
            if next.len() == 3
                && is_ident(next[0], "rego")
                && is_punct(next[1], '.')
                && is_ident(next[2], "v1")
            {
                return true;
            }
            if next.len() == 3 && is_ident(next[0], "future") && is_ident(next[2], "keywords") {
                future_keywords = true;
            }
        }
        // `if` and `contains` as keywords: not a field name (`x.if`) nor an object key.
        if (is_ident(t, "if") || is_ident(t, "contains"))
            && !(i > 0 && is_punct(&toks[i - 1], '.'))
            && !toks
                .get(i + 1)
                .is_some_and(|n| is_punct(n, ':') || is_punct(n, '('))
        {
            keywords = true;
        }
    }
    keywords && !future_keywords
}

/// Names of the builtins `[path, value] := walk(x)` style rewriting concerns.
const WALK: &str = "walk";

/// Rewrites `LHS := walk(x)` / `LHS = walk(x)` inside rule bodies into OPA's relation form `walk(x, LHS)`, which
/// regorus evaluates as OPA does (regorus gives the first form nothing at all). Any other one-argument `walk(x)`
/// is refused with the file and line. Line numbers are kept.
pub fn rewrite_walk(path: &str, src: &str) -> Result<String, EngineError> {
    let toks = tokenize(src);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut depth: i32 = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        match t.tok {
            Tok::Punct('{') | Tok::Punct('[') | Tok::Punct('(') => depth += 1,
            Tok::Punct('}') | Tok::Punct(']') | Tok::Punct(')') => depth -= 1,
            _ => {}
        }
        let is_call = is_ident(t, WALK)
            && toks
                .get(i + 1)
                .is_some_and(|n| is_punct(n, '(') && n.start == t.end)
            && !(i > 0 && is_punct(&toks[i - 1], '.'));
        if !is_call {
            i += 1;
            continue;
        }
        // The argument list: from `(` to its matching `)`, counting top-level commas.
        let open = i + 1;
        let mut d = 0;
        let mut commas = 0;
        let mut close = None;
        for (k, tk) in toks.iter().enumerate().skip(open) {
            match tk.tok {
                Tok::Punct('(') | Tok::Punct('[') | Tok::Punct('{') => d += 1,
                Tok::Punct(')') | Tok::Punct(']') | Tok::Punct('}') => {
                    d -= 1;
                    if d == 0 {
                        close = Some(k);
                        break;
                    }
                }
                Tok::Punct(',') if d == 1 => commas += 1,
                _ => {}
            }
        }
        let Some(close) = close else {
            // Unbalanced: regorus reports the syntax error.
            break;
        };
        if commas >= 1 {
            i = close + 1;
            continue;
        }
        let refuse = |why: &str| {
            EngineError::Rego {
            location: format!("{path}:{}", t.line),
            message: format!(
                "`walk(x)` {why}: write `[path, value] := walk(x)` or `walk(x, [path, value])` in a rule body \
                 (regorus would give this form a different answer than OPA, so it is refused)"
            ),
        }
        };
        // Look back for `LHS :=` or `LHS =`.
        let op_end = i;
        let (op_start, ok_op) = if i >= 2
            && is_punct(&toks[i - 1], '=')
            && is_punct(&toks[i - 2], ':')
            && toks[i - 2].end == toks[i - 1].start
        {
            (i - 2, true)
        } else if i >= 1
            && is_punct(&toks[i - 1], '=')
            && !(i >= 2
                && toks[i - 2].end == toks[i - 1].start
                && matches!(toks[i - 2].tok, Tok::Punct('=' | '!' | '<' | '>' | ':')))
        {
            (i - 1, true)
        } else {
            (i, false)
        };
        let _ = op_end;
        if !ok_op || op_start == 0 {
            return Err(refuse(
                "with one argument is only supported as the right side of `:=`/`=",
            ));
        }
        // The LHS: a variable or an array/object literal ending right before the operator.
        let lhs_end = op_start - 1;
        let lhs_start = match toks[lhs_end].tok {
            Tok::Ident(_) => lhs_end,
            Tok::Punct(']') | Tok::Punct('}') => {
                let (opn, cls) = if is_punct(&toks[lhs_end], ']') {
                    ('[', ']')
                } else {
                    ('{', '}')
                };
                let mut d = 0;
                let mut s = None;
                for k in (0..=lhs_end).rev() {
                    if is_punct(&toks[k], cls) {
                        d += 1;
                    } else if is_punct(&toks[k], opn) {
                        d -= 1;
                        if d == 0 {
                            s = Some(k);
                            break;
                        }
                    }
                }
                match s {
                    Some(s) => s,
                    None => return Err(refuse("has an unbalanced left-hand side")),
                }
            }
            _ => {
                return Err(refuse(
                    "with one argument needs a variable or `[path, value]` on the left",
                ))
            }
        };
        // Only inside a body: the LHS must not start a rule (top level, first on its line), nor be a reference.
        let lhs_depth = {
            let mut d = 0;
            for tk in &toks[..lhs_start] {
                match tk.tok {
                    Tok::Punct('{') | Tok::Punct('[') | Tok::Punct('(') => d += 1,
                    Tok::Punct('}') | Tok::Punct(']') | Tok::Punct(')') => d -= 1,
                    _ => {}
                }
            }
            d
        };
        if lhs_depth <= 0 {
            return Err(refuse("as a rule's value is not supported"));
        }
        if lhs_start > 0 && is_punct(&toks[lhs_start - 1], '.') {
            return Err(refuse("assigned to a reference is not supported"));
        }
        let lhs_text = &src[toks[lhs_start].start..toks[lhs_end].end];
        let arg_text = &src[toks[open].end..toks[close].start];
        // Keep every newline of the replaced text so later lines keep their numbers.
        let replaced = &src[toks[lhs_start].start..toks[close].end];
        let lhs_one_line = lhs_text.replace(['\n', '\r'], " ");
        let core = format!("walk({}, {})", arg_text.trim(), lhs_one_line);
        let pad = replaced
            .matches('\n')
            .count()
            .saturating_sub(core.matches('\n').count());
        let new = format!("{core}{}", "\n".repeat(pad));
        edits.push((toks[lhs_start].start, toks[close].end, new));
        let _ = depth;
        i = close + 1;
    }
    if edits.is_empty() {
        return Ok(src.to_string());
    }
    let mut out = String::with_capacity(src.len() + 16);
    let mut pos = 0;
    for (s, e, text) in edits {
        out.push_str(&src[pos..s]);
        out.push_str(&text);
        pos = e;
    }
    out.push_str(&src[pos..]);
    Ok(out)
}

/// Repeats the head before every further body of a v0 rule with several bodies (`p[x] { ... } { ... }` becomes
/// `p[x] { ... } p[x] { ... }`), which OPA accepts and regorus refuses for set rules. Lines are kept.
pub fn rewrite_chained_bodies(src: &str) -> String {
    let toks = tokenize(src);
    let mut depth: i32 = 0;
    let mut head_start: Option<usize> = None;
    let mut head: Option<String> = None;
    let mut inserts: Vec<(usize, String)> = Vec::new();
    // Whether the `{` opened at the top level is a body (not a value: `= {...}`), and the last one closed.
    let mut open_is_body = false;
    let mut closed_body = false;
    for (i, t) in toks.iter().enumerate() {
        if depth == 0 && t.first_on_line {
            match &t.tok {
                Tok::Ident(n) if n != "package" && n != "import" && n != "else" => {
                    head_start = Some(t.start);
                    head = None;
                }
                _ => {}
            }
        }
        match t.tok {
            Tok::Punct('{') if depth == 0 => {
                let is_value = i > 0 && is_punct(&toks[i - 1], '=');
                let chained = !is_value && i > 0 && is_punct(&toks[i - 1], '}') && closed_body;
                match (&head, chained) {
                    (Some(h), true) => inserts.push((t.start, format!("{h} "))),
                    (None, false) if !is_value => {
                        if let Some(hs) = head_start {
                            let text = src[hs..t.start].trim_end();
                            if !text.contains('\n') && !text.is_empty() {
                                head = Some(text.to_string());
                            }
                        }
                    }
                    _ => {}
                }
                open_is_body = !is_value;
                depth += 1;
            }
            Tok::Punct('}') if depth == 1 => {
                closed_body = open_is_body;
                depth -= 1;
            }
            Tok::Punct('{') | Tok::Punct('[') | Tok::Punct('(') => depth += 1,
            Tok::Punct('}') | Tok::Punct(']') | Tok::Punct(')') => depth -= 1,
            _ => {}
        }
    }
    if inserts.is_empty() {
        return src.to_string();
    }
    let mut out = String::with_capacity(src.len() + 64);
    let mut pos = 0;
    for (at, text) in inserts {
        out.push_str(&src[pos..at]);
        out.push_str(&text);
        pos = at;
    }
    out.push_str(&src[pos..]);
    out
}

/// What a module contributes to function-name resolution.
#[derive(Debug, Clone, Default)]
pub(crate) struct ModuleNames {
    pub package: String,
    /// Top-level rule and function names.
    pub rules: BTreeSet<String>,
    /// `import data.x.y` (alias `y`) and `import data.x.y as z`: alias -> `x.y`.
    pub imports: Vec<(String, String)>,
}

/// The package, top-level names and imports of a module.
pub(crate) fn module_names(src: &str) -> ModuleNames {
    let toks = tokenize(src);
    let mut out = ModuleNames::default();
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        match t.tok {
            Tok::Punct('{') | Tok::Punct('[') | Tok::Punct('(') => depth += 1,
            Tok::Punct('}') | Tok::Punct(']') | Tok::Punct(')') => depth -= 1,
            _ => {}
        }
        if depth == 0 && t.first_on_line {
            if let Tok::Ident(name) = &t.tok {
                match name.as_str() {
                    "package" => {
                        let (p, next) = dotted(&toks, i + 1);
                        out.package = p;
                        i = next;
                        continue;
                    }
                    "import" => {
                        let (p, next) = dotted(&toks, i + 1);
                        let mut alias = p.rsplit('.').next().unwrap_or("").to_string();
                        let mut next = next;
                        if toks.get(next).is_some_and(|t| is_ident(t, "as")) {
                            if let Some(Tok::Ident(a)) = toks.get(next + 1).map(|t| &t.tok) {
                                alias = a.clone();
                                next += 2;
                            }
                        }
                        if let Some(rest) = p.strip_prefix("data.") {
                            out.imports.push((alias, rest.to_string()));
                        }
                        i = next;
                        continue;
                    }
                    "default" => {
                        if let Some(Tok::Ident(n)) = toks.get(i + 1).map(|t| &t.tok) {
                            out.rules.insert(n.clone());
                        }
                    }
                    "else" | "not" | "some" | "every" => {}
                    _ => {
                        out.rules.insert(name.clone());
                    }
                }
            }
        }
        i += 1;
    }
    out
}

/// `a.b.c` starting at token `i`: the dotted text and the index after it.
fn dotted(toks: &[Token], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while let Some(Tok::Ident(p)) = toks.get(i).map(|t| &t.tok) {
        s.push_str(p);
        i += 1;
        if toks.get(i).is_some_and(|t| is_punct(t, '.'))
            && toks
                .get(i + 1)
                .is_some_and(|t| matches!(t.tok, Tok::Ident(_)))
        {
            s.push('.');
            i += 1;
        } else {
            break;
        }
    }
    (s, i)
}

const KEYWORDS: &[&str] = &[
    "not", "if", "in", "some", "every", "with", "as", "contains", "else", "default", "import",
    "package", "true", "false", "null", // `set()` is the empty set literal.
    "set",
];

/// Calls in `src` of functions that are neither built-ins (`builtins`), nor user functions of any loaded module
/// (`all`), nor reachable through this module's imports: `(name, line)` of each, in order.
pub(crate) fn unknown_calls(
    src: &str,
    own: &ModuleNames,
    all: &BTreeSet<String>,
    builtins: &dyn Fn(&str) -> bool,
) -> Vec<(String, usize)> {
    let toks = tokenize(src);
    let mut out = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        match t.tok {
            Tok::Punct('{') | Tok::Punct('[') | Tok::Punct('(') => depth += 1,
            Tok::Punct('}') | Tok::Punct(']') | Tok::Punct(')') => depth -= 1,
            _ => {}
        }
        let Tok::Ident(first) = &t.tok else {
            i += 1;
            continue;
        };
        if (i > 0 && is_punct(&toks[i - 1], '.')) || KEYWORDS.contains(&first.as_str()) {
            i += 1;
            continue;
        }
        // Skip `package`/`import` lines.
        if t.first_on_line && depth == 0 && (first == "package" || first == "import") {
            let (_, next) = dotted(&toks, i + 1);
            i = next;
            continue;
        }
        let (name, next) = dotted(&toks, i);
        let is_call = toks
            .get(next)
            .is_some_and(|n| is_punct(n, '(') && n.start == toks[next - 1].end);
        // A definition: first on its line at the top level (or after `default`).
        let definition =
            depth == 0 && (t.first_on_line || (i > 0 && is_ident(&toks[i - 1], "default")));
        if is_call && !definition && !known(&name, own, all, builtins) {
            out.push((name, t.line));
        }
        i = next.max(i + 1);
    }
    out
}

fn known(
    name: &str,
    own: &ModuleNames,
    all: &BTreeSet<String>,
    builtins: &dyn Fn(&str) -> bool,
) -> bool {
    if builtins(name) {
        return true;
    }
    if let Some(rest) = name.strip_prefix("data.") {
        return all.contains(rest);
    }
    let (head, tail) = match name.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (name, None),
    };
    if let Some((_, target)) = own.imports.iter().find(|(a, _)| a == head) {
        return match tail {
            Some(t) => all.contains(&format!("{target}.{t}")),
            None => all.contains(target),
        };
    }
    match tail {
        None => own.rules.contains(head) || all.contains(&format!("{}.{head}", own.package)),
        // `pkg.sub.f(...)` relative to nothing: only built-ins and imports resolve dotted names.
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_versions() {
        assert!(detect_v1("package a\nimport rego.v1\np { true }"));
        assert!(detect_v1(
            "package a\ndeny contains msg if { msg := \"x\" }"
        ));
        assert!(!detect_v1("package a\ndeny[msg] { msg := \"if\" }"));
        assert!(!detect_v1(
            "package a\nimport future.keywords.if\ndeny[msg] if { msg := 1 }"
        ));
        assert!(!detect_v1(
            "package a\n# deny contains x if\np { input.if }"
        ));
    }

    #[test]
    fn rewrites_walk_and_keeps_lines() {
        let src = "package a\np[x] {\n  [path, value] := walk(input)\n  x := path\n}\n";
        let out = rewrite_walk("a.rego", src).unwrap();
        assert!(out.contains("walk(input, [path, value])"), "{out}");
        assert_eq!(out.lines().count(), src.lines().count());
        let src = "package a\np[x] {\n  some pv\n  pv = walk(\n    input\n  )\n  x := pv[0]\n}\n";
        let out = rewrite_walk("a.rego", src).unwrap();
        assert!(out.contains("walk(input, pv)"), "{out}");
        assert_eq!(out.lines().count(), src.lines().count());
        let untouched = "package a\np { walk(input, [p, v]); v == 1 }\nq := \"walk(x)\"\n";
        assert_eq!(rewrite_walk("a.rego", untouched).unwrap(), untouched);
        let e = rewrite_walk("a.rego", "package a\n\np := count(walk(input))\n").unwrap_err();
        assert!(e.to_string().starts_with("a.rego:3: `walk(x)`"), "{e}");
    }

    #[test]
    fn repeats_heads_of_chained_bodies() {
        let src =
            "package a\np[x] {\n  x := 1\n} {\n  x := 2\n}\nq { true } else = false { true }\n\
                   r(x) = y {\n  y := x\n} else = {} {\n  true\n}\n";
        let out = rewrite_chained_bodies(src);
        assert!(out.contains("} p[x] {\n  x := 2"), "{out}");
        assert!(out.contains("} else = false {"), "{out}");
        assert!(out.contains("} else = {} {\n"), "{out}");
        assert_eq!(out.lines().count(), src.lines().count());
    }

    #[test]
    fn finds_unknown_calls() {
        let lib = module_names("package lib.util\nimport rego.v1\nhas(x) if { x }\n");
        let src = "package main\nimport data.lib.util\nimport data.lib.util as u\nlocal(x) := x\ndeny[m] {\n  util.has(1)\n  u.has(2)\n  data.lib.util.has(3)\n  local(4)\n  m := sprintf(\"%v\", [crypto.sha999(\"a\")])\n  nope(1)\n}\n";
        let own = module_names(src);
        let mut all = BTreeSet::new();
        for m in [&lib, &own] {
            for r in &m.rules {
                all.insert(format!("{}.{r}", m.package));
            }
        }
        let got = unknown_calls(src, &own, &all, &|n| n == "sprintf");
        assert_eq!(
            got,
            vec![("crypto.sha999".to_string(), 10), ("nope".to_string(), 11)]
        );
    }
}
