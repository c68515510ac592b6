//! Small helpers the local backend's files share: private files, SQL quoting and errors, versions, times.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::backend::BackendError;

pub(super) fn write_private(path: &Path, content: &str) -> Result<(), BackendError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(BackendError::io("writing", path))?;
    f.write_all(content.as_bytes())
        .map_err(BackendError::io("writing", path))
}

pub(super) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(super) fn sql_err(name: &str, e: tokio_postgres::Error) -> BackendError {
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    };
    BackendError::Sql {
        name: name.to_string(),
        message,
    }
}

pub(super) fn major_of(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn newest_mtime(dir: &Path) -> Option<DateTime<Utc>> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()
        .map(DateTime::<Utc>::from)
}

/// Parameters map helper for callers building specs.
pub fn parameters(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
