//! Updating a database in place: settings, sizing and parameters (restarting when a setting needs it), the
//! master password, tags, and starting a stopped server.

use std::time::Duration;

use super::backend::LocalBackend;
use super::pg::{self};
use super::support::*;
use super::validate::validate_spec;
use crate::backend::{BackendError, DatabaseBackend, DatabaseSpec, DatabaseStatus, UpdateOutcome};

impl LocalBackend {
    pub(super) async fn update_database(
        &self,
        name: &str,
        desired: &DatabaseSpec,
    ) -> Result<UpdateOutcome, BackendError> {
        validate_spec(desired)?;
        let (layout, mut meta) = self.load_existing(name)?;
        for (field, a, b) in [
            ("engine", &meta.spec.engine, &desired.engine),
            ("db_name", &meta.spec.db_name, &desired.db_name),
            (
                "master_username",
                &meta.spec.master_username,
                &desired.master_username,
            ),
        ] {
            if a != b {
                return Err(BackendError::Invalid {
                    field: field.into(),
                    message: format!(
                        "cannot change {a:?} to {b:?} in place; the database must be replaced"
                    ),
                });
            }
        }
        if let Some(v) = &desired.engine_version {
            if v != major_of(&meta.engine_version_actual) {
                return Err(BackendError::Invalid {
                    field: "engine_version".into(),
                    message: format!(
                        "the local backend cannot upgrade PostgreSQL {} to {v} in place; the database must be replaced",
                        meta.engine_version_actual
                    ),
                });
            }
        }
        let bins = self.bins_for(&meta)?;
        let status = self.is_running(&bins, &layout.pgdata()).await?;
        let needs_restart = !self.restart_required(&meta.spec, desired).is_empty();
        let old = meta.clone();
        meta.spec = desired.clone();
        self.write_config(&layout, &meta)?;
        crate::fault_points::reached("local.update.config");
        let mut restarted = false;
        let mut started = false;
        if status == DatabaseStatus::Available {
            let client = self
                .admin_conn(&layout, &meta, "postgres")?
                .connect()
                .await?;
            // Values PostgreSQL can check per session are tried with SET LOCAL first (pg_file_settings only
            // catches unknown names); settings that cannot change at run time are checked by the restart below.
            for (k, v) in &desired.parameters {
                if old.spec.parameters.get(k) == Some(v) {
                    continue;
                }
                let sql = format!("BEGIN; SET LOCAL {k} = {}; ROLLBACK", pg::conf_quote(v));
                if let Err(e) = client.batch_execute(&sql).await {
                    let _ = client.batch_execute("ROLLBACK").await;
                    let code = e.code().map(|c| c.code().to_string()).unwrap_or_default();
                    if code != "55P02" && code != "42501" {
                        self.write_config(&layout, &old)?;
                        let why = e
                            .as_db_error()
                            .map(|d| d.message().to_string())
                            .unwrap_or_else(|| e.to_string());
                        return Err(BackendError::Invalid {
                            field: format!("parameters.{k}"),
                            message: format!(
                                "PostgreSQL rejects {k} = {v:?} ({why}); fix or remove it"
                            ),
                        });
                    }
                }
            }
            let errors = client
                .query("SELECT coalesce(name, ''), error FROM pg_file_settings WHERE error IS NOT NULL AND error <> 'setting could not be applied'", &[])
                .await
                .map_err(|e| sql_err(name, e))?;
            if let Some(row) = errors.first() {
                let pname: String = row.get(0);
                let err: String = row.get(1);
                self.write_config(&layout, &old)?;
                return Err(BackendError::Invalid {
                    field: format!("parameters.{pname}"),
                    message: format!("PostgreSQL rejects this setting ({err}); fix or remove it"),
                });
            }
            client
                .batch_execute("SELECT pg_reload_conf()")
                .await
                .map_err(|e| sql_err(name, e))?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let pending: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_settings WHERE pending_restart",
                    &[],
                )
                .await
                .map_err(|e| sql_err(name, e))?
                .get(0);
            drop(client);
            crate::fault_points::reached("local.update.reloaded");
            if needs_restart || pending > 0 {
                self.pg_ctl_stop(&bins, &layout.pgdata(), "fast").await?;
                crate::fault_points::reached("local.update.stopped");
                if let Err(e) = self
                    .pg_ctl_start(
                        &bins,
                        &layout.pgdata(),
                        &layout.log(),
                        "restarting PostgreSQL to apply settings",
                    )
                    .await
                {
                    // Put the last working configuration back so the database comes up again.
                    self.write_config(&layout, &old)?;
                    self.pg_ctl_start(
                        &bins,
                        &layout.pgdata(),
                        &layout.log(),
                        "starting PostgreSQL with the previous settings",
                    )
                    .await?;
                    return Err(e);
                }
                restarted = true;
            }
        } else {
            if let Err(e) = self
                .pg_ctl_start(
                    &bins,
                    &layout.pgdata(),
                    &layout.log(),
                    &format!("starting stopped database {name:?}"),
                )
                .await
            {
                self.write_config(&layout, &old)?;
                return Err(e);
            }
            started = true;
        }
        self.save(&layout, &meta)?;
        crate::fault_points::reached("local.update.saved");
        if meta.spec.backup_retention_days > 0 {
            self.ensure_recent_backup(&layout, &meta).await?;
            self.prune(&layout, &meta).await?;
        }
        Ok(UpdateOutcome {
            info: self.info(&layout, &meta).await?,
            restarted,
            started,
        })
    }
}
