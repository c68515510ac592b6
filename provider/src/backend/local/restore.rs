//! Restores to a scratch copy: a base backup plus archived WAL replayed to the latest point or a point in time,
//! integrity checks on the copy (pg_amcheck), and removing the copy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;

use super::backend::LocalBackend;
use super::layout::Layout;
use super::pg::{self};
use super::server::socket_dir_for;
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
        let user = super::identity::owner_of(&layout.pgdata())?;
        let u = user.as_ref();
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
        let Some(base) = backups
            .iter()
            .rev()
            .find(|b| b.finished_at <= until)
            .cloned()
        else {
            return Err(BackendError::Restore(match backups.first() {
                None => format!("database {name:?} has no base backup yet (backup_retention_days = {}); nothing to restore", meta.spec.backup_retention_days),
                Some(b) => format!(
                    "point_in_time {} is before the oldest kept backup of {name:?} (finished {}); choose a later time",
                    rfc3339(until),
                    rfc3339(b.finished_at)
                ),
            }));
        };

        let id = format!("{name}-{}", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
        let scratch = Layout {
            root: self.restores_dir().join(&id),
        };
        std::fs::create_dir_all(&scratch.root)
            .map_err(BackendError::io("creating directory", &scratch.root))?;
        pg::chmod(&scratch.root, 0o755)?;
        let socket_dir = socket_dir_for(&scratch.run(), &scratch.root);
        let result = async {
            pg::server_dir(&scratch.pgdata(), u, 0o700)?;
            pg::server_dir(&scratch.run(), u, 0o755)?;
            pg::server_dir(&scratch.root.join("log"), u, 0o755)?;
            if socket_dir != scratch.run() {
                pg::server_dir(&socket_dir, u, 0o755)?;
            }
            let base_dir = PathBuf::from(&base.location);
            pg::run(
                pg::command(Path::new("tar"), u).arg("-xzf").arg(base_dir.join("base.tar.gz")).arg("-C").arg(scratch.pgdata()),
                &format!("unpacking base backup {} (base.tar.gz)", base.id),
            )
            .await?;
            if base_dir.join("pg_wal.tar.gz").exists() {
                pg::run(
                    pg::command(Path::new("tar"), u)
                        .arg("-xzf")
                        .arg(base_dir.join("pg_wal.tar.gz"))
                        .arg("-C")
                        .arg(scratch.pgdata().join("pg_wal")),
                    &format!("unpacking base backup {} (pg_wal.tar.gz)", base.id),
                )
                .await?;
            }
            let _ = std::fs::remove_file(scratch.pgdata().join("postmaster.pid"));
            let auto = scratch.pgdata().join("postgresql.auto.conf");
            let mut text = std::fs::read_to_string(&auto).unwrap_or_default();
            text.push_str(&format!(
                "\n# dbplatform scratch restore\nlisten_addresses = ''\nunix_socket_directories = {}\narchive_mode = off\nhot_standby = off\nrestore_command = {}\nrecovery_target_action = 'promote'\n",
                pg::conf_quote(&socket_dir.display().to_string()),
                pg::conf_quote(&format!("cp \"{}/%f\" \"%p\"", layout.archive().display())),
            ));
            if let Some(t) = &target_setting {
                text.push_str(t);
                text.push('\n');
            }
            std::fs::write(&auto, text).map_err(BackendError::io("writing", &auto))?;
            pg::chown(&auto, u)?;
            let signal = scratch.pgdata().join("recovery.signal");
            std::fs::write(&signal, "").map_err(BackendError::io("writing", &signal))?;
            pg::chown(&signal, u)?;
            if let Err(e) = self.pg_ctl_start(&bins, &scratch.pgdata(), &scratch.log(), "starting the restored copy").await {
                return Err(BackendError::Restore(format!(
                    "restoring {name:?} from base backup {} plus archived WAL failed: {e}",
                    base.id
                )));
            }
            let conn = ConnectionInfo {
                host: socket_dir.display().to_string(),
                port: meta.port,
                user: meta.spec.master_username.clone(),
                password: self.password(&layout)?,
                dbname: meta.spec.db_name.clone(),
            };
            // pg_ctl returns once the server runs; recovery may still be replaying WAL (or fail and exit).
            let deadline = std::time::Instant::now() + Duration::from_secs(900);
            loop {
                if self.is_running(&bins, &scratch.pgdata()).await? != DatabaseStatus::Available {
                    return Err(BackendError::Restore(format!(
                        "restoring {name:?} from base backup {} plus archived WAL failed: the recovering server stopped; its log ({}):\n{}",
                        base.id,
                        scratch.log().display(),
                        pg::log_tail(&scratch.log(), 12)
                    )));
                }
                if let Ok(client) = conn.connect().await {
                    if let Ok(row) = client.query_one("SELECT pg_is_in_recovery()", &[]).await {
                        if !row.get::<_, bool>(0) {
                            break;
                        }
                    }
                }
                if std::time::Instant::now() > deadline {
                    return Err(BackendError::Restore(format!(
                        "the restored copy of {name:?} was still recovering after 900 s; see {}",
                        scratch.log().display()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(conn)
        }
        .await;
        match result {
            Ok(connection) => Ok(RestoredInstance {
                id,
                connection,
                recovery_point,
                base_backup: base,
                location: scratch.root.display().to_string(),
            }),
            Err(e) => {
                let _ = self
                    .pg_ctl_stop(&bins, &scratch.pgdata(), "immediate")
                    .await;
                let _ = std::fs::remove_dir_all(&scratch.root);
                if socket_dir != scratch.run() {
                    let _ = std::fs::remove_dir_all(&socket_dir);
                }
                Err(e)
            }
        }
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
        let scratch = Layout {
            root: PathBuf::from(&restored.location),
        };
        if !scratch.root.starts_with(self.restores_dir()) {
            return Err(BackendError::Invalid {
                field: "location".into(),
                message: format!(
                    "{} is not a scratch restore of this backend",
                    scratch.root.display()
                ),
            });
        }
        let bins = self.bins(None)?;
        if self.is_running(&bins, &scratch.pgdata()).await? == DatabaseStatus::Available {
            self.pg_ctl_stop(&bins, &scratch.pgdata(), "immediate")
                .await?;
        }
        std::fs::remove_dir_all(&scratch.root)
            .map_err(BackendError::io("removing", &scratch.root))?;
        let sock = PathBuf::from(&restored.connection.host);
        if !sock.starts_with(&scratch.root) {
            let _ = std::fs::remove_dir_all(sock);
        }
        Ok(())
    }
}
