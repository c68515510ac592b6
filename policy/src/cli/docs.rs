//! Shell completions and man pages, generated from the clap definitions so they never drift from the flags:
//! `dbpolicy completions SHELL` for packagers and users, `dbpolicy man [--dir DIR]` for `make man`.

use std::path::Path;

/// Why a man page could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot write the man page: {source}")]
pub struct ManError {
    path: String,
    source: std::io::Error,
}

/// The completion script of `shell` for `cmd`. Built in memory: clap_complete panics when its writer
/// fails, and a closed pipe (`| head`) must not crash the program.
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    buf
}

/// `cmd`'s man page (roff), built in memory so that a closed pipe is not an error.
pub fn man_page(cmd: clap::Command) -> Vec<u8> {
    let mut buf = Vec::new();
    // Rendering into memory cannot fail.
    let _ = clap_mangen::Man::new(cmd).render(&mut buf);
    buf
}

/// Writes one man page per command (`dbpolicy.1`, `dbpolicy-check.1`, ...) into `dir`; returns their names.
pub fn man_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<String>, ManError> {
    let err = |source| ManError {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    clap_mangen::generate_to(cmd, dir).map_err(err)?;
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dbpolicy") && n.ends_with(".1"))
        .collect();
    files.sort();
    Ok(files)
}
