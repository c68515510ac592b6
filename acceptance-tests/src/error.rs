//! The one error type of the harness, so a failed test prints what ran, how it ended and what it printed.

use std::path::PathBuf;

use crate::command::TfOutput;

/// Everything that can go wrong while driving Terraform; `Display` is the message a failing test shows.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The provider binary is not built; tests never build it themselves.
    #[error("provider binary {} not found: run `make build` first", path.display())]
    ProviderMissing {
        /// Where the harness looked.
        path: PathBuf,
    },
    /// The Terraform CLI is not installed into `.tools/bin`.
    #[error("terraform CLI {} not found: run `make tools` first", path.display())]
    TerraformMissing {
        /// Where the harness looked.
        path: PathBuf,
    },
    /// A filesystem or process operation failed.
    #[error("{what} ({}): {source}", path.display())]
    Io {
        /// What the harness was doing.
        what: String,
        /// The file, directory or program involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A command ended differently than the test needed; shows the full command output.
    #[error("{why}\n{output}")]
    Command {
        /// What was expected and did not happen.
        why: String,
        /// The command, its exit code, stdout and stderr.
        output: Box<TfOutput>,
    },
    /// A command that should print JSON printed something else.
    #[error("`{command}` did not print valid JSON: {source}\n--- stdout ---\n{stdout}")]
    Json {
        /// The command line.
        command: String,
        /// What it printed.
        stdout: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A test expectation (plan counts, state attribute, output, import) did not hold.
    #[error("{0}")]
    Expectation(String),
    /// A step of a [`crate::TestCase`] failed; says which one.
    #[error("step {step} ({kind}) failed: {source}")]
    Step {
        /// 1-based step number.
        step: usize,
        /// What the step does: `apply`, `plan`, `validate` or `import`.
        kind: &'static str,
        /// Why it failed.
        source: Box<HarnessError>,
    },
    /// The destroy (or the destroy check) at the end of a [`crate::TestCase`] failed.
    #[error("destroy at the end of the test case failed: {0}")]
    Destroy(Box<HarnessError>),
    /// A step failed and the destroy after it failed too: both are shown.
    #[error("{first}\n\n...and then {destroy}")]
    StepAndDestroy {
        /// The step failure.
        first: Box<HarnessError>,
        /// The destroy failure.
        destroy: Box<HarnessError>,
    },
    /// Waiting for a port, a line of output or a process took too long.
    #[error("timed out after {secs:.1}s waiting for {what}")]
    Timeout {
        /// What the harness waited for.
        what: String,
        /// How long it waited.
        secs: f64,
    },
}

impl HarnessError {
    /// Shorthand for [`HarnessError::Io`].
    pub fn io(what: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HarnessError::Io {
            what: what.into(),
            path: path.into(),
            source,
        }
    }
}
