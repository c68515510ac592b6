//! The reference pages under `docs/` match the provider schema, and their examples are valid HCL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use provider::docs::{current_section, hcl_examples, provider_pages};

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// Every page's generated section equals what the schema renders today.
#[test]
fn generated_sections_match_the_schema() {
    let mut stale = Vec::new();
    for page in provider_pages() {
        let path = docs_dir().join(&page.rel_path);
        let rel = format!("docs/{}", page.rel_path.display());
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                stale.push(format!(
                    "{rel}: cannot read ({e}); run `make docs` to create it"
                ));
                continue;
            }
        };
        match current_section(&text, &rel) {
            Ok(s) if s == page.generated_section() => {}
            Ok(s) => {
                let want = page.generated_section();
                let first = s
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .map(|i| i + 1);
                stale.push(format!(
                    "{rel}: the schema section differs from the {} schema (first difference at line {} of the section); run `make docs`",
                    page.type_name,
                    first.map_or_else(|| "end".to_string(), |l| l.to_string())
                ));
            }
            Err(e) => stale.push(e.to_string()),
        }
    }
    assert!(stale.is_empty(), "docs out of date:\n{}", stale.join("\n"));
}

/// Every page has an Example Usage section with at least one HCL example.
#[test]
fn every_page_has_an_example() {
    for page in provider_pages() {
        let path = docs_dir().join(&page.rel_path);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            text.contains("\n## Example Usage\n"),
            "docs/{} has no `## Example Usage` section",
            page.rel_path.display()
        );
        assert!(
            !hcl_examples(&text).is_empty(),
            "docs/{} has no ```terraform example",
            page.rel_path.display()
        );
    }
}

fn terraform() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin/terraform");
    p.is_file().then_some(p)
}

/// Every ```terraform / ```hcl example of every reference page is valid, canonically formatted HCL for the
/// pinned Terraform (1.0.3): `terraform fmt -check -` accepts it unchanged.
#[test]
fn examples_are_valid_hcl() {
    let Some(tf) = terraform() else {
        eprintln!("skipped: .tools/bin/terraform not installed (run `make tools`)");
        return;
    };
    let mut bad = Vec::new();
    let mut checked = 0;
    let mut pages: Vec<PathBuf> = provider_pages()
        .iter()
        .map(|p| docs_dir().join(&p.rel_path))
        .collect();
    pages.push(docs_dir().join("index.md"));
    for path in pages {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, ex) in hcl_examples(&text).iter().enumerate() {
            checked += 1;
            let child = Command::new(&tf)
                .args(["fmt", "-check", "-diff", "-no-color", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn();
            let mut child = match child {
                Ok(c) => c,
                Err(e) => panic!("cannot run {}: {e}", tf.display()),
            };
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(ex.as_bytes());
            }
            let out = match child.wait_with_output() {
                Ok(o) => o,
                Err(e) => panic!("terraform fmt: {e}"),
            };
            if !out.status.success() {
                bad.push(format!(
                    "{} example {}: terraform fmt -check failed:\n{}{}",
                    path.display(),
                    i + 1,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(checked >= 5, "only {checked} examples found");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
