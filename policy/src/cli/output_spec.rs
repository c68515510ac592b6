//! One `--format FORMAT[=FILE]` value: which report and where it goes. Apart from the rest of the output
//! handling so that the argument definitions can name it without depending on how reports are written.

use std::path::PathBuf;
use std::str::FromStr;

use clap::ValueEnum;

use crate::report::Format;

/// One `--format` value: a format and, after `=`, the file it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Format,
    pub file: Option<PathBuf>,
}

/// Why a `--format` value was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a format: use one of {names}, optionally with =FILE (sarif=dbpolicy.sarif)", names = format_names())]
pub struct BadFormat(String);

fn format_names() -> String {
    Format::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for OutputSpec {
    type Err = BadFormat;
    fn from_str(s: &str) -> Result<Self, BadFormat> {
        let (name, file) = match s.split_once('=') {
            Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
            Some(_) => return Err(BadFormat(s.to_string())),
            None => (s, None),
        };
        let format = Format::from_str(name, true).map_err(|_| BadFormat(s.to_string()))?;
        Ok(OutputSpec { format, file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_format_with_and_without_file() {
        assert_eq!(
            "sarif=out/x.sarif".parse::<OutputSpec>().unwrap(),
            OutputSpec {
                format: Format::Sarif,
                file: Some(PathBuf::from("out/x.sarif"))
            }
        );
        assert_eq!("TEXT".parse::<OutputSpec>().unwrap().format, Format::Text);
        let e = "xml".parse::<OutputSpec>().unwrap_err().to_string();
        assert!(
            e.contains("\"xml\" is not a format: use one of text, json, sarif"),
            "{e}"
        );
        assert!("sarif=".parse::<OutputSpec>().is_err());
    }
}
