//! Applying a break-glass change: grant or renew (login, password file, audit record; undone when the record
//! cannot be written), revoke (REVOKE + DROP ROLE, password file removed, audit record), destroy (a revocation when
//! the access is still active).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use policy::audit::{BreakGlassRecord, RecordBody, SourceInfo};

use super::plan::{change_of, Change};
use super::schema::{spec_of, GrantSpec};
use super::{backend_error, text, BreakGlassResource};
use crate::backend::roles::break_glass::{grant, revoke, ts};
use crate::backend::roles::credentials::random_password;
use crate::backend::{BackendError, DatabaseBackend};
use crate::framework::{ApplyRequest, ApplyResponse, Diagnostic, Value};
use crate::resources::role::admin_client;

/// Writes `content` to `path`, readable by its owner only (0600), creating the directory (0700).
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

/// Where the password of `username` goes: `break-glass/USERNAME` in the database's directory (local backend).
async fn password_path(
    backend: &dyn DatabaseBackend,
    db: &str,
    username: &str,
) -> Result<PathBuf, BackendError> {
    let info = backend
        .read(db)
        .await?
        .ok_or_else(|| BackendError::NotFound {
            backend: backend.kind(),
            name: db.to_string(),
        })?;
    let dir = info.data_dir.ok_or_else(|| {
        BackendError::Unsupported(format!(
            "the {} backend has no directory on this machine to hand the break-glass password over in; grant access to an IAM-authenticated role there instead",
            backend.kind()
        ))
    })?;
    Ok(dir.join("break-glass").join(username))
}

