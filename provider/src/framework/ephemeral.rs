//! The contract of an ephemeral resource (protocol 6.7, Terraform 1.10+): something opened for one Terraform
//! run, such as a short-lived credential, whose values never reach plan or state. Terraform opens it when a
//! value is needed, may renew it before `renew_at`, and closes it at the end of the run.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::diagnostics::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// Result of opening an ephemeral resource.
#[derive(Debug, Clone, Default)]
pub struct OpenResponse {
    /// The values (the whole schema's object).
    pub result: Value,
    /// When Terraform should call renew, if the resource must be kept alive.
    pub renew_at: Option<DateTime<Utc>>,
    /// Opaque data renew and close get back (e.g. which login to drop). Never shown to the user.
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// Result of renewing an ephemeral resource.
#[derive(Debug, Clone, Default)]
pub struct RenewResponse {
    pub renew_at: Option<DateTime<Utc>>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// An ephemeral resource type.
#[async_trait]
pub trait EphemeralResource: Send + Sync {
    /// Full type name, e.g. "dbplatform_credentials".
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Static checks of configuration (values may be unknown).
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Opens it: `config` is wholly known.
    async fn open(&self, config: Value) -> OpenResponse;
    /// Keeps it alive; the default has nothing to renew.
    async fn renew(&self, private: Vec<u8>) -> RenewResponse {
        RenewResponse {
            private,
            ..Default::default()
        }
    }
    /// Ends it (drops a login, revokes a token).
    async fn close(&self, _private: Vec<u8>) -> Diagnostics {
        Diagnostics::new()
    }
}
