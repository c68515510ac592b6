//! Finds where a resource is declared (`.tf` file and line), so SARIF and GitHub annotations point at the
//! configuration a reviewer edits rather than at the plan JSON.
//!
//! The plan file's directory is taken as the root module; module calls with local sources (`./modules/db`) are
//! followed through the plan's `configuration` block. Resources are found by scanning `*.tf` for
//! `resource "TYPE" "NAME"`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::adapter::ConfigLocation;
use crate::model::decision::RuleResult;

/// A place in a file: the `.tf` declaration of a resource, or its entry in the plan JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The path as found (relative to the working directory, or as the plan was named): what a person at a
    /// terminal can open.
    pub file: String,
    /// 1-based first line.
    pub line: usize,
    /// 1-based last line (the block's closing brace), `line` when unknown.
    pub end_line: usize,
    /// 1-based columns (Unicode code points) of the first and one past the last character, when the region
    /// does not span whole lines (a plan JSON is one long line).
    pub columns: Option<(usize, usize)>,
    /// `file` relative to the repository root with `/` separators, once [`Locations::relative_to`] ran:
    /// what GitHub needs to put an annotation or alert on the file.
    pub uri: Option<String>,
}

impl Location {
    /// The path to show to GitHub: repository-relative when known, else as found.
    pub fn repo_path(&self) -> &str {
        self.uri.as_deref().unwrap_or(&self.file)
    }
}

/// Resource address -> declaration, and address -> entry in the plan JSON as the fallback. When one check reads
/// several plans, keys are `FILE\0ADDRESS` (see [`key`]), so equal addresses in two plans keep their own places.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    map: BTreeMap<String, Location>,
    plan: BTreeMap<String, Location>,
    /// Plan file -> its first line: the place of results with no resource entry (conftest rules, whose
    /// address is the plan file) and the last fallback of a labeled result.
    files: BTreeMap<String, Location>,
    /// The repository root as a `file://` URI ending in `/`, once [`Locations::relative_to`] ran.
    root_uri: Option<String>,
    /// `ADDRESS\0PATH` -> place, for results that each have a line of their own (migration findings, whose
    /// address is the `.sql` file and whose path is `line:N`).
    lines: BTreeMap<String, Location>,
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

    /// Where a reviewer can see `address`: its `.tf` declaration, else its entry in the plan JSON. Code
    /// scanning drops results without a file, so a plan with no configuration beside it still points somewhere.
    pub fn physical(&self, address: &str) -> Option<&Location> {
        self.map.get(address).or_else(|| self.plan.get(address))
    }

    /// Where a result is: [`physical`](Self::physical) of its address, looked up in its own plan file when the
    /// check read several (`r.input`), else the plan file itself.
    pub fn of_result(&self, r: &RuleResult) -> Option<&Location> {
        if !self.lines.is_empty() {
            if let Some(l) = self.lines.get(&format!("{}\0{}", r.address, r.path)) {
                return Some(l);
            }
        }
        match &r.input {
            None => self
                .physical(&r.address)
                .or_else(|| self.files.get(&*r.address)),
            Some(input) => {
                let k = key(Some(input), &r.address);
                self.map
                    .get(&k)
                    .or_else(|| self.plan.get(&k))
                    .or_else(|| self.files.get(&**input))
            }
        }
    }

    /// The `.tf` declaration of a result's resource, when found (in its own plan's configuration).
    pub fn declaration_of(&self, r: &RuleResult) -> Option<&Location> {
        self.map.get(&key(r.input.as_deref(), &r.address))
    }

    /// Places the results of `address` whose path is `path` on `line` of `file` (a finding in a migration).
    pub fn add_line(&mut self, address: &str, path: &str, file: &str, line: usize) {
        self.lines.insert(
            format!("{address}\0{path}"),
            Location {
                file: file.to_string(),
                line,
                end_line: line,
                columns: None,
                uri: None,
            },
        );
    }

    /// Places results of `file` (used as their address) with no line of their own on its first line.
    pub fn add_file(&mut self, file: &str) {
        self.files.entry(file.to_string()).or_insert(Location {
            file: file.to_string(),
            line: 1,
            end_line: 1,
            columns: None,
            uri: None,
        });
    }

    /// Adds the `resource_changes` entries of one plan file (`text`, named `plan_file`) as fallback locations;
    /// `labeled`: the check reads several plans, and results name their file.
    pub fn add_plan_entries(&mut self, plan_file: &str, text: &[u8], labeled: bool) {
        self.files.entry(plan_file.to_string()).or_insert(Location {
            file: plan_file.to_string(),
            line: 1,
            end_line: 1,
            columns: None,
            uri: None,
        });
        let input = labeled.then_some(plan_file);
        for (address, r) in crate::report::plan_regions::resource_changes(text) {
            self.plan.entry(key(input, &address)).or_insert(Location {
                file: plan_file.to_string(),
                line: r.start_line,
                end_line: r.end_line,
                columns: Some((r.start_column, r.end_column)),
                uri: None,
            });
        }
    }

    /// Makes every location's `uri` relative to the repository `root` (`cwd` resolves relative paths), so
    /// SARIF and annotations are the same whatever directory the check ran in. Files outside the root keep an
    /// absolute `file://` URI.
    pub fn relative_to(&mut self, root: &Path, cwd: &Path) {
        self.root_uri = Some(crate::report::uri::dir_uri(root));
        for l in self
            .map
            .values_mut()
            .chain(self.plan.values_mut())
            .chain(self.files.values_mut())
            .chain(self.lines.values_mut())
        {
            l.uri = Some(crate::report::uri::repo_relative(
                Path::new(&l.file),
                root,
                cwd,
            ));
        }
    }

    /// The repository root as a `file://` URI ending in `/` (SARIF `originalUriBaseIds`), when set.
    pub fn root_uri(&self) -> Option<&str> {
        self.root_uri.as_deref()
    }

    /// Adds the declarations of one plan's resources. `plan_dir` is the root module's directory; `input`: the
    /// plan file, when the check reads several and results name their file.
    pub fn add_plan(
        &mut self,
        input: Option<&str>,
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
                self.map.insert(key(input, address), l.clone());
            }
        }
    }
}

