//! Database backends (AWS RDS, local PostgreSQL) behind one trait.
//!
//! Resources (`dbplatform_database`, `dbplatform_restore_test`, the data source) speak only
//! [`DatabaseBackend`]; everything specific to where a database runs (initdb and pg_ctl on this machine, or
//! the RDS API) lives in one implementation per backend. The trait is shaped after what both can do:
//! an instance with a name, settings that may need a restart, backups, and a restore to a *scratch* copy
//! (a base backup plus WAL locally, a snapshot or point-in-time restore to a temporary instance on RDS).
//! What only some backends do is asked in neutral terms ([`DatabaseBackend::capabilities`],
//! [`InstanceSettings`] in the spec, [`InstanceDetails`] in what comes back), never by naming an implementation.

pub mod aws;
pub mod engine_params;
pub mod error;
pub mod instance;
pub mod local;
pub mod replica;
pub mod roles;
pub mod types;
pub mod version;

use async_trait::async_trait;

pub use self::error::BackendError;
pub use self::instance::{
    BackupReplication, Capabilities, InstanceDetails, InstanceSettings, OpTimeouts,
};
pub use self::types::{
    BackupInfo, ConnectionInfo, CreateError, DatabaseInfo, DatabaseSpec, DatabaseStatus,
    DeleteOptions, DeleteOutcome, IntegrityReport, RestoreTarget, RestoredInstance, UpdateOutcome,
};

/// A place where databases run. One implementation per backend; resources hold `Arc<dyn DatabaseBackend>`.
#[async_trait]
pub trait DatabaseBackend: Send + Sync {
    /// "local" or "aws", as in the policy input's `backend`.
    fn kind(&self) -> &'static str;

    /// What this backend supports beyond the common trait (managed-instance settings and timeouts).
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// The engine major version a database gets when its configuration names none, when the backend knows it at
    /// plan time (the newest installed PostgreSQL on this machine); `None` leaves it to apply.
    fn default_engine_major(&self) -> Option<String> {
        None
    }

    /// The engine logs this backend always exports for `engine` (RDS CloudWatch exports); empty when none.
    fn log_exports(&self, _engine: &str) -> Vec<String> {
        Vec::new()
    }

    /// The cloud region databases are created in, when the backend has one (aws); `None` elsewhere.
    fn region(&self) -> Option<String> {
        None
    }

    /// Checks a spec against what this backend can run (engine, versions, multi-AZ ...), without side effects.
    fn validate_spec(&self, spec: &DatabaseSpec) -> Result<(), BackendError>;

    /// Every problem of a spec on this backend, for a plan that reports them all in one round (engine versions
    /// this backend does not offer included). The default is [`DatabaseBackend::validate_spec`]'s one problem.
    fn plan_problems(&self, spec: &DatabaseSpec) -> Vec<BackendError> {
        self.validate_spec(spec).err().into_iter().collect()
    }

    /// Which of the differences between `current` and `desired` need a server restart (plan-time warning).
    fn restart_required(&self, current: &DatabaseSpec, desired: &DatabaseSpec) -> Vec<String>;

    /// Creates and starts a database; fails if one with that name exists.
    async fn create(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, BackendError>;

    /// Creates a database for a resource apply. When the create fails after the backend started working, the
    /// error says what may exist so the resource records it (Terraform marks it tainted) instead of orphaning it.
    async fn create_tracked(&self, spec: &DatabaseSpec) -> Result<DatabaseInfo, CreateError> {
        match self.create(spec).await {
            Ok(info) => Ok(info),
            Err(error) => {
                // A create that failed while the backend was working (e.g. the wait for "available" timed out)
                // may have left a database. Not for AlreadyExists/Invalid, where an existing database is not ours.
                let instance = if matches!(error, BackendError::Command { .. }) {
                    self.read(&spec.name).await.ok().flatten().map(Box::new)
                } else {
                    None
                };
                Err(CreateError {
                    id: None,
                    instance,
                    error,
                })
            }
        }
    }

    /// The database as it is now, `None` when it no longer exists.
    async fn read(&self, name: &str) -> Result<Option<DatabaseInfo>, BackendError>;

    /// Applies `desired` in place (restarting when needed) and starts a stopped database.
    async fn update(
        &self,
        name: &str,
        desired: &DatabaseSpec,
    ) -> Result<UpdateOutcome, BackendError>;

    /// Deletes a database, refusing when deletion protection is on, taking a final backup unless skipped.
    async fn delete(&self, name: &str, opts: &DeleteOptions)
        -> Result<DeleteOutcome, BackendError>;

    /// Starts a stopped database.
    async fn start(&self, name: &str) -> Result<DatabaseInfo, BackendError>;

    /// Stops a running database (maintenance, tests, demo teardown).
    async fn stop(&self, name: &str) -> Result<(), BackendError>;

    /// Adopts an existing database by name (terraform import).
    async fn import(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        self.read(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: self.kind(),
                name: name.to_string(),
            })
    }

