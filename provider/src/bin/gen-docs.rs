//! `gen-docs [DOCS_DIR]`: rewrites the generated schema section of every resource and data source page under
//! `DOCS_DIR` (default: the workspace's `docs/`) from the provider schema. Run by `make docs`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(d) if d == "-h" || d == "--help" => {
            println!(
                "usage: gen-docs [DOCS_DIR]  (default: {}/../docs)",
                env!("CARGO_MANIFEST_DIR")
            );
            return ExitCode::SUCCESS;
        }
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs"),
    };
    if !dir.is_dir() {
        eprintln!(
            "gen-docs: {} is not a directory; pass the docs directory as the only argument",
            dir.display()
        );
        return ExitCode::from(2);
    }
    match provider::docs::generate(&dir, &provider::docs::provider_pages()) {
        Ok(r) => {
            for p in &r.created {
                println!(
                    "created   {} (review its header and Example Usage)",
                    p.display()
                );
            }
            for p in &r.updated {
                println!("updated   {}", p.display());
            }
            println!("{} page(s) already up to date", r.unchanged.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-docs: {e}");
            ExitCode::FAILURE
        }
    }
}