/// The map key of `address` in the plan file `input` (just the address when results carry no file).
fn key(input: Option<&str>, address: &str) -> String {
    match input {
        None => address.to_string(),
        Some(f) => format!("{f}\0{address}"),
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
        .filter_map(|e| e.ok().map(|e| dir.join(e.file_name())))
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some((t, n)) = parse_resource_line(line) {
                out.entry((t, n)).or_insert(Location {
                    file: f.display().to_string(),
                    line: i + 1,
                    end_line: block_end(&lines, i).map_or(i + 1, |e| e + 1),
                    columns: None,
                    uri: None,
                });
            }
        }
    }
    out
}

/// The 0-based line of the brace closing the block opened on line `start`: braces are counted outside
/// strings and comments (heredocs are rare in resource blocks and may end the count early; the start line
/// is what matters).
fn block_end(lines: &[&str], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate().skip(start) {
        let mut in_str = false;
        let mut escaped = false;
        let mut prev = '\0';
        for c in line.chars() {
            if in_str {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_str = false,
                    _ => {}
                }
            } else {
                match c {
                    '"' => in_str = true,
                    '#' => break,
                    '/' if prev == '/' => break,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if opened && depth == 0 {
                            return Some(i);
                        }
                    }
                    _ => {}
                }
            }
            prev = c;
        }
    }
    None
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
        l.add_plan(None, d.path(), &raw, &res);
        let a = l.get("aws_db_instance.orders[0]").unwrap();
        assert!(a.file.ends_with("main.tf") && a.line == 5, "{a:?}");
        assert_eq!(a.end_line, 6, "the region ends at the closing brace");
        let c = l.get("module.data.aws_rds_cluster.c").unwrap();
        assert!(c.file.ends_with("modules/db/x.tf") && c.line == 2, "{c:?}");
        assert!(l.get("aws_db_instance.gone").is_none());
        l.relative_to(d.path(), Path::new("/elsewhere"));
        assert_eq!(
            l.get("module.data.aws_rds_cluster.c").unwrap().repo_path(),
            "modules/db/x.tf"
        );
    }

    #[test]
    fn block_end_skips_braces_in_strings_and_comments() {
        let lines = [
            "resource \"a\" \"b\" {",
            "  x = \"}\" # }",
            "  tags = { a = 1 }",
            "}",
        ];
        assert_eq!(block_end(&lines, 0), Some(3));
    }
}
