//! The plan's top level: which sections it has, checked (format version, Terraform version, types), with the
//! resource changes left as borrowed text of the file so each can be parsed on its own later.

use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::Value;

use super::error::{json_error, kind_of, syntax_error, AdapterError};
use super::options::ParseOptions;

/// Whether this adapter reads a plan `format_version`.
pub fn supported_format(v: &str) -> bool {
    match v {
        "0.1" | "0.2" => true,
        _ => v
            .strip_prefix("1.")
            .is_some_and(|minor| !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit())),
    }
}

/// Parses one section of the plan (already checked to be JSON) into a tree.
pub(super) fn section(raw: &RawValue, bytes: &[u8], file: &str) -> Result<Value, AdapterError> {
    serde_json::from_str(raw.get()).map_err(|e| syntax_error(bytes, file, e))
}

/// The plan sections the adapter reads, checked; resource changes stay borrowed text of the file.
pub(super) struct Sections<'a> {
    pub(super) format_version: String,
    pub(super) terraform_version: Option<String>,
    /// Each `resource_changes` entry as its JSON text in the file.
    pub(super) changes: Vec<&'a RawValue>,
    pub(super) configuration: Option<Value>,
    /// The whole plan, with [`ParseOptions::keep_raw`].
    pub(super) raw: Option<Value>,
}

/// Reads and checks the plan's top level, leaving each resource change as borrowed text.
pub(super) fn read_sections<'a>(
    bytes: &'a [u8],
    origin: &str,
    opts: ParseOptions,
) -> Result<Sections<'a>, AdapterError> {
    let file = origin.to_string();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AdapterError::Empty { file });
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let raw: Value = serde_json::from_slice(bytes).map_err(|e| json_error(e, &file))?;
        return Err(AdapterError::NotAPlan {
            file,
            message: format!("the top level is {}, not an object; expected `terraform show -json PLANFILE` output", kind_of(&raw)),
        });
    }
    // Top-level keys -> their JSON text, borrowed from `bytes` (a repeated key keeps the last, as a tree would).
    let plan: HashMap<String, &'a RawValue> =
        serde_json::from_slice(bytes).map_err(|e| syntax_error(bytes, &file, e))?;
    let get = |key: &str| -> Result<Option<Value>, AdapterError> {
        plan.get(key).map(|r| section(r, bytes, &file)).transpose()
    };
    let format_version = match get("format_version")? {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(AdapterError::WrongType {
                file,
                location: "format_version".into(),
                message: format!("must be a string, got {}", kind_of(&other)),
            })
        }
        None => {
            return Err(AdapterError::NotAPlan {
                file,
                message: "no `format_version`; expected `terraform show -json PLANFILE` output"
                    .into(),
            })
        }
    };
    if !plan.contains_key("resource_changes") && !plan.contains_key("planned_values") {
        let hint = if plan.contains_key("values") {
            "this looks like a state file (`terraform show -json` without a plan file); pass the plan: `terraform plan -out=tfplan && terraform show -json tfplan`"
        } else {
            "expected `terraform show -json PLANFILE` output"
        };
        return Err(AdapterError::NotAPlan {
            file,
            message: format!("no `resource_changes` or `planned_values`; {hint}"),
        });
    }
    if !supported_format(&format_version) {
        return Err(AdapterError::UnsupportedFormat {
            file,
            version: format_version,
        });
    }
    let terraform_version = match get("terraform_version")? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(AdapterError::WrongType {
                file,
                location: "terraform_version".into(),
                message: format!("must be a string, got {}", kind_of(&other)),
            })
        }
    };
    let changes: Vec<&'a RawValue> = match plan.get("resource_changes") {
        None => vec![],
        Some(r) if r.get().starts_with('[') => {
            serde_json::from_str(r.get()).map_err(|e| syntax_error(bytes, &file, e))?
        }
        Some(r) => match section(r, bytes, &file)? {
            Value::Null => vec![],
            other => {
                return Err(AdapterError::WrongType {
                    file,
                    location: "resource_changes".into(),
                    message: format!("must be a list, got {}", kind_of(&other)),
                })
            }
        },
    };
    let configuration = get("configuration")?;
    let raw = if opts.keep_raw {
        Some(serde_json::from_slice(bytes).map_err(|e| json_error(e, &file))?)
    } else {
        None
    };
    Ok(Sections {
        format_version,
        terraform_version,
        changes,
        configuration,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_versions() {
        for ok in ["0.1", "0.2", "1.0", "1.2", "1.10"] {
            assert!(supported_format(ok), "{ok}");
        }
        for bad in ["0.3", "2.0", "1.", "1.x", ""] {
            assert!(!supported_format(bad), "{bad}");
        }
    }
}
