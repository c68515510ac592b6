//! Name resolution over a [`Tree`]: which file defines the item a path names. Re-exports and `use` aliases are
//! followed to the defining file, so `use crate::engine::EngineError` depends on `engine/error.rs`, not on the
//! `engine/mod.rs` that re-exports it.

use crate::modtree::Tree;

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A module: naming a module is not a dependency on any of its files.
    Module(usize),
    /// An item defined in this file.
    Item(usize),
    /// Something outside the crate (std, a dependency), a local variable, a generic, or a name not understood.
    Elsewhere,
}

/// Deep enough for any real chain of re-exports, small enough to stop a `use` loop.
const MAX_DEPTH: u32 = 24;

impl Tree {
    /// Resolves `segs` as written in module `m`.
    pub fn resolve(&self, m: usize, segs: &[String]) -> Target {
        self.resolve_at(m, segs, 0)
    }

    fn resolve_at(&self, m: usize, segs: &[String], depth: u32) -> Target {
        if depth > MAX_DEPTH {
            return Target::Elsewhere;
        }
        let Some(first) = segs.first() else {
            return Target::Module(m);
        };
        match first.as_str() {
            "" => Target::Elsewhere,
            "crate" => self.walk(self.modules[m].root, &segs[1..], depth),
            "self" => self.walk(m, &segs[1..], depth),
            "super" => {
                let mut at = m;
                let mut rest = segs;
                while rest.first().is_some_and(|s| s == "super") {
                    match self.modules[at].parent {
                        Some(p) => at = p,
                        None => return Target::Elsewhere,
                    }
                    rest = &rest[1..];
                }
                match rest.first().map(String::as_str) {
                    Some("self") => self.walk(at, &rest[1..], depth),
                    _ => self.walk(at, rest, depth),
                }
            }
            _ => self.walk(m, segs, depth),
        }
    }

    /// Looks `segs` up among the names visible in module `m` (children, items, `use` bindings, globs).
    fn walk(&self, m: usize, segs: &[String], depth: u32) -> Target {
        let Some(s) = segs.first() else {
            return Target::Module(m);
        };
        let module = &self.modules[m];
        if let Some(&c) = module.children.get(s) {
            return self.walk(c, &segs[1..], depth);
        }
        if let Some(&f) = module.items.get(s) {
            return Target::Item(f);
        }
        if let Some(b) = module.bindings.get(s) {
            let mut path = b.segs.clone();
            path.extend_from_slice(&segs[1..]);
            return self.resolve_at(m, &path, depth + 1);
        }
        for g in &module.globs {
            let mut path = g.segs.clone();
            path.extend_from_slice(segs);
            let t = self.resolve_at(m, &path, depth + 1);
            if t != Target::Elsewhere {
                return t;
            }
        }
        Target::Elsewhere
    }
}
