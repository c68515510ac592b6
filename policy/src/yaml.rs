//! YAML reading for exceptions files, rule METADATA, `--data` documents and baselines, in one place: `serde_yaml` is
//! archived upstream, and keeping the replacement's API behind these two functions means the next swap
//! touches one file.

use serde::de::DeserializeOwned;

/// A YAML document that could not be read, with the 1-based line of the problem when the parser knows it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    message: String,
    line: Option<usize>,
}

impl YamlError {
    /// The 1-based line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
}

impl From<serde_yaml_ng::Error> for YamlError {
    fn from(e: serde_yaml_ng::Error) -> Self {
        YamlError {
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        }
    }
}

/// Parses one YAML document into `T` (a typed struct, or `serde_json::Value` for a generic tree).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    Ok(serde_yaml_ng::from_str(text)?)
}

/// Parses one YAML document into a JSON tree: what Rego `data`, METADATA and shape checks work on.
pub fn to_json(text: &str) -> Result<serde_json::Value, YamlError> {
    from_str(text)
}

/// Writes a value as one YAML document (baseline files).
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, YamlError> {
    Ok(serde_yaml_ng::to_string(value)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_yaml_as_json_and_reports_the_line() {
        let v = super::to_json("a: 1\nb: [x, true]\n").unwrap();
        assert_eq!(v, serde_json::json!({"a": 1, "b": ["x", true]}));
        let e = super::to_json("a: 1\nb: [x\n").unwrap_err();
        assert!(e.line().is_some(), "{e}");
    }
}
