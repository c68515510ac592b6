//! The checker on small crates written to a temporary directory: what it must call a cycle, and what it must not.

use std::path::Path;

use super::check_dir;

fn write_crate(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

fn report(dir: &Path) -> (String, bool) {
    check_dir(dir).expect("check runs")
}

#[test]
fn a_facade_that_reexports_its_children_is_not_a_cycle() {
    let d = write_crate(&[
        ("lib.rs", "pub mod engine;\npub mod cli;\n"),
        (
            "engine/mod.rs",
            "mod error;\nmod eval;\npub use error::EngineError;\npub use eval::run;\n",
        ),
        ("engine/error.rs", "pub struct EngineError;\n"),
        (
            "engine/eval.rs",
            "use crate::engine::EngineError;\npub fn run() -> Result<(), EngineError> { Ok(()) }\n",
        ),
        (
            "cli.rs",
            "pub fn main() { let _ = crate::engine::run(); }\n",
        ),
    ]);
    let (text, ok) = report(d.path());
    assert!(ok, "{text}");
    assert!(text.contains("no import cycle among 5 files"), "{text}");
}

#[test]
fn a_child_calling_back_into_its_parent_is_a_cycle_with_the_lines_that_make_it() {
    let d = write_crate(&[
        ("lib.rs", "pub mod backend;\n"),
        (
            "backend/mod.rs",
            "pub mod aws;\npub struct Spec;\npub fn make() { aws::create(); }\n",
        ),
        (
            "backend/aws.rs",
            "use super::Spec;\n\npub fn create() -> Option<Spec> { None }\n",
        ),
    ]);
    let (text, ok) = report(d.path());
    assert!(!ok, "{text}");
    assert!(text.contains("1 import cycle(s)"), "{text}");
    assert!(text.contains("backend/aws.rs:1 uses super::Spec"), "{text}");
    assert!(text.contains("backend/mod.rs:3 uses aws::create"), "{text}");
}

#[test]
fn a_loop_through_three_files_and_macro_arguments_is_found() {
    let d = write_crate(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("a.rs", "pub fn fa() { crate::b::fb(); }\n"),
        (
            "b.rs",
            "pub fn fb() { println!(\"{}\", crate::c::fc()); }\n",
        ),
        ("c.rs", "pub fn fc() -> u8 { crate::a::fa(); 1 }\n"),
    ]);
    let (text, ok) = report(d.path());
    assert!(!ok, "{text}");
    assert!(text.contains("cycle among 3 files"), "{text}");
    assert!(text.contains("b.rs:1 uses crate::c::fc"), "{text}");
}

#[test]
fn glob_imports_resolve_to_the_defining_file() {
    let d = write_crate(&[
        ("lib.rs", "mod model;\nmod eval;\n"),
        (
            "model.rs",
            "pub struct Input;\npub fn check() { crate::eval::go(); }\n",
        ),
        (
            "eval.rs",
            "use crate::model::*;\npub fn go() { let _x: Option<Input> = None; }\n",
        ),
    ]);
    let (text, ok) = report(d.path());
    assert!(!ok, "{text}");
    assert!(text.contains("eval.rs:2 uses Input"), "{text}");
}

#[test]
fn a_directory_without_a_crate_root_is_an_error_naming_it() {
    let d = write_crate(&[("notes.txt", "")]);
    let Err(e) = check_dir(d.path()) else {
        panic!("expected an error")
    };
    assert!(e.to_string().contains("no crate root"), "{e}");
}
