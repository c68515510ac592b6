//! Finds where a resource is declared (`.tf` file and line), so SARIF and GitHub annotations point at the
//! configuration a reviewer edits rather than at the plan JSON.
//!
//! The plan file's directory is taken as the root module; module calls with local sources (`./modules/db`) are
//! followed through the plan's `configuration` block. Resources are found by scanning `*.tf` for
//! `resource "TYPE" "NAME"`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::adapter::ConfigLocation;

/// A `.tf` file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

/// Resource address -> declaration.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    map: BTreeMap<String, Location>,
}

impl Locations {
    /// No locations: every result gets a logical location only.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Where `address` is declared, if found.
    pub fn get(&self, address: &str) -> Option<&Location> {
        self.map.get(address)
    }

    /// Adds the declarations of one plan's resources. `plan_dir` is the root module's directory.
    pub fn add_plan(
        &mut self,
        plan_dir: &Path,
        raw: &serde_json::Value,
        resources: &BTreeMap<String, ConfigLocation>,
    ) {
        let root = raw.get("configuration").and_then(|c| c.get("root_module"));
        let mut scanned: BTreeMap<PathBuf, BTreeMap<(String, String), Location>> = BTreeMap::new();
        for (address, loc) in resources {
            let Some(dir) = module_dir(plan_dir, root, &loc.module) else {
                continue;
            };
            let decls = scanned.entry(dir.clone()).or_insert_with(|| scan_dir(&dir));
            if let Some(l) = decls.get(&(loc.resource_type.clone(), loc.name.clone())) {
                self.map.insert(address.clone(), l.clone());
            }
        }
    }
}

/// The directory of a module path (`module.a.module.b`), following local `source`s from the configuration.
fn module_dir(plan_dir: &Path, root: Option<&serde_json::Value>, module: &str) -> Option<PathBuf> {
    let mut dir = plan_dir.to_path_buf();
    if module.is_empty() {
        return Some(dir);
    }
    let mut cur = root?;
    let parts: Vec<&str> = module.split('.').collect();
    for pair in parts.chunks(2) {
        let [kw, name] = pair else { return None };
        if *kw != "module" {
            return None;
        }
        let call = cur.get("module_calls")?.get(*name)?;
        let source = call.get("source")?.as_str()?;
        if !(source.starts_with("./") || source.starts_with("../")) {
            return None;
        }
        dir = normalize(&dir.join(source));
        cur = call.get("module")?;
    }
    Some(dir)
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `(type, name) -> location` for every `resource "TYPE" "NAME"` in the directory's `*.tf` files.
fn scan_dir(dir: &Path) -> BTreeMap<(String, String), Location> {
    let mut out = BTreeMap::new();
    let shown = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(shown) else {
        return out;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if let Some((t, n)) = parse_resource_line(line) {
                out.entry((t, n)).or_insert(Location {
                    file: f.display().to_string(),
                    line: i + 1,
                });
            }
        }
    }
    out
}

/// Parses `resource "TYPE" "NAME" {` into (TYPE, NAME).
fn parse_resource_line(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix("resource")?;
    let mut quoted = rest.split('"');
    let _ = quoted.next()?;
    let t = quoted.next()?;
    let between = quoted.next()?;
    if !between.trim().is_empty() {
        return None;
    }
    let n = quoted.next()?;
    Some((t.to_string(), n.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_root_and_module_resources() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("main.tf"), "module \"data\" {\n  source = \"./modules/db\"\n}\n\nresource \"aws_db_instance\" \"orders\" {\n}\n").unwrap();
        std::fs::create_dir_all(d.path().join("modules/db")).unwrap();
        std::fs::write(
            d.path().join("modules/db/x.tf"),
            "# c\nresource  \"aws_rds_cluster\"   \"c\" {\n}\n",
        )
        .unwrap();
        let raw = serde_json::json!({"configuration": {"root_module": {"module_calls": {"data": {"source": "./modules/db", "module": {}}}}}});
        let mut res = BTreeMap::new();
        res.insert(
            "aws_db_instance.orders[0]".to_string(),
            ConfigLocation {
                module: "".into(),
                resource_type: "aws_db_instance".into(),
                name: "orders".into(),
            },
        );
        res.insert(
            "module.data.aws_rds_cluster.c".to_string(),
            ConfigLocation {
                module: "module.data".into(),
                resource_type: "aws_rds_cluster".into(),
                name: "c".into(),
            },
        );
        res.insert(
            "aws_db_instance.gone".to_string(),
            ConfigLocation {
                module: "".into(),
                resource_type: "aws_db_instance".into(),
                name: "gone".into(),
            },
        );
        let mut l = Locations::empty();
        l.add_plan(d.path(), &raw, &res);
        let a = l.get("aws_db_instance.orders[0]").unwrap();
        assert!(a.file.ends_with("main.tf") && a.line == 5, "{a:?}");
        let c = l.get("module.data.aws_rds_cluster.c").unwrap();
        assert!(c.file.ends_with("modules/db/x.tf") && c.line == 2, "{c:?}");
        assert!(l.get("aws_db_instance.gone").is_none());
    }
}
