//! Bundle loading: the embedded default bundle plus `--policy` directories, checked against the contract and
//! compiled once into a prepared regorus engine.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::engine::metadata::{self, ModuleScan, RuleMeta};
use crate::engine::EngineError;

/// The package of the generated module that collects every rule's violations in one query.
pub const AGGREGATOR_PACKAGE: &str = "dbplatform_engine_internal";
/// The partial set holding `[rule_id, violations]` pairs for the current input.
pub const AGGREGATOR_RULE: &str = "data.dbplatform_engine_internal.out";

/// One `.rego` file of the bundle.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Path shown in errors and hashed into the bundle hash.
    pub path: String,
    pub content: String,
    /// Which `--policy` directory it came from (None = embedded default bundle).
    pub dir: Option<PathBuf>,
}

impl PolicyFile {
    /// Test modules (`*_test.rego`) are for `dbpolicy test`, never evaluated by `check`.
    pub fn is_test(&self) -> bool {
        self.path.ends_with("_test.rego")
    }
}

/// Reads every `*.rego` below `dir`, sorted by path. A missing or non-directory path is an error.
pub fn read_dir(dir: &Path) -> Result<Vec<PolicyFile>, EngineError> {
    let shown = dir.display().to_string();
    let meta = std::fs::metadata(dir).map_err(|e| EngineError::Io {
        path: shown.clone(),
        message: format!("cannot read policy directory: {e}"),
    })?;
    if !meta.is_dir() {
        if dir.extension().is_some_and(|e| e == "rego") {
            let content = std::fs::read_to_string(dir).map_err(|e| EngineError::Io {
                path: shown.clone(),
                message: format!("cannot read: {e}"),
            })?;
            return Ok(vec![PolicyFile {
                path: shown,
                content,
                dir: Some(dir.to_path_buf()),
            }]);
        }
        return Err(EngineError::Io {
            path: shown,
            message: "is not a directory; --policy takes a directory of .rego files".into(),
        });
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| EngineError::Io {
            path: d.display().to_string(),
            message: format!("cannot list: {e}"),
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| EngineError::Io {
                path: d.display().to_string(),
                message: e.to_string(),
            })?;
            let p = entry.path();
            let ft = entry.file_type().map_err(|e| EngineError::Io {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if ft.is_dir() && !hidden {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rego") && !hidden {
                let content = std::fs::read_to_string(&p).map_err(|e| EngineError::Io {
                    path: p.display().to_string(),
                    message: format!("cannot read: {e}"),
                })?;
                out.push(PolicyFile {
                    path: p.display().to_string(),
                    content,
                    dir: Some(dir.to_path_buf()),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// sha256 over the sorted (path, content) pairs, hex encoded.
pub fn bundle_hash(files: &[PolicyFile]) -> String {
    let mut sorted: Vec<&PolicyFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = Sha256::new();
    for f in sorted {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.content.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A module after scanning: its file, package and rule names.
#[derive(Debug, Clone)]
pub struct ScannedModule {
    pub file: PolicyFile,
    pub scan: ModuleScan,
}

/// Whether a package is one of ours: `dbplatform.rules.<name>` (not a test package).
pub fn is_rule_package(pkg: &str) -> bool {
    pkg.starts_with("dbplatform.rules.") && !pkg.ends_with("_test")
}

/// Extracts the rules (with METADATA) of the non-test modules, checking ids are present and unique.
pub fn collect_rules(modules: &[ScannedModule]) -> Result<Vec<RuleMeta>, EngineError> {
    let mut rules: Vec<RuleMeta> = Vec::new();
    let mut by_id: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for m in modules {
        if !is_rule_package(&m.scan.package) || !m.scan.rule_names.iter().any(|r| r == "violation")
        {
            continue;
        }
        let Some(meta) = metadata::parse_rule_meta(&m.file.path, &m.scan)? else {
            return Err(EngineError::Metadata {
                location: format!("{}:{}", m.file.path, m.scan.package_line),
                message: format!(
                    "rule module {} defines `violation` but has no METADATA custom.id; add a `# METADATA` block with custom.id above `package`",
                    m.scan.package
                ),
            });
        };
        if let Some((f, l)) = by_id.get(&meta.id) {
            return Err(EngineError::Metadata {
                location: format!("{}:{}", meta.file, meta.line),
                message: format!(
                    "duplicate rule id {}: already defined at {f}:{l}; rule ids must be unique",
                    meta.id
                ),
            });
        }
        by_id.insert(meta.id.clone(), (meta.file.clone(), meta.line));
        rules.push(meta);
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rules)
}

fn rego_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn rego_set(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| rego_string(s)).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Generates the module that evaluates every applicable rule's `violation` set in one query:
/// `out contains [rule_id, violations]` guarded by the rule's kinds, actions and backends.
pub fn aggregator_module(rules: &[RuleMeta]) -> String {
    let mut s = format!("package {AGGREGATOR_PACKAGE}\n\nimport rego.v1\n\n");
    // Keeps `out` defined (and queryable) when the bundle has no dbplatform rules (conftest-only runs).
    s.push_str(
        "out contains pair if {\n\tinput.__dbplatform_never_set__\n\tpair := [\"\", []]\n}\n\n",
    );
    for r in rules {
        let _ = writeln!(
            s,
            "out contains [{}, data.{}.violation] if {{",
            rego_string(&r.id),
            r.package
        );
        if !r.applies_to.is_empty() {
            let _ = writeln!(s, "\tinput.kind in {}", rego_set(&r.applies_to));
        }
        let _ = writeln!(s, "\tinput.action in {}", rego_set(&r.actions));
        if !r.backends.is_empty() {
            let _ = writeln!(s, "\tinput.backend in {}", rego_set(&r.backends));
        }
        s.push_str("}\n\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_order_but_not_content() {
        let a = PolicyFile {
            path: "a.rego".into(),
            content: "x".into(),
            dir: None,
        };
        let b = PolicyFile {
            path: "b.rego".into(),
            content: "y".into(),
            dir: None,
        };
        let h1 = bundle_hash(&[a.clone(), b.clone()]);
        assert_eq!(h1, bundle_hash(&[b.clone(), a.clone()]));
        let mut b2 = b;
        b2.content = "z".into();
        assert_ne!(h1, bundle_hash(&[a, b2]));
        assert_eq!(h1.len(), 64);
    }

    #[test]
    fn missing_directory_is_named() {
        let e = read_dir(Path::new("/nonexistent/policies"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/nonexistent/policies: cannot read policy directory"),
            "{e}"
        );
    }
}
