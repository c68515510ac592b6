//! The dependencies of each file: every path it writes (in `use` declarations, types, expressions, patterns and
//! macro arguments) resolved to the file that defines the named item. `pub use` re-exports are aliases, not
//! dependencies: they are followed when resolving, never counted for the file that declares them.

use std::collections::BTreeMap;

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::modtree::Tree;
use crate::resolve::Target;

/// Why one file depends on another: the first place it names something defined there.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// 1-based line in the depending file.
    pub line: usize,
    /// The path as written, `::`-joined.
    pub path: String,
}

/// File-to-file dependencies: `edges[from][to]` is the first reference of `from` to an item defined in `to`.
pub type Edges = BTreeMap<usize, BTreeMap<usize, Evidence>>;

/// Collects the dependencies of every file of `tree`.
pub fn collect(tree: &Tree) -> Edges {
    let mut edges = Edges::new();
    for (m, module) in tree.modules.iter().enumerate() {
        let mut v = RefVisitor {
            tree,
            module: m,
            file: module.file,
            edges: &mut edges,
        };
        for item in &module.body {
            v.visit_item(item);
        }
    }
    edges
}

struct RefVisitor<'t> {
    tree: &'t Tree,
    module: usize,
    file: usize,
    edges: &'t mut Edges,
}

impl RefVisitor<'_> {
    fn note(&mut self, segs: &[String], line: usize) {
        if let Target::Item(to) = self.tree.resolve(self.module, segs) {
            if to != self.file {
                self.edges
                    .entry(self.file)
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| Evidence {
                        line,
                        path: segs.join("::"),
                    });
            }
        }
    }

    fn use_tree(&mut self, t: &syn::UseTree, prefix: &mut Vec<String>) {
        match t {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut segs = prefix.clone();
                if n.ident != "self" {
                    segs.push(n.ident.to_string());
                }
                self.note(&segs, n.ident.span().start().line);
            }
            syn::UseTree::Rename(r) => {
                let mut segs = prefix.clone();
                if r.ident != "self" {
                    segs.push(r.ident.to_string());
                }
                self.note(&segs, r.ident.span().start().line);
            }
            syn::UseTree::Glob(_) => {}
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix);
                }
            }
        }
    }

    /// Paths inside macro arguments (`format!`, `json!`, `tracing::debug!`) are tokens to syn: find the
    /// `a::b::c` runs among them. A lone identifier is left alone: in a macro it is nearly always a variable.
    fn tokens(&mut self, ts: TokenStream) {
        let toks: Vec<TokenTree> = ts.into_iter().collect();
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(id) => {
                    let line = id.span().start().line;
                    let mut segs = vec![id.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (toks.get(j), toks.get(j + 1), toks.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segs.push(next.to_string());
                        j += 3;
                    }
                    let anchored = matches!(segs[0].as_str(), "crate" | "self" | "super");
                    if segs.len() > 1 || anchored {
                        self.note(&segs, line);
                    }
                    i = j.max(i + 1);
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for RefVisitor<'_> {
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // A module of its own: visited with its own scope.
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if !matches!(u.vis, syn::Visibility::Inherited) || u.leading_colon.is_some() {
            return;
        }
        self.use_tree(&u.tree, &mut Vec::new());
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.note(&segs, p.span().start().line);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }
}