    /// Takes a full backup now and prunes backups older than the retention period.
    async fn backup(&self, name: &str) -> Result<BackupInfo, BackendError>;

    /// Backups available for restores, oldest first.
    async fn list_backups(&self, name: &str) -> Result<Vec<BackupInfo>, BackendError>;

    /// Master credentials for the running database (used by restore tests to compare with the copy).
    async fn connection(&self, name: &str) -> Result<ConnectionInfo, BackendError>;

    /// Restores the database's backups into a new scratch copy and starts it.
    async fn restore(
        &self,
        name: &str,
        target: RestoreTarget,
    ) -> Result<RestoredInstance, BackendError>;

    /// Runs the engine's integrity checker on a restored copy.
    async fn check_integrity(
        &self,
        restored: &RestoredInstance,
    ) -> Result<IntegrityReport, BackendError>;

    /// Stops and removes a scratch copy.
    async fn discard_restored(&self, restored: &RestoredInstance) -> Result<(), BackendError>;

    /// Read replicas and failover drills on this backend; `None` when it has neither.
    fn replicas(&self) -> Option<&dyn replica::ReplicaBackend> {
        None
    }

    /// How the provider connects with administrative rights to database `name`'s application database, for
    /// roles and grants ([`roles`]). The default says the backend cannot.
    async fn admin_connection(&self, name: &str) -> Result<ConnectionInfo, BackendError> {
        Err(BackendError::Unsupported(format!(
            "the {} backend has no administrative SQL access to database {name:?} for roles and grants",
            self.kind()
        )))
    }

    /// Replaces the master user's password with a new random one and returns the database as it is then
    /// (`dbplatform_database`'s `master_password_rotation_days`). The default says the backend cannot.
    async fn rotate_master_password(&self, name: &str) -> Result<DatabaseInfo, BackendError> {
        Err(BackendError::Unsupported(format!(
            "the {} backend does not rotate the master password of database {name:?} itself; on aws Secrets Manager rotates the managed password (turn rotation on for its secret)",
            self.kind()
        )))
    }

    /// Opens a short-lived login for `role` on database `name`, valid for `ttl` (the `dbplatform_credentials`
    /// ephemeral resource). The default is a `VALID UNTIL` login member of the role, over
    /// [`DatabaseBackend::admin_connection`].
    async fn open_login(
        &self,
        name: &str,
        role: &str,
        ttl: std::time::Duration,
    ) -> Result<roles::credentials::Login, BackendError> {
        let conn = self.admin_connection(name).await?;
        let client = conn.connect().await?;
        roles::credentials::open_login(&client, &conn.dbname, role, ttl).await
    }

    /// Moves a login's expiry to now + `ttl`; returns the new expiry.
    async fn renew_login(
        &self,
        name: &str,
        username: &str,
        ttl: std::time::Duration,
    ) -> Result<chrono::DateTime<chrono::Utc>, BackendError> {
        let conn = self.admin_connection(name).await?;
        let client = conn.connect().await?;
        roles::credentials::renew_login(&client, &conn.dbname, username, ttl).await
    }

    /// Ends a login (its sessions too); a login already gone is fine.
    async fn close_login(
        &self,
        name: &str,
        username: &str,
        role: &str,
    ) -> Result<(), BackendError> {
        let conn = self.admin_connection(name).await?;
        let client = conn.connect().await?;
        roles::credentials::drop_login(&client, &conn.dbname, username, role).await
    }
}
