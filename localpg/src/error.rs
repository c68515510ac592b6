//! The crate's one error type: what failed, where, and how to fix it, phrased for whoever runs the tool that
//! called (the provider maps it into its `BackendError`, dbpolicy prints it), so no caller rewords it.

use std::path::PathBuf;

/// What went wrong while finding, running, backing up or restoring a local PostgreSQL cluster.
#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    /// A program this machinery needs is not installed where it looked.
    #[error("{tool} was not found ({searched}); {hint}")]
    MissingTool {
        tool: String,
        searched: String,
        hint: String,
    },
    /// A program ran and failed; `output` is its stderr (else stdout).
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    /// A file system operation failed on `path`.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A value given by the caller (named by `field`) cannot be used as it is.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No database of that name under the data directory; `existing` lists the ones there are.
    #[error("{field}: no local database {name:?} under {}; {}", data_dir.display(), existing_hint(existing))]
    NotFound {
        field: String,
        name: String,
        data_dir: PathBuf,
        existing: Vec<String>,
    },
    /// A restore could not be made or did not come up; the message names the backup and the server log.
    #[error("{0}")]
    Restore(String),
    /// A record file (`metadata.json`, `backup.json`) cannot be read as what it should be.
    #[error("metadata file {path} is not valid: {message}; restore it from the final backup or remove the directory")]
    Metadata { path: PathBuf, message: String },
}

fn existing_hint(existing: &[String]) -> String {
    if existing.is_empty() {
        "there is no database there at all: pass the data directory the provider uses (its local { data_dir })"
            .to_string()
    } else {
        format!("databases there: {}", existing.join(", "))
    }
}

impl LocalPgError {
    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> LocalPgError {
        let path = path.into();
        move |source| LocalPgError::Io {
            action,
            path,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_database_lists_the_ones_that_exist() {
        let e = LocalPgError::NotFound {
            field: "--scratch-copy".into(),
            name: "ordrs".into(),
            data_dir: PathBuf::from("/var/lib/dbplatform"),
            existing: vec!["billing".into(), "orders".into()],
        };
        let text = e.to_string();
        assert!(
            text.starts_with("--scratch-copy: no local database \"ordrs\""),
            "{text}"
        );
        assert!(text.ends_with("databases there: billing, orders"), "{text}");
    }
}
