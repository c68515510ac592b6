//! Which files a `dbpolicy migration` command reads: `.sql` files given by name, the `.sql` files of folders
//! (recursively, in name order, the order migration tools apply them), or standard input for `-`.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::MigrationError;

/// One migration's name (as shown in reports) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFile {
    pub name: String,
    pub text: String,
}

/// Reads every migration the arguments name, in order.
pub fn read_all(args: &[String]) -> Result<Vec<SqlFile>, MigrationError> {
    let mut out = Vec::new();
    for a in args {
        if a == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| MigrationError::Read {
                    path: "<stdin>".into(),
                    source,
                })?;
            out.push(SqlFile {
                name: "<stdin>".into(),
                text,
            });
            continue;
        }
        let p = Path::new(a);
        if p.is_dir() {
            let mut found = Vec::new();
            collect(p, &mut found).map_err(|source| MigrationError::Read {
                path: a.clone(),
                source,
            })?;
            if found.is_empty() {
                return Err(MigrationError::NoSqlFiles { path: a.clone() });
            }
            found.sort();
            for f in found {
                out.push(read(&f.to_string_lossy())?);
            }
        } else {
            out.push(read(a)?);
        }
    }
    Ok(out)
}

fn read(name: &str) -> Result<SqlFile, MigrationError> {
    let text = std::fs::read_to_string(name).map_err(|source| MigrationError::Read {
        path: name.to_string(),
        source,
    })?;
    Ok(SqlFile {
        name: name.to_string(),
        text,
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "sql") {
            out.push(p);
        }
    }
    Ok(())
}
