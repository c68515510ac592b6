//! The module tree of one crate as files on disk: which file each module lives in, what each module defines, and
//! what each module brings into scope with `use`. Name resolution ([`crate::resolve`]) walks this tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

use crate::error::CheckError;

/// One source file of a crate, parsed.
pub struct SourceFile {
    /// Path relative to the directory given on the command line, for messages.
    pub shown: String,
    /// The parsed file.
    pub syntax: syn::File,
}

/// A `use` path as written, relative to the module that declares it.
#[derive(Debug, Clone)]
pub struct UsePath {
    /// Segments; a leading `::` (extern crate) is kept as an empty first segment.
    pub segs: Vec<String>,
}

/// One module: an inline `mod x { ... }` shares its parent's file.
#[derive(Default)]
pub struct Module {
    /// Index of the file the module's items are written in.
    pub file: usize,
    /// The enclosing module; `None` for a crate root.
    pub parent: Option<usize>,
    /// The crate root this module belongs to.
    pub root: usize,
    /// Child modules by name.
    pub children: BTreeMap<String, usize>,
    /// Items defined here (functions, types, traits, constants), with the file that defines them.
    pub items: BTreeMap<String, usize>,
    /// Names brought into scope by `use`.
    pub bindings: BTreeMap<String, UsePath>,
    /// `use path::*` sources.
    pub globs: Vec<UsePath>,
    /// The module's own items as written (for an inline module, the items inside its braces).
    pub body: Vec<syn::Item>,
}

/// Every module and file reachable from the crate roots of one `src` directory.
#[derive(Default)]
pub struct Tree {
    /// Parsed files; a module's `file` indexes this.
    pub files: Vec<SourceFile>,
    /// All modules; crate roots first among their own.
    pub modules: Vec<Module>,
}

impl Tree {
    /// Loads the crates rooted at `src/lib.rs`, `src/main.rs` and `src/bin/*.rs` (each its own crate).
    pub fn load(src: &Path) -> Result<Tree, CheckError> {
        let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"]
            .iter()
            .map(|f| src.join(f))
            .filter(|p| p.is_file())
            .collect();
        if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
            let mut bins: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            bins.sort();
            roots.extend(bins);
        }
        if roots.is_empty() {
            return Err(CheckError::NoCrateRoot(src.display().to_string()));
        }
        let mut tree = Tree::default();
        for root in roots {
            let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
            let file = tree.parse(src, &root)?;
            let m = tree.modules.len();
            tree.modules.push(Module {
                file,
                parent: None,
                root: m,
                ..Module::default()
            });
            let items = tree.files[file].syntax.items.clone();
            tree.fill(src, m, &items, &dir)?;
        }
        Ok(tree)
    }

    fn parse(&mut self, src: &Path, path: &Path) -> Result<usize, CheckError> {
        let shown = path.strip_prefix(src).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CheckError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let syntax = syn::parse_file(&text).map_err(|e| CheckError::Parse {
            path: path.display().to_string(),
            line: e.span().start().line,
            message: e.to_string(),
        })?;
        self.files.push(SourceFile { shown, syntax });
        Ok(self.files.len() - 1)
    }

    /// Records what module `m` defines and imports, loading child module files from `dir` (where `mod x;` looks).
    fn fill(
        &mut self,
        src: &Path,
        m: usize,
        items: &[syn::Item],
        dir: &Path,
    ) -> Result<(), CheckError> {
        let file = self.modules[m].file;
        let mut uses = UseCollector::default();
        for item in items {
            uses.visit_item(item);
            let name = match item {
                syn::Item::Fn(i) => Some(i.sig.ident.to_string()),
                syn::Item::Struct(i) => Some(i.ident.to_string()),
                syn::Item::Enum(i) => Some(i.ident.to_string()),
                syn::Item::Union(i) => Some(i.ident.to_string()),
                syn::Item::Trait(i) => Some(i.ident.to_string()),
                syn::Item::TraitAlias(i) => Some(i.ident.to_string()),
                syn::Item::Type(i) => Some(i.ident.to_string()),
                syn::Item::Const(i) => Some(i.ident.to_string()),
                syn::Item::Static(i) => Some(i.ident.to_string()),
                _ => None,
            };
            if let Some(n) = name {
                self.modules[m].items.insert(n, file);
            }
            if let syn::Item::Mod(md) = item {
                self.child(src, m, md, dir)?;
            }
        }
        self.modules[m].bindings.extend(uses.bindings);
        self.modules[m].globs.extend(uses.globs);
        self.modules[m].body = items.to_vec();
        Ok(())
    }

    fn child(
        &mut self,
        src: &Path,
        m: usize,
        md: &syn::ItemMod,
        dir: &Path,
    ) -> Result<(), CheckError> {
        let name = md.ident.to_string();
        let root = self.modules[m].root;
        let c = self.modules.len();
        if let Some((_, items)) = &md.content {
            self.modules.push(Module {
                file: self.modules[m].file,
                parent: Some(m),
                root,
                ..Module::default()
            });
            self.modules[m].children.insert(name.clone(), c);
            return self.fill(src, c, items, &dir.join(&name));
        }
        let path = match path_attr(md) {
            Some(p) => dir.join(p),
            None => {
                let flat = dir.join(format!("{name}.rs"));
                if flat.is_file() {
                    flat
                } else {
                    dir.join(&name).join("mod.rs")
                }
            }
        };
        if !path.is_file() {
            return Err(CheckError::MissingModule {
                module: name,
                path: path.display().to_string(),
            });
        }
        let file = self.parse(src, &path)?;
        self.modules.push(Module {
            file,
            parent: Some(m),
            root,
            ..Module::default()
        });
        self.modules[m].children.insert(name.clone(), c);
        let child_dir = if path.file_name().is_some_and(|f| f == "mod.rs") {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            dir.join(&name)
        };
        let items = self.files[file].syntax.items.clone();
        self.fill(src, c, &items, &child_dir)
    }
}

/// The value of `#[path = "..."]` on a module declaration.
fn path_attr(md: &syn::ItemMod) -> Option<String> {
    md.attrs.iter().find_map(|a| {
        let syn::Meta::NameValue(nv) = &a.meta else {
            return None;
        };
        if !nv.path.is_ident("path") {
            return None;
        }
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// Collects the `use` declarations of one module, including those inside function bodies (a function-local `use`
/// is treated as module-wide: good enough to resolve names, never a missed dependency), but not those of inline
/// child modules, which are modules of their own.
#[derive(Default)]
struct UseCollector {
    bindings: BTreeMap<String, UsePath>,
    globs: Vec<UsePath>,
}

impl<'ast> Visit<'ast> for UseCollector {
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        if u.leading_colon.is_some() {
            prefix.push(String::new());
        }
        self.tree(&u.tree, &mut prefix);
    }
}

impl UseCollector {
    fn tree(&mut self, t: &syn::UseTree, prefix: &mut Vec<String>) {
        match t {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last() {
                        self.bindings.insert(
                            last.clone(),
                            UsePath {
                                segs: prefix.clone(),
                            },
                        );
                    }
                } else {
                    let mut segs = prefix.clone();
                    segs.push(name.clone());
                    self.bindings.insert(name, UsePath { segs });
                }
            }
            syn::UseTree::Rename(r) => {
                let mut segs = prefix.clone();
                if r.ident != "self" {
                    segs.push(r.ident.to_string());
                }
                self.bindings.insert(r.rename.to_string(), UsePath { segs });
            }
            syn::UseTree::Glob(_) => self.globs.push(UsePath {
                segs: prefix.clone(),
            }),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(t, prefix);
                }
            }
        }
    }
}
