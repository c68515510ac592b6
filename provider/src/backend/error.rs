//! The one error type of every backend: what went wrong, phrased for the person running Terraform.

use std::path::PathBuf;

/// What went wrong in a backend, phrased for the person running Terraform (what, where, how to fix).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("database {name:?} does not exist on the {backend} backend")]
    NotFound { backend: &'static str, name: String },
    #[error("database {name:?} already exists at {location}; import it with `terraform import ADDRESS {name}` or choose another name")]
    AlreadyExists { name: String, location: String },
    #[error("{tool} was not found ({searched}); {hint}")]
    MissingTool {
        tool: String,
        searched: String,
        hint: String,
    },
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {name:?} has deletion_protection = true, so it was not destroyed; set deletion_protection = false, run terraform apply, then destroy again")]
    DeletionProtected { name: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("SQL on database {name:?} failed: {message}")]
    Sql { name: String, message: String },
    #[error("{0}")]
    Restore(String),
    #[error("metadata file {path} is not valid: {message}; restore it from the final backup or remove the directory")]
    Metadata { path: PathBuf, message: String },
}

impl BackendError {
    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> BackendError {
        let path = path.into();
        move |source| BackendError::Io {
            action,
            path,
            source,
        }
    }
}

/// The local PostgreSQL machinery's errors, variant by variant, so the person running Terraform reads the same
/// message the crate wrote.
impl From<localpg::LocalPgError> for BackendError {
    fn from(e: localpg::LocalPgError) -> Self {
        use localpg::LocalPgError as L;
        match e {
            L::MissingTool {
                tool,
                searched,
                hint,
            } => BackendError::MissingTool {
                tool,
                searched,
                hint,
            },
            L::Command {
                what,
                status,
                output,
            } => BackendError::Command {
                what,
                status,
                output,
            },
            L::Io {
                action,
                path,
                source,
            } => BackendError::Io {
                action,
                path,
                source,
            },
            L::Invalid { field, message } => BackendError::Invalid { field, message },
            L::NotFound { name, .. } => BackendError::NotFound {
                backend: "local",
                name,
            },
            L::Restore(message) => BackendError::Restore(message),
            L::Metadata { path, message } => BackendError::Metadata { path, message },
        }
    }
}
