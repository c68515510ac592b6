//! `xtask import-cycles DIR...`: fails when a file of a crate imports another that (directly or through others)
//! imports it back. Run by `make lint` on `provider/src` and `policy/src`.
//!
//! Imports are resolved to the file that *defines* the named item: `pub use` re-exports are followed, never counted,
//! so a `mod.rs` facade that re-exports its children is fine, while a child that calls back into a function of the
//! `mod.rs` that calls it is a cycle. Declaring `mod x;` is not an import.

mod cycles;
mod error;
mod modtree;
mod refs;
mod resolve;

use std::path::Path;
use std::process::ExitCode;

use crate::modtree::Tree;

/// The usage line, shown on a bad command line.
const USAGE: &str = "usage: xtask import-cycles CRATE_SRC_DIR...   (e.g. xtask import-cycles provider/src policy/src)";

/// The report for one crate directory, and whether it is clean.
fn check_dir(dir: &Path) -> Result<(String, bool), error::CheckError> {
    let tree = Tree::load(dir)?;
    let edges = refs::collect(&tree);
    let found = cycles::find(&edges, tree.files.len());
    let name = |f: usize| format!("{}/{}", dir.display(), tree.files[f].shown);
    if found.is_empty() {
        return Ok((
            format!(
                "{}: no import cycle among {} files",
                dir.display(),
                tree.files.len()
            ),
            true,
        ));
    }
    let mut out = format!(
        "{}: {} import cycle(s); move the shared piece into a file both can import, so imports point one way\n",
        dir.display(),
        found.len()
    );
    for c in &found {
        let files: Vec<String> = c.component.iter().map(|&f| name(f)).collect();
        out.push_str(&format!(
            "\ncycle among {} files: {}\n",
            files.len(),
            files.join(", ")
        ));
        for (from, to, ev) in &c.steps {
            out.push_str(&format!(
                "  {}:{} uses {} (defined in {})\n",
                name(*from),
                ev.line,
                ev.path,
                name(*to)
            ));
        }
    }
    Ok((out, false))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, dirs)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if cmd != "import-cycles" || dirs.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut clean = true;
    for d in dirs {
        match check_dir(Path::new(d)) {
            Ok((report, ok)) => {
                println!("{}", report.trim_end());
                clean &= ok;
            }
            Err(e) => {
                eprintln!("xtask: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests;
