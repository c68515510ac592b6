//! Where a command's report goes: `--output FILE` or standard output.

use super::exit::CliError;

/// Writes `text` to `--output FILE` or standard output.
pub(crate) fn emit(output: Option<&std::path::Path>, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    match output {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| CliError::usage(format!("{}: cannot write output: {e}", p.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(())
        }
    }
}
