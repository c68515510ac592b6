//! A new cluster: `initdb` with the settings every dbplatform database has (data checksums, UTF8, C locale,
//! peer authentication for local connections, none over TCP until the caller's `pg_hba.conf` allows it).

use std::path::Path;

use crate::pg::{self, OsUser, PgBinaries};
use crate::LocalPgError;

/// Runs `initdb` into the empty directory `pgdata`, as `user` (the server's own OS user when the caller is
/// root), with `superuser` as the bootstrap role, reachable only by peer authentication on the Unix socket.
pub async fn initdb(
    bins: &PgBinaries,
    pgdata: &Path,
    user: Option<&OsUser>,
    superuser: &str,
) -> Result<(), LocalPgError> {
    pg::run(
        pg::command(&bins.tool("initdb"), user)
            .arg("-D")
            .arg(pgdata)
            .arg("-U")
            .arg(superuser)
            .args(initdb_options()),
        "initdb",
    )
    .await?;
    Ok(())
}

/// The options besides the directory and the bootstrap role.
fn initdb_options() -> [&'static str; 6] {
    [
        "--auth-local=peer",
        "--auth-host=reject",
        "--data-checksums",
        "-E",
        "UTF8",
        "--locale=C",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_have_checksums_and_no_password_or_tcp_login_by_default() {
        let o = initdb_options();
        assert!(o.contains(&"--data-checksums"));
        assert!(o.contains(&"--auth-local=peer"));
        assert!(o.contains(&"--auth-host=reject"));
    }
}
