//! Restore tests' side of scratch copies: the recovery target (a restore point made on the running source, or a
//! point in time), the base backup that reaches it, integrity checks on the copy (pg_amcheck); restoring,
//! starting and removing the copy itself is `localpg::restore`.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use localpg::restore::{self, RestoreRequest, ScratchCluster};

use super::backend::LocalBackend;
use super::pg::{self};
use super::support::*;
use crate::backend::{
    BackendError, ConnectionInfo, DatabaseStatus, IntegrityReport, RestoreTarget, RestoredInstance,
};

impl LocalBackend {
    pub(super) async fn restore_copy(
        &self,
        name: &str,
        target: RestoreTarget,
    ) -> Result<RestoredInstance, BackendError> {
        let (layout, meta) = self.load_existing(name)?;
        let bins = self.bins_for(&meta)?;
        let now = Utc::now();
        if let RestoreTarget::PointInTime(t) = target {
            if t > now {
                return Err(BackendError::Invalid {
                    field: "point_in_time".into(),
                    message: format!(
                        "{} is in the future; give a past time or leave it unset for the latest",
                        rfc3339(t)
                    ),
                });
            }
        }
        let running = self.is_running(&bins, &layout.pgdata()).await? == DatabaseStatus::Available;
        // Make the source's latest changes restorable: a marker the recovery must reach, then a WAL switch.
        let mut target_setting = None;
        let mut recovery_point = match target {
            RestoreTarget::PointInTime(t) => t,
            RestoreTarget::Latest => now,
        };
        if running {
            let client = self
                .admin_conn(&layout, &meta, "postgres")?
                .connect()
                .await?;
            match target {
                RestoreTarget::Latest => {
                    let rp = format!("dbplatform-restore-{}", now.format("%Y%m%dT%H%M%S%.6fZ"));
                    client
                        .query_one("SELECT pg_create_restore_point($1)::text", &[&rp])
                        .await
                        .map_err(|e| sql_err(name, e))?;
                    recovery_point = Utc::now();
                    target_setting =
                        Some(format!("recovery_target_name = {}", pg::conf_quote(&rp)));
                }
                RestoreTarget::PointInTime(t) => {
                    // A commit after the target lets recovery see that it has passed it.
                    client
                        .batch_execute("SELECT txid_current()")
                        .await
                        .map_err(|e| sql_err(name, e))?;
                    target_setting = Some(format!(
                        "recovery_target_time = {}",
                        pg::conf_quote(&t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string())
                    ));
                }
            }
            self.archive_now(&client, name).await?;
        } else if let RestoreTarget::PointInTime(t) = target {
            target_setting = Some(format!(
                "recovery_target_time = {}",
                pg::conf_quote(&t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string())
            ));
        } else {
            recovery_point = newest_mtime(&layout.archive()).unwrap_or(now);
        }
        let backups = self.backups_in(&layout.backups())?;
        let until = match target {
            RestoreTarget::PointInTime(t) => t,
            RestoreTarget::Latest => Utc::now(),
        };
        let Some(base) = localpg::backups::newest_by(&backups, until).cloned() else {
            return Err(BackendError::Restore(match backups.first() {
                None => format!("database {name:?} has no base backup yet (backup_retention_days = {}); nothing to restore", meta.spec.backup_retention_days),
                Some(b) => format!(
                    "point_in_time {} is before the oldest kept backup of {name:?} (finished {}); choose a later time",
                    rfc3339(until),
                    rfc3339(b.finished_at)
                ),
            }));
        };
        let id = restore::scratch_id(name, Utc::now());
        let copy = restore::restore(&RestoreRequest {
            source: &layout,
            bins: &bins,
            base: &base,
            dest: self.restores_dir().join(&id),
            recovery_target: target_setting,
            recovery_limit: Duration::from_secs(900),
        })
        .await?;
        let connection = ConnectionInfo {
            host: copy.socket_dir.display().to_string(),
            port: copy.port,
            user: meta.spec.master_username.clone(),
            password: self.password(&layout)?,
            dbname: meta.spec.db_name.clone(),
        };
        Ok(RestoredInstance {
            id,
            connection,
            recovery_point,
            base_backup: base,
            location: copy.root.display().to_string(),
        })
    }

    pub(super) async fn check_copy(
        &self,
        restored: &RestoredInstance,
    ) -> Result<IntegrityReport, BackendError> {
        let bins = self.bins(None)?;
        if !bins.has("pg_amcheck") {
            return Ok(IntegrityReport {
                tool: format!("pg_amcheck (not installed in {})", bins.bindir.display()),
                ran: false,
                ok: true,
                output: String::new(),
            });
        }
        let pgdata = PathBuf::from(&restored.location).join("pgdata");
        let user = super::identity::owner_of(&pgdata)?;
        // The provider's admin role (peer, as the server's OS user) when the copy has one: amcheck needs a superuser.
        let mut c = restored.connection.clone();
        let ident = std::fs::read_to_string(pgdata.join("pg_ident.conf")).unwrap_or_default();
        if ident.contains(super::identity::ADMIN_ROLE) {
            c.user = super::identity::ADMIN_ROLE.to_string();
            c.password = String::new();
        }
        let c = &c;
        let out = pg::command(&bins.tool("pg_amcheck"), user.as_ref())
            .env("PGPASSWORD", &c.password)
            .arg("-h")
            .arg(&c.host)
            .arg("-p")
            .arg(c.port.to_string())
            .arg("-U")
            .arg(&c.user)
            .args([
                "--install-missing",
                "--all",
                "--no-password",
                "--maintenance-db",
            ])
            .arg(&c.dbname)
            .output()
            .await
            .map_err(BackendError::io(
                "running pg_amcheck on",
                &restored.location,
            ))?;
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .trim()
        .to_string();
        Ok(IntegrityReport {
            tool: "pg_amcheck".into(),
            ran: true,
            ok: out.status.success(),
            output,
        })
    }

    pub(super) async fn discard_copy(
        &self,
        restored: &RestoredInstance,
    ) -> Result<(), BackendError> {
        let copy = ScratchCluster {
            root: PathBuf::from(&restored.location),
            socket_dir: PathBuf::from(&restored.connection.host),
            port: restored.connection.port,
        };
        let bins = self.bins(None)?;
        Ok(restore::discard(&bins, &self.restores_dir(), &copy).await?)
    }
}