/// The record of one event of the access described by `state`.
fn record(event: &str, state: &Value, revoked_at: Option<String>) -> RecordBody {
    RecordBody::BreakGlass(BreakGlassRecord {
        event: event.into(),
        database: text(state, "database_id"),
        person: text(state, "person"),
        username: text(state, "username"),
        role: text(state, "role_name"),
        role_template: state.get("role_template").as_str().map(str::to_string),
        reason: text(state, "reason"),
        ticket: text(state, "ticket"),
        approved_by: text(state, "approved_by"),
        ttl_seconds: state
            .get("ttl_seconds")
            .as_i64()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        granted_at: text(state, "granted_at"),
        expires_at: text(state, "expires_at"),
        revoked_at,
        source: Some(SourceInfo {
            kind: "provider".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    })
}

impl BreakGlassResource {
    /// Carries out what the plan decided: a grant or renewal, a revocation, or a destroy (a revocation first when
    /// the access is still active).
    pub(super) async fn apply_change(
        &self,
        req: ApplyRequest,
        now: DateTime<Utc>,
    ) -> ApplyResponse {
        let mut resp = ApplyResponse {
            new_state: req.prior.clone(),
            ..Default::default()
        };
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        if req.planned.is_null() {
            // Destroy: take the access away if it is still there.
            if req.prior.get("active").as_bool() == Some(true) {
                if let Err(d) = self.revoke(backend.as_ref(), &req.prior, now).await {
                    resp.diagnostics.push(d);
                    return resp;
                }
            }
            resp.new_state = Value::Null;
            return resp;
        }
        let revoking = req.planned.get("active").as_bool() == Some(false)
            && req.prior.get("active").as_bool() == Some(true);
        if revoking {
            // The plan decided; an expiry between plan and apply is the next plan's revocation.
            match self.revoke(backend.as_ref(), &req.prior, now).await {
                Ok(state) => {
                    let mut s = req.planned.clone();
                    s.set("revoked_at", state.get("revoked_at").clone());
                    resp.new_state = s;
                }
                Err(d) => resp.diagnostics.push(d),
            }
            return resp;
        }
        match change_of(&req.prior, &req.planned, now) {
            Change::Grant | Change::Renew => {
                // Access given again after a revocation is a new grant, not a longer window.
                let event = if req.prior.get("active").as_bool() == Some(true) {
                    "renew"
                } else {
                    "grant"
                };
                match self.grant(backend.as_ref(), &req.planned, event, now).await {
                    Ok(state) => resp.new_state = state,
                    Err(d) => resp.diagnostics.push(d),
                }
            }
            Change::Revoke | Change::Keep => resp.new_state = req.planned.clone(),
        }
        resp
    }

    /// Grants or renews: the login until now + ttl with a new password in its file, then the audit record. When
    /// the record cannot be written the access is taken away again: access must never be off the record.
    async fn grant(
        &self,
        backend: &dyn DatabaseBackend,
        planned: &Value,
        event: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, Diagnostic> {
        let spec: GrantSpec = match spec_of(planned)? {
            Some(s) => s,
            None => {
                return Err(Diagnostic::error(
                    "Break-glass arguments unknown at apply",
                    "database_id, person, role and ttl must be known to grant access.",
                ))
            }
        };
        let Some(ttl) = spec.ttl else {
            return Err(Diagnostic::error(
                "Break-glass access without a ttl",
                "Set ttl (e.g. \"4h\").",
            ));
        };
        let username = spec.username();
        let what = format!(
            "grant {:?} to {:?} on database {:?}",
            spec.role, spec.person, spec.database
        );
        let ttl = chrono::Duration::from_std(ttl).map_err(|e| {
            Diagnostic::error(format!("Cannot {what}"), format!("ttl out of range: {e}"))
        })?;
        let expires_at = now + ttl;
        let path = password_path(backend, &spec.database, &username)
            .await
            .map_err(|e| backend_error(&what, &e))?;
        let (client, dbname) = admin_client(backend, &spec.database)
            .await
            .map_err(|e| backend_error(&what, &e))?;
        let password = random_password();
        grant(
            &client,
            &dbname,
            &username,
            &spec.role,
            &spec.person,
            &password,
            expires_at,
        )
        .await
        .map_err(|e| backend_error(&what, &e))?;
        let mut state = planned.clone();
        state.set("password_file", Value::string(path.display().to_string()));
        state.set("granted_at", Value::string(ts(now)));
        state.set("expires_at", Value::string(ts(expires_at)));
        state.set("expired", Value::Bool(false));
        state.set("active", Value::Bool(true));
        state.set("revoked_at", Value::Null);
        let undo = |why: Diagnostic| async {
            let _ = revoke(&client, &dbname, &username, &spec.role).await;
            let _ = std::fs::remove_file(&path);
            why
        };
        if let Err(e) = write_private(&path, &format!("{password}\n")) {
            return Err(undo(Diagnostic::error(
                format!("Cannot {what}"),
                format!(
                    "writing the password file {}: {e}; the login was dropped again.",
                    path.display()
                ),
            ))
            .await);
        }
        if let Err(d) = self.env.record_access(record(event, &state, None)).await {
            return Err(undo(Diagnostic::error(
                d.summary.clone(),
                format!(
                    "{} The access was taken away again, since it could not be put on record.",
                    d.detail
                ),
            ))
            .await);
        }
        Ok(state)
    }

    /// Revokes: ends the sessions, takes the role away, drops the login, removes the password file, then the
    /// audit record. Returns the state with `revoked_at`.
    async fn revoke(
        &self,
        backend: &dyn DatabaseBackend,
        prior: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Diagnostic> {
        let db = text(prior, "database_id");
        let username = text(prior, "username");
        let role = text(prior, "role_name");
        let what = format!("revoke break-glass login {username:?} on database {db:?}");
        match admin_client(backend, &db).await {
            // The database is gone, and the login with it.
            Err(BackendError::NotFound { .. }) => {}
            Err(e) => return Err(backend_error(&what, &e)),
            Ok((client, dbname)) => revoke(&client, &dbname, &username, &role)
                .await
                .map_err(|e| backend_error(&what, &e))?,
        }
        if let Some(p) = prior.get("password_file").as_str() {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Diagnostic::error(
                        format!("Cannot {what}"),
                        format!("the login is dropped, but removing its password file {p}: {e}"),
                    ))
                }
            }
        }
        let mut state = prior.clone();
        state.set("active", Value::Bool(false));
        state.set("expired", Value::Bool(true));
        state.set("password_file", Value::Null);
        state.set("revoked_at", Value::string(ts(now)));
        self.env
            .record_access(record("revoke", &state, Some(ts(now))))
            .await?;
        Ok(state)
    }
}
