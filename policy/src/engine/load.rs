//! Bundle loading: the embedded default bundle plus `--policy` directories, checked against the contract and
//! compiled once into a prepared regorus engine.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::engine::metadata::{self, ModuleScan, RuleMeta};
use crate::engine::source::{self, RegoVersion};
use crate::engine::{extensions, EngineError};

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
    crate::hex::lower(&h.finalize())
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
        // `[id, violations]`, or `[id, violations, not_applicable]` for modules that define `not_applicable`.
        let variants: &[(&str, &str)] = if r.not_applicable {
            &[
                (", true", "data.{pkg}.not_applicable == true"),
                (", false", "not data.{pkg}.not_applicable == true"),
            ]
        } else {
            &[("", "")]
        };
        for (tail, cond) in variants {
            let _ = writeln!(
                s,
                "out contains [{}, data.{}.violation{tail}] if {{",
                rego_string(&r.id),
                r.package
            );
            if r.applies_to.is_empty() {
                // As `applies` in eval.rs: a rule for "every resource" never sees a migration.
                s.push_str("\tinput.kind != \"migration\"\n");
            } else {
                let _ = writeln!(s, "\tinput.kind in {}", rego_set(&r.applies_to));
            }
            let _ = writeln!(s, "\tinput.action in {}", rego_set(&r.actions));
            if !r.backends.is_empty() {
                let _ = writeln!(s, "\tinput.backend in {}", rego_set(&r.backends));
            }
            if !cond.is_empty() {
                let _ = writeln!(s, "\t{}", cond.replace("{pkg}", &r.package));
            }
            s.push_str("}\n\n");
        }
    }
    s
}

/// One module to compile: where it came from, its text, and whether it must be Rego v1 (the embedded bundle).
pub(crate) struct ModuleSource<'a> {
    pub path: &'a str,
    pub content: &'a str,
    pub always_v1: bool,
}

