//! Where the local backend keeps everything (`data_dir`): its default, the folders under it, and which databases
//! it holds, in one place for the provider and dbpolicy so both look in the same directory.

use std::path::{Path, PathBuf};

pub use crate::layout::databases_dir;
use crate::layout::Layout;
use crate::LocalPgError;

/// The default `data_dir`: `$XDG_DATA_HOME/dbplatform` when that is an absolute path, else
/// `~/.local/share/dbplatform` (the XDG base directory default); `None` without either. The caller passes the
/// variables it read, so tests do not depend on the machine.
pub fn default_data_dir(xdg_data_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    if let Some(x) = xdg_data_home.filter(|x| Path::new(x).is_absolute()) {
        return Some(Path::new(x).join("dbplatform"));
    }
    home.filter(|h| !h.is_empty())
        .map(|h| Path::new(h).join(".local/share/dbplatform"))
}

/// `<data_dir>/restores`: scratch copies (restore tests, dry runs), each removed after use.
pub fn restores_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("restores")
}

/// The names of the databases under `data_dir` (directories with a `metadata.json`), sorted; empty when there
/// is no such directory.
pub fn database_names(data_dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(databases_dir(data_dir)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .flatten()
        .filter(|e| e.path().join("metadata.json").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// The layout of database `name`, which must exist (have its `metadata.json`); otherwise a
/// [`LocalPgError::NotFound`] for `field` listing the databases there are.
pub fn existing_database(data_dir: &Path, name: &str, field: &str) -> Result<Layout, LocalPgError> {
    let valid = !name.is_empty() && !name.contains('/') && name != "." && name != "..";
    let layout = Layout::of(data_dir, name);
    if valid && layout.metadata().is_file() {
        return Ok(layout);
    }
    Err(LocalPgError::NotFound {
        field: field.to_string(),
        name: name.to_string(),
        data_dir: data_dir.to_path_buf(),
        existing: database_names(data_dir),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_data_dir_follows_xdg_then_home() {
        assert_eq!(
            default_data_dir(Some("/x/data"), Some("/home/a")),
            Some(PathBuf::from("/x/data/dbplatform"))
        );
        assert_eq!(
            default_data_dir(Some("relative"), Some("/home/a")),
            Some(PathBuf::from("/home/a/.local/share/dbplatform")),
            "XDG_DATA_HOME must be absolute to count"
        );
        assert_eq!(default_data_dir(None, Some("")), None);
    }

    #[test]
    fn only_directories_with_metadata_are_databases() {
        let dir = tempfile::tempdir().unwrap();
        let dbs = databases_dir(dir.path());
        for name in ["orders", "billing", "half-made"] {
            std::fs::create_dir_all(dbs.join(name)).unwrap();
        }
        std::fs::write(dbs.join("orders/metadata.json"), "{}").unwrap();
        std::fs::write(dbs.join("billing/metadata.json"), "{}").unwrap();
        assert_eq!(database_names(dir.path()), ["billing", "orders"]);
        assert!(existing_database(dir.path(), "orders", "--scratch-copy").is_ok());
        let e = existing_database(dir.path(), "half-made", "--scratch-copy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("databases there: billing, orders"), "{e}");
        assert!(existing_database(dir.path(), "../databases/orders", "x").is_err());
    }
}
