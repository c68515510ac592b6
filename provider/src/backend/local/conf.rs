//! What the backend writes into a cluster's configuration: memory and connection sizing per instance class,
//! `dbplatform.conf` (archiving, TLS, the user's parameters), `pg_hba.conf`, and which settings need a restart.

use std::path::Path;

use super::pg;
use crate::backend::DatabaseSpec;

/// PostgreSQL settings of context `postmaster`: changing them needs a server restart.
pub(super) const RESTART_PARAMETERS: &[&str] = &[
    "max_connections",
    "shared_buffers",
    "max_worker_processes",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "max_pred_locks_per_transaction",
    "max_wal_senders",
    "max_replication_slots",
    "wal_buffers",
    "huge_pages",
    "huge_page_size",
    "shared_preload_libraries",
    "max_files_per_process",
    "track_commit_timestamp",
    "superuser_reserved_connections",
    "wal_log_hints",
    "autovacuum_max_workers",
    "max_logical_replication_workers",
    "cluster_name",
    "dynamic_shared_memory_type",
    "old_snapshot_threshold",
    "min_dynamic_shared_memory",
    "shared_memory_type",
];

/// Memory and connection sizing an instance class stands for on this machine: (shared_buffers MB, max_connections).
pub fn sizing(instance_class: &str) -> (u32, u32) {
    let size = instance_class.rsplit('.').next().unwrap_or("");
    match size {
        "local" | "micro" => (32, 50),
        "small" => (64, 100),
        "medium" => (128, 150),
        "large" => (256, 200),
        "xlarge" => (512, 300),
        _ if size.ends_with("xlarge") => (1024, 400),
        _ => (128, 100),
    }
}

/// `dbplatform.conf`: the settings the backend owns, then the user's parameters.
pub(super) fn server_conf(
    spec: &DatabaseSpec,
    port: u16,
    socket_dir: &Path,
    archive: &Path,
) -> String {
    let (shared_buffers, max_connections) = sizing(&spec.instance_class);
    let tls = match spec.min_tls_version.as_str() {
        "1.3" => "TLSv1.3",
        _ => "TLSv1.2",
    };
    let archive_on = spec.backup_retention_days > 0;
    let mut s = format!(
        "# Managed by dbplatform (Terraform); edits are overwritten on the next apply.\n\
         listen_addresses = '127.0.0.1'\n\
         port = {port}\n\
         unix_socket_directories = {sock}\n\
         password_encryption = 'scram-sha-256'\n\
         ssl = on\n\
         ssl_cert_file = 'server.crt'\n\
         ssl_key_file = 'server.key'\n\
         ssl_min_protocol_version = '{tls}'\n\
         wal_level = replica\n\
         max_wal_senders = 5\n\
         archive_mode = {archive_mode}\n\
         archive_command = {archive_command}\n\
         archive_timeout = 60\n\
         shared_buffers = {shared_buffers}MB\n\
         max_connections = {max_connections}\n",
        sock = pg::conf_quote(&socket_dir.display().to_string()),
        archive_mode = if archive_on { "on" } else { "off" },
        archive_command = pg::conf_quote(&format!(
            "test ! -f \"{dir}/%f\" && cp \"%p\" \"{dir}/%f.tmp\" && mv \"{dir}/%f.tmp\" \"{dir}/%f\"",
            dir = archive.display()
        )),
    );
    if !spec.parameters.is_empty() {
        s.push_str("# parameters from the dbplatform_database resource\n");
        for (k, v) in &spec.parameters {
            s.push_str(&format!("{k} = {}\n", pg::conf_quote(v)));
        }
    }
    s
}

/// Client authentication: the provider's admin role only over the Unix socket by OS user (peer), never over TCP;
/// scram-sha-256 for everyone else, TCP only over TLS when the tier requires it.
pub(super) fn hba_conf(tls_required: bool, admin: bool) -> String {
    let host = if tls_required { "hostssl" } else { "host" };
    let mut s = String::from("# Managed by dbplatform.\n");
    if admin {
        let (role, map) = (super::identity::ADMIN_ROLE, super::identity::IDENT_MAP);
        s.push_str(&format!(
            "local   all          {role}   peer map={map}\n\
             local   replication  {role}   peer map={map}\n\
             host    all          {role}   0.0.0.0/0   reject\n\
             host    replication  {role}   0.0.0.0/0   reject\n"
        ));
    }
    s.push_str(&format!(
        "local   all          all                   scram-sha-256\n\
         local   replication  all                   scram-sha-256\n\
         {host:<7} all          all   127.0.0.1/32    scram-sha-256\n\
         {host:<7} replication  all   127.0.0.1/32    scram-sha-256\n"
    ));
    if tls_required {
        s.push_str("hostnossl all        all   0.0.0.0/0       reject\n");
    }
    s
}

/// A libpq URI without the password.
pub fn connection_string(spec: &DatabaseSpec, port: u16) -> String {
    let mode = if spec.tls_required {
        "require"
    } else {
        "prefer"
    };
    format!(
        "postgresql://{}@127.0.0.1:{port}/{}?sslmode={mode}",
        spec.master_username, spec.db_name
    )
}