/// Adds modules to `engine` the way OPA 1.x with v0 compatibility loads them: each module as its own Rego
/// version (`version`, or detected per module), `[path, value] := walk(x)` rewritten to OPA's form, and a call
/// of a function that exists nowhere refused with its name, file and line. Returns each module's text as
/// compiled (same lines as the file).
pub(crate) fn add_modules(
    engine: &mut regorus::Engine,
    modules: &[ModuleSource<'_>],
    version: RegoVersion,
) -> Result<Vec<String>, EngineError> {
    let names: Vec<source::ModuleNames> = modules
        .iter()
        .map(|m| source::module_names(m.content))
        .collect();
    let mut all = std::collections::BTreeSet::new();
    for n in &names {
        for r in &n.rules {
            all.insert(format!("{}.{r}", n.package));
        }
    }
    let mut out = Vec::with_capacity(modules.len());
    for (m, own) in modules.iter().zip(&names) {
        let text = if m.always_v1 {
            m.content.to_string()
        } else {
            source::rewrite_chained_bodies(m.content)
        };
        let text = source::rewrite_walk(m.path, &text)?;
        let text = super::rego_metadata::rewrite(m.path, &text)?;
        if let Some((name, line)) = source::unknown_calls(&text, own, &all, &extensions::is_builtin)
            .into_iter()
            .next()
        {
            let why = match extensions::REFUSED.iter().find(|(n, _)| *n == name) {
                Some((_, why)) => format!("built-in {name} is not available: {why}"),
                None => format!(
                    "unknown function {name}: neither a built-in (`dbpolicy capabilities` lists them) nor a \
                     function of a loaded module"
                ),
            };
            return Err(EngineError::Rego {
                location: format!("{}:{line}", m.path),
                message: why,
            });
        }
        let v1 = match (m.always_v1, version) {
            (true, _) | (false, RegoVersion::V1) => true,
            (false, RegoVersion::V0) => false,
            (false, RegoVersion::Auto) => source::detect_v1(&text),
        };
        engine.set_rego_v0(!v1);
        let first = engine.add_policy(m.path.to_string(), text.clone());
        if let Err(e) = first {
            // Detection guessed wrong (or the module is broken): try the other version before giving up, and
            // report the first version's error when both fail.
            // Only v0 -> v1: a module detected as v1 uses `if`/`contains` without imports, which the v0 parser
            // cannot read (and warns about on stderr).
            let retried = if version == RegoVersion::Auto && !m.always_v1 && !v1 {
                engine.set_rego_v0(v1);
                engine.add_policy(m.path.to_string(), text.clone()).is_ok()
            } else {
                false
            };
            if !retried {
                engine.set_rego_v0(false);
                let mut err = EngineError::rego(m.path, e);
                if let EngineError::Rego { message, .. } = &mut err {
                    message.push_str(if v1 {
                        " (parsed as Rego v1)"
                    } else {
                        " (parsed as Rego v0)"
                    });
                }
                return Err(err);
            }
        }
        engine.set_rego_v0(false);
        out.push(text);
    }
    Ok(out)
}

/// Loads `--data` documents as OPA does: a file's content (JSON, or YAML for `.yaml`/`.yml`) at the root of
/// `data`; a directory's JSON and YAML files, recursively, each at the path of its folder relative to the
/// directory (`d/aws/regions.json` at `data.aws`). Documents are deep-merged; a conflicting value is an error.
pub fn load_data(paths: &[PathBuf], into: &mut serde_json::Value) -> Result<(), EngineError> {
    for p in paths {
        let shown = p.display().to_string();
        let meta = std::fs::metadata(p).map_err(|e| EngineError::Io {
            path: shown.clone(),
            message: format!("cannot read data file: {e}"),
        })?;
        if meta.is_dir() {
            for (file, rel) in data_files_under(p)? {
                let doc = read_data_doc(&file)?;
                let mut wrapped = doc;
                for seg in rel.iter().rev() {
                    let mut o = serde_json::Map::new();
                    o.insert(seg.clone(), wrapped);
                    wrapped = serde_json::Value::Object(o);
                }
                if !wrapped.is_object() {
                    return Err(EngineError::Data {
                        path: file.display().to_string(),
                        message: "a data file at the top of a --data directory must hold an object"
                            .into(),
                    });
                }
                merge_data(into, wrapped, &file.display().to_string())?;
            }
        } else {
            let doc = read_data_doc(p)?;
            if !doc.is_object() {
                return Err(EngineError::Data {
                    path: shown,
                    message: "a data file must hold an object at the top level (it becomes `data`)"
                        .into(),
                });
            }
            merge_data(into, doc, &shown)?;
        }
    }
    Ok(())
}

/// Whether a file is a data document (`.json`, `.yaml`, `.yml`).
pub fn is_data_file(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
}

/// JSON/YAML files below `dir` (hidden entries skipped), sorted, with their folder path relative to `dir`.
fn data_files_under(dir: &Path) -> Result<Vec<(PathBuf, Vec<String>)>, EngineError> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), Vec::<String>::new())];
    while let Some((d, rel)) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|e| EngineError::Io {
            path: d.display().to_string(),
            message: format!("cannot list: {e}"),
        })?;
        for entry in rd.filter_map(Result::ok) {
            let p = entry.path();
            let Some(name) = p.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                let mut r = rel.clone();
                r.push(name);
                stack.push((p, r));
            } else if is_data_file(&p) {
                out.push((p, rel.clone()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one JSON or YAML document.
pub fn read_data_doc(path: &Path) -> Result<serde_json::Value, EngineError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| EngineError::Io {
        path: shown.clone(),
        message: format!("cannot read data file: {e}"),
    })?;
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    if yaml {
        crate::yaml::to_json(&text).map_err(|e| EngineError::Data {
            path: shown,
            message: format!("not valid YAML: {e}"),
        })
    } else {
        serde_json::from_str(&text).map_err(|e| EngineError::Data {
            path: shown,
            message: format!("not valid JSON: {e}"),
        })
    }
}

/// Deep-merges `add` into `base`; a conflicting leaf is an error naming the key.
pub fn merge_data(
    base: &mut serde_json::Value,
    add: serde_json::Value,
    origin: &str,
) -> Result<(), EngineError> {
    fn go(
        base: &mut serde_json::Value,
        add: serde_json::Value,
        path: &str,
        origin: &str,
    ) -> Result<(), EngineError> {
        match (base, add) {
            (serde_json::Value::Object(b), serde_json::Value::Object(a)) => {
                for (k, v) in a {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match b.get_mut(&k) {
                        Some(existing) => go(existing, v, &p, origin)?,
                        None => {
                            b.insert(k, v);
                        }
                    }
                }
                Ok(())
            }
            (b, a) if *b == a => Ok(()),
            _ => Err(EngineError::Data {
                path: origin.into(),
                message: format!("data.{path} conflicts with data already loaded"),
            }),
        }
    }
    go(base, add, "", origin)
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
