//! What can stop a check before it has an answer: the tree could not be read or parsed.

/// A check that could not run; each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The directory holds no `lib.rs`, `main.rs` or `bin/*.rs`.
    #[error("{0}: no crate root (lib.rs, main.rs or bin/*.rs); pass a crate's src directory")]
    NoCrateRoot(String),
    /// A source file could not be read.
    #[error("{path}: cannot read: {message}")]
    Read { path: String, message: String },
    /// A source file is not valid Rust (as far as syn can tell).
    #[error("{path}:{line}: cannot parse: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    /// A configuration file or a tool's output is not what the check expects.
    #[error("{path}: cannot read it as expected: {message}")]
    Config { path: String, message: String },
    /// `mod x;` names a file that does not exist.
    #[error("module {module}: file {path} not found")]
    MissingModule { module: String, path: String },
}
