//! The drill journal (`<data_dir>/drills/<database>.json`): written before a drill touches a server and removed
//! when the topology is back, so a provider killed in the middle of a drill leaves a record that the next read,
//! create or drill of that database or replica acts on (it restores the original topology; see `switchback`).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::super::backend::LocalBackend;
use super::super::support::write_private;
use crate::backend::BackendError;

/// One running (or interrupted) drill.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(in crate::backend::local) struct Journal {
    pub(in crate::backend::local) drill: String,
    pub(in crate::backend::local) database: String,
    pub(in crate::backend::local) replica: String,
    pub(in crate::backend::local) started_at: DateTime<Utc>,
    pub(in crate::backend::local) owner_process: (u32, u64),
    /// The last step reached (for messages).
    pub(in crate::backend::local) step: String,
}

impl LocalBackend {
    fn journal_path(&self, database: &str) -> PathBuf {
        self.data_dir
            .join("drills")
            .join(format!("{database}.json"))
    }

    pub(in crate::backend::local) fn write_journal(&self, j: &Journal) -> Result<(), BackendError> {
        let path = self.journal_path(&j.database);
        let dir = self.data_dir.join("drills");
        std::fs::create_dir_all(&dir).map_err(BackendError::io("creating directory", &dir))?;
        let text = serde_json::to_string_pretty(j).map_err(|e| BackendError::Metadata {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let tmp = path.with_extension("json.tmp");
        write_private(&tmp, &text)?;
        std::fs::rename(&tmp, &path).map_err(BackendError::io("replacing", &path))
    }

    pub(in crate::backend::local) fn read_journal(&self, database: &str) -> Option<Journal> {
        let text = std::fs::read_to_string(self.journal_path(database)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub(in crate::backend::local) fn remove_journal(
        &self,
        database: &str,
    ) -> Result<(), BackendError> {
        let path = self.journal_path(database);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BackendError::io("removing", &path)(e)),
        }
    }
}
