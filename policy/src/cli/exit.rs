//! How a command ends: the exit codes and the one-line error every command failure becomes.

/// Exit code for a policy failure.
pub const EXIT_FAIL: u8 = 1;
/// Exit code for a usage or input error.
pub const EXIT_USAGE: u8 = 2;

/// A command failure: the one-line message and the exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    /// A usage/input error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::usage(e.to_string())
    }
}
