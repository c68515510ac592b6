//! The reference pages under `docs/` match the provider schema, and their examples are valid HCL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use provider::docs::{current_section, hcl_examples, provider_pages, PageKind};

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

/// Runs `terraform ARGS -` with `input` on stdin: (exit code, stdout + stderr).
fn run_terraform(tf: &Path, args: &[&str], input: &str) -> (Option<i32>, String) {
    let mut child = match Command::new(tf)
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run {}: {e}", tf.display()),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => (
            o.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => panic!("terraform {args:?}: {e}"),
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
            let (code, out) = run_terraform(&tf, &["fmt", "-check", "-no-color"], ex);
            match code {
                Some(0) => {}
                // 3: valid HCL, but not in canonical form; show the canonical form.
                Some(3) => {
                    let (_, canonical) = run_terraform(&tf, &["fmt", "-no-color"], ex);
                    bad.push(format!(
                        "{} example {}: not formatted as `terraform fmt` would; write it as:\n{canonical}",
                        path.display(),
                        i + 1
                    ));
                }
                _ => bad.push(format!(
                    "{} example {}: not valid HCL for terraform fmt:\n{out}",
                    path.display(),
                    i + 1
                )),
            }
        }
    }
    assert!(checked >= 5, "only {checked} examples found");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Every argument an example sets on a dbplatform resource or data source exists in that type's schema and is
/// settable (not computed-only), and every required argument is set: examples cannot drift from the schema.
#[test]
fn examples_use_only_schema_arguments() {
    let pages = provider_pages();
    let mut files: Vec<PathBuf> = pages.iter().map(|p| docs_dir().join(&p.rel_path)).collect();
    files.push(docs_dir().join("index.md"));
    let mut bad = Vec::new();
    let mut seen = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for ex in hcl_examples(&text) {
            let mut current: Option<(&provider::docs::DocPage, Vec<String>)> = None;
            for line in ex.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                if let [kw @ ("resource" | "data"), ty, _, "{"] = words.as_slice() {
                    let ty = ty.trim_matches('"');
                    let kind = if *kw == "resource" {
                        PageKind::Resource
                    } else {
                        PageKind::DataSource
                    };
                    current = pages
                        .iter()
                        .find(|p| p.type_name == ty && p.kind == kind)
                        .map(|p| (p, Vec::new()));
                    continue;
                }
                if line == "}" {
                    if let Some((page, set)) = current.take() {
                        seen += 1;
                        for a in page.block.attributes.iter().filter(|a| a.required) {
                            if !set.contains(&a.name) {
                                bad.push(format!(
                                    "{}: example of {} lacks required argument `{}`",
                                    path.display(),
                                    page.type_name,
                                    a.name
                                ));
                            }
                        }
                    }
                    continue;
                }
                let Some((page, set)) = current.as_mut() else {
                    continue;
                };
                // Top-level arguments are indented by exactly two spaces.
                let Some(rest) = line.strip_prefix("  ").filter(|r| !r.starts_with(' ')) else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name.is_empty() {
                    continue;
                }
                let ok = page
                    .block
                    .find_attribute(&name)
                    .is_some_and(|a| a.required || a.optional)
                    || page.block.find_block(&name).is_some();
                if !ok {
                    bad.push(format!(
                        "{}: example of {} sets `{name}`, which is not an argument of its schema",
                        path.display(),
                        page.type_name
                    ));
                }
                set.push(name);
            }
        }
    }
    assert!(
        seen >= 5,
        "only {seen} dbplatform blocks found in the examples"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// `gen-docs DIR` rewrites a stale section, keeps the hand-written text, creates missing pages, and refuses a
/// page without markers with an error naming it.
#[test]
fn gen_docs_rewrites_creates_and_refuses() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let res = dir.path().join("resources");
    std::fs::create_dir_all(&res).unwrap_or_else(|e| panic!("{e}"));
    let stale = format!(
        "# hand-written\n\n{}\n- `stale` (String)\n{}\n\n## Import\n\nkept\n",
        provider::docs::BEGIN_MARKER,
        provider::docs::END_MARKER
    );
    std::fs::write(res.join("database.md"), &stale).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_gen-docs"))
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("gen-docs: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("updated   ") && stdout.contains("database.md"),
        "{stdout}"
    );
    assert!(
        stdout.contains("created   ") && stdout.contains("tier.md"),
        "{stdout}"
    );
    let db = std::fs::read_to_string(res.join("database.md")).unwrap_or_default();
    assert!(db.starts_with("# hand-written\n\n"), "{db}");
    assert!(db.ends_with("\n\n## Import\n\nkept\n"), "{db}");
    assert!(!db.contains("`stale`"), "{db}");
    assert!(db.contains("- `timeouts` (Block)"), "{db}");
    let created =
        std::fs::read_to_string(dir.path().join("data-sources/tier.md")).unwrap_or_default();
    assert!(
        created.contains("# dbplatform_tier (Data Source)\n"),
        "{created}"
    );

    std::fs::write(res.join("database.md"), "# no markers\n").unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_gen-docs"))
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("gen-docs: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("resources/database.md: no begin marker"),
        "{stderr}"
    );
}
