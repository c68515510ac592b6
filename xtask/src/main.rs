//! `xtask deps [deny.toml]`: the offline licence, ban and source check of every dependency (see `deps.rs`).
//!
//! `xtask import-cycles DIR...`: fails when a file of a crate imports another that (directly or through others)
//! imports it back. Run by `make lint` on `provider/src` and `policy/src`.
//!
//! Imports are resolved to the file that *defines* the named item: `pub use` re-exports are followed, never counted,
//! so a `mod.rs` facade that re-exports its children is fine, while a child that calls back into a function of the
//! `mod.rs` that calls it is a cycle. Declaring `mod x;` is not an import.

mod cycles;
mod deps;
mod error;
mod modtree;
mod refs;
mod resolve;

use std::path::Path;
use std::process::ExitCode;

use crate::modtree::Tree;

/// The usage line, shown on a bad command line.
const USAGE: &str = "usage: xtask import-cycles CRATE_SRC_DIR...   (e.g. xtask import-cycles provider/src policy/src)\n       xtask deps [DENY_TOML]   (default deny.toml)";

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

/// `xtask deps`: exit 1 listing every dependency that breaks `deny.toml`, 2 when the check cannot run.
fn check_deps(deny_toml: &Path) -> ExitCode {
    let result = deps::Policy::load(deny_toml)
        .and_then(|p| deps::resolved_packages(&p).map(|pkgs| (p.problems(&pkgs), pkgs.len())));
    match result {
        Ok((problems, n)) if problems.is_empty() => {
            println!(
                "deps: {n} crates, licences, bans and sources as {} allows",
                deny_toml.display()
            );
            ExitCode::SUCCESS
        }
        Ok((problems, _)) => {
            for p in &problems {
                eprintln!("deps: {p}");
            }
            eprintln!(
                "deps: {} problem(s) against {}",
                problems.len(),
                deny_toml.display()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, dirs)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if cmd == "deps" && dirs.len() <= 1 {
        return check_deps(Path::new(dirs.first().map_or("deny.toml", String::as_str)));
    }
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
