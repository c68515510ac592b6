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
    /// Wraps a regorus error, keeping only its first line (which carries `file:line:col`).
    pub(crate) fn rego(fallback_location: &str, err: impl std::fmt::Display) -> Self {
        let text = err.to_string();
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        // regorus writes "path:line:col: error: message".
        if let Some((loc, msg)) = split_location(&first) {
            return EngineError::Rego {
                location: loc,
                message: msg,
            };
        }
        EngineError::Rego {
            location: fallback_location.to_string(),
            message: first,
        }
    }
}

/// Splits "file:line:col: error: msg" into ("file:line", "msg").
fn split_location(line: &str) -> Option<(String, String)> {
    let idx = line.find(": error:")?;
    let loc = &line[..idx];
    let msg = line[idx + ": error:".len()..].trim();
    let mut parts = loc.rsplitn(3, ':');
    let col = parts.next()?;
    let ln = parts.next()?;
    let file = parts.next()?;
    if col.parse::<u32>().is_ok() && ln.parse::<u32>().is_ok() {
        Some((format!("{file}:{ln}"), msg.to_string()))
    } else {
        Some((loc.to_string(), msg.to_string()))
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
    }
}
