//! Why a plan file could not be read, as one line naming the file (and where in it), like a JSON parser's own
//! message when the file is not JSON at all.

use serde_json::Value;

/// Why a plan file could not be read; every message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error(
        "{file}: the file is empty; write the plan with `terraform show -json PLANFILE > {file}`"
    )]
    Empty { file: String },
    #[error("{file}: not JSON: {message} at line {line} column {column}")]
    NotJson {
        file: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error(
        "{file}: the JSON ends early at line {line} column {column}: the file is truncated; write it again with `terraform show -json PLANFILE > {file}`"
    )]
    Truncated {
        file: String,
        line: usize,
        column: usize,
    },
    #[error("{file}: not a Terraform plan: {message}")]
    NotAPlan { file: String, message: String },
    #[error(
        "{file}: plan format_version {version:?} is not supported; dbpolicy reads 0.1, 0.2 and 1.x (`terraform show -json` of Terraform 0.12 or later)"
    )]
    UnsupportedFormat { file: String, version: String },
    #[error("{file}: {location}: {message}")]
    WrongType {
        file: String,
        location: String,
        message: String,
    },
}

/// Maps a serde_json error to the one-line file error.
pub(super) fn json_error(e: serde_json::Error, file: &str) -> AdapterError {
    let file = file.to_string();
    if e.is_eof() {
        AdapterError::Truncated {
            file,
            line: e.line(),
            column: e.column(),
        }
    } else {
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        AdapterError::NotJson {
            file,
            message,
            line: e.line(),
            column: e.column(),
        }
    }
}

/// The error of a file the fast (borrowed) reading rejected: the full JSON tree parser's, so messages and
/// positions are those of a plain JSON parse of the file.
pub(super) fn syntax_error(bytes: &[u8], file: &str, fast: serde_json::Error) -> AdapterError {
    match serde_json::from_slice::<Value>(bytes) {
        Err(e) => json_error(e, file),
        Ok(_) => json_error(fast, file),
    }
}

/// How a JSON value reads in a message (`got a list`).
pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
