//! Why the engine could not load a bundle or evaluate inputs; every message names the file (and line) to fix.

/// Errors of bundle loading and evaluation. All of them are usage/input errors (CLI exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A policy, data or exceptions file or directory could not be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// Rego that regorus refused (syntax or compile error); `location` is `file:line`.
    #[error("{location}: {message}")]
    Rego { location: String, message: String },
    /// A METADATA block that breaks the contract (missing id, bad enforcement, duplicate id...).
    #[error("{location}: {message}")]
    Metadata { location: String, message: String },
    /// A policy directory, namespace or bundle with nothing we can evaluate.
    #[error("{0}")]
    NoRules(String),
    /// A data or exceptions file with bad content.
    #[error("{path}: {message}")]
    Data { path: String, message: String },
    /// An exceptions file that cannot be read or parsed.
    #[error(transparent)]
    Exceptions(#[from] crate::model::exception::ExceptionError),
    /// An exception or override naming a rule the bundle does not have.
    #[error("{origin}: unknown rule id {rule_id:?}; known ids are listed by `dbpolicy rules`")]
    UnknownRule { origin: String, rule_id: String },
    /// Evaluation failed at run time for one resource.
    #[error("evaluating {address}: {message}")]
    Eval { address: String, message: String },
}

impl EngineError {
    /// Wraps a regorus error as `file:line: reason` (see [`describe`]).
    pub(crate) fn rego(fallback_location: &str, err: impl std::fmt::Display) -> Self {
        let (location, message) = describe(&err);
        EngineError::Rego {
            location: location.unwrap_or_else(|| fallback_location.to_string()),
            message,
        }
    }
}

/// The location (`file:line`) and the reason of a regorus error, in one line.
///
/// regorus writes errors as a source excerpt: `--> file:line:col`, gutter lines (`3 | text`, `  |   ^`) and
/// `error: reason`; errors raised inside built-ins nest one such block in another, and anyhow contexts add
/// lines of their own. The first location is kept (where the failing expression is) and every reason, so
/// nothing that explains the error is lost.
pub(crate) fn describe(err: &impl std::fmt::Display) -> (Option<String>, String) {
    // `{:#}` shows an anyhow error's whole chain.
    let text = format!("{err:#}");
    let mut location = None;
    let mut reasons: Vec<String> = Vec::new();
    let push = |r: &str, reasons: &mut Vec<String>| {
        let r = r.trim().trim_end_matches(':').trim();
        if !r.is_empty() && !reasons.iter().any(|x| x == r) {
            reasons.push(r.to_string());
        }
    };
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || is_gutter(t) {
            continue;
        }
        if let Some(loc) = t.strip_prefix("--> ") {
            if location.is_none() {
                location = Some(without_column(loc.trim()));
            }
            continue;
        }
        // "file:line:col: error: reason" (one-line form).
        if let Some(idx) = t.find(": error:") {
            let loc = &t[..idx];
            if location.is_none() {
                location = Some(without_column(loc));
            }
            push(&t[idx + ": error:".len()..], &mut reasons);
            continue;
        }
        let reason = t.strip_prefix("error:").unwrap_or(t);
        // A nested excerpt may start right after the reason that introduces it ("...: \n--> file").
        push(reason, &mut reasons);
    }
    let message = if reasons.is_empty() {
        "error without a message (regorus gave none)".to_string()
    } else {
        reasons.join(": ")
    };
    (location, message)
}

/// A source excerpt line: `3 | text`, `  |`, `  |    ^`.
fn is_gutter(t: &str) -> bool {
    match t.split_once('|') {
        Some((num, _)) => num.trim().chars().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

/// "file:line:col" -> "file:line"; anything else unchanged.
fn without_column(loc: &str) -> String {
    let mut parts = loc.rsplitn(3, ':');
    let (Some(col), Some(ln), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
        return loc.to_string();
    };
    if col.parse::<u32>().is_ok() && ln.parse::<u32>().is_ok() {
        format!("{file}:{ln}")
    } else {
        loc.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rego_errors_keep_file_and_line() {
        let e = EngineError::rego(
            "x.rego",
            "p/x.rego:3:7: error: unexpected token\n  |\n3 | foo(",
        );
        assert_eq!(e.to_string(), "p/x.rego:3: unexpected token");
        let e = EngineError::rego("x.rego", "something odd");
        assert_eq!(e.to_string(), "x.rego: something odd");
        // regorus' excerpt form: the reason is on the last line.
        let e = EngineError::rego(
            "x.rego",
            "\n--> p/x.rego:3:11\n  |\n3 | deny[msg] {\n  |           ^\nerror: `if` keyword is required before rule body",
        );
        assert_eq!(
            e.to_string(),
            "p/x.rego:3: `if` keyword is required before rule body"
        );
        // A built-in's error nested in the calling expression's.
        let e = EngineError::rego(
            "x.rego",
            "\n--> p/x.rego:5:3\n  |\n5 | x := f(1)\n  |   ^\nerror: call failed: \n--> p/x.rego:9:4\n  |\n9 | 1/0\n  |    ^\nerror: divide by zero",
        );
        assert_eq!(e.to_string(), "p/x.rego:5: call failed: divide by zero");
    }
}
