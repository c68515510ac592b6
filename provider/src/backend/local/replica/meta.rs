//! What the local backend keeps about a replica beside its data (`metadata.json`), where its files are, and how
//! the provider and the replica's server connect (admin role by peer over the socket; the replication role by
//! password over TCP with TLS).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::super::backend::LocalBackend;
use super::super::identity::ADMIN_ROLE;
use super::super::layout::{Layout, Phase};
use crate::backend::{BackendError, ConnectionInfo};

/// A replica's record (`replicas/<name>/metadata.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(in crate::backend::local) struct ReplicaMeta {
    pub(in crate::backend::local) format: u32,
    pub(in crate::backend::local) id: String,
    /// The source database's name.
    pub(in crate::backend::local) source: String,
    pub(in crate::backend::local) instance_class: String,
    pub(in crate::backend::local) tags: BTreeMap<String, String>,
    pub(in crate::backend::local) deletion_protection: bool,
    pub(in crate::backend::local) port: u16,
    pub(in crate::backend::local) socket_dir: PathBuf,
    pub(in crate::backend::local) bindir: PathBuf,
    pub(in crate::backend::local) engine_version_actual: String,
    pub(in crate::backend::local) created_at: DateTime<Utc>,
    pub(in crate::backend::local) phase: Phase,
    /// The last create step whose effect is durable.
    pub(in crate::backend::local) step: String,
    pub(in crate::backend::local) owner_process: Option<(u32, u64)>,
    pub(in crate::backend::local) os_user: Option<String>,
    /// The replication role on the source (LOGIN REPLICATION, password in `replication-password`).
    pub(in crate::backend::local) role: String,
    /// The physical replication slot on the source that keeps the WAL this replica still needs.
    pub(in crate::backend::local) slot: String,
}

/// A short, stable, SQL-safe suffix for the replica's role and slot names (replica names have hyphens).
pub(in crate::backend::local) fn name_hash(name: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    "dbplatform-replica".hash(&mut h);
    name.hash(&mut h);
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

impl LocalBackend {
    pub(in crate::backend::local) fn replica_layout(&self, name: &str) -> Layout {
        Layout {
            root: self.data_dir.join("replicas").join(name),
        }
    }

    /// The OS user a replica's server runs as: its own (`replica/NAME` cannot collide with a database name).
    pub(in crate::backend::local) fn replica_os_user(
        &self,
        name: &str,
    ) -> Result<Option<super::super::pg::OsUser>, BackendError> {
        self.server_user(&format!("replica/{name}"))
    }

    pub(in crate::backend::local) fn replication_password_file(layout: &Layout) -> PathBuf {
        layout.root.join("replication-password")
    }

    pub(in crate::backend::local) fn load_replica(
        &self,
        name: &str,
    ) -> Result<Option<(Layout, ReplicaMeta)>, BackendError> {
        let layout = self.replica_layout(name);
        let path = layout.metadata();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BackendError::io("reading", &path)(e)),
        };
        let meta = serde_json::from_str(&text).map_err(|e| BackendError::Metadata {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Some((layout, meta)))
    }

    pub(in crate::backend::local) fn save_replica(
        &self,
        layout: &Layout,
        meta: &ReplicaMeta,
    ) -> Result<(), BackendError> {
        let text = serde_json::to_string_pretty(meta).map_err(|e| BackendError::Metadata {
            path: layout.metadata(),
            message: e.to_string(),
        })?;
        let tmp = layout.root.join("metadata.json.tmp");
        super::super::support::write_private(&tmp, &text)?;
        std::fs::rename(&tmp, layout.metadata())
            .map_err(BackendError::io("replacing", layout.metadata()))
    }

    /// The provider's admin connection to a replica's server (peer auth over its socket).
    pub(in crate::backend::local) fn replica_admin(meta: &ReplicaMeta) -> ConnectionInfo {
        ConnectionInfo {
            host: meta.socket_dir.display().to_string(),
            port: meta.port,
            user: ADMIN_ROLE.to_string(),
            password: String::new(),
            dbname: "postgres".into(),
        }
    }

    pub(in crate::backend::local) fn replication_password(
        layout: &Layout,
    ) -> Result<String, BackendError> {
        let p = Self::replication_password_file(layout);
        std::fs::read_to_string(&p)
            .map(|s| s.trim().to_string())
            .map_err(BackendError::io(
                "reading the replication password file",
                &p,
            ))
    }
}

/// A libpq keyword/value connection string for the replication role to the server on `port` over TLS.
pub(in crate::backend::local) fn repl_conninfo(
    port: u16,
    role: &str,
    password: &str,
    dbname: Option<&str>,
    application_name: &str,
) -> String {
    let q = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut s = format!(
        "host=127.0.0.1 port={port} user={} password={} sslmode=require application_name={}",
        q(role),
        q(password),
        q(application_name)
    );
    if let Some(d) = dbname {
        s.push_str(&format!(" dbname={}", q(d)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_quotes_values_and_requires_tls() {
        let s = repl_conninfo(5433, "dbp_repl_x", "p'w", None, "ro-1");
        assert!(s.contains("sslmode=require"), "{s}");
        assert!(s.contains("password='p\\'w'"), "{s}");
        assert!(!s.contains("dbname"), "{s}");
        assert_eq!(name_hash("a"), name_hash("a"));
        assert_ne!(name_hash("a"), name_hash("b"));
    }
}
