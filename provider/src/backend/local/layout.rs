//! One database's directory as the provider sees it: `localpg`'s [`Layout`], and its `metadata.json` holding this
//! provider's full [`DatabaseSpec`] (dbpolicy reads the same file with only the fields it needs).

use crate::backend::DatabaseSpec;

pub(super) use localpg::layout::{Layout, Phase};

/// The backend name in errors and `kind()`.
pub(super) const BACKEND: &str = "local";

/// What the backend keeps about a database beside its data, with the provider's spec.
pub(super) type Metadata = localpg::layout::Metadata<DatabaseSpec>;
