//! Repository-relative URIs for report locations: GitHub code scanning and annotations place results by the
//! path from the repository root, so `plan.json`, `./plan.json` and `/abs/repo/plan.json` must all come out as
//! the same URI, whatever directory the check ran in.

use std::path::{Component, Path, PathBuf};

/// `path` (resolved against `cwd` when relative) relative to `root`, with `/` separators and percent-encoding;
/// a path outside `root` becomes an absolute `file://` URI.
pub fn repo_relative(path: &Path, root: &Path, cwd: &Path) -> String {
    let abs = normalize(&cwd.join(path));
    let root = normalize(&cwd.join(root));
    match abs.strip_prefix(&root) {
        Ok(rel) => encode_components(rel),
        Err(_) => format!("file://{}", encode_components(&abs)),
    }
}

/// The directory `dir` as a `file://` URI ending in `/` (SARIF requires the trailing slash on base URIs).
pub fn dir_uri(dir: &Path) -> String {
    let mut s = format!("file://{}", encode_components(&normalize(dir)));
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// Removes `.` and `..` components without touching the file system (symbolic links are not resolved: the
/// root and the paths are spelled the way the user gave them).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Joins the components with `/`, percent-encoding what is not allowed unescaped in a URI path.
fn encode_components(p: &Path) -> String {
    let mut out = String::new();
    for c in p.components() {
        match c {
            Component::RootDir => out.push('/'),
            Component::Normal(s) => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                for b in s.to_string_lossy().bytes() {
                    if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
                        out.push(char::from(b));
                    } else {
                        out.push_str(&format!("%{b:02X}"));
                    }
                }
            }
            Component::ParentDir => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str("..");
            }
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_uri_whatever_the_spelling_or_working_directory() {
        let root = Path::new("/repo");
        for (path, cwd) in [
            ("infra/plan.json", "/repo"),
            ("./infra/plan.json", "/repo"),
            ("plan.json", "/repo/infra"),
            ("../infra/./plan.json", "/repo/infra"),
            ("/repo/infra/plan.json", "/tmp"),
        ] {
            assert_eq!(
                repo_relative(Path::new(path), root, Path::new(cwd)),
                "infra/plan.json",
                "{path} from {cwd}"
            );
        }
    }

    #[test]
    fn outside_the_root_is_absolute_and_names_are_encoded() {
        assert_eq!(
            repo_relative(
                Path::new("/tmp/my plan.json"),
                Path::new("/repo"),
                Path::new("/")
            ),
            "file:///tmp/my%20plan.json"
        );
        assert_eq!(dir_uri(Path::new("/repo")), "file:///repo/");
    }
}
