//! Short-lived logins on RDS: an IAM database authentication token (a SigV4-signed `connect` URL, valid 15
//! minutes) for a role, on databases with IAM authentication on. Nothing is created in the database, so there is
//! nothing to renew or drop: connections opened with the token outlive it, new ones need a new token.

use chrono::{DateTime, Utc};

use super::client::AwsBackend;
use crate::backend::roles::credentials::Login;
use crate::backend::{BackendError, DatabaseBackend};

/// How long RDS accepts a token (its fixed maximum).
pub const TOKEN_LIFETIME_SECS: u64 = 900;

impl AwsBackend {
    /// An IAM authentication token for `role` on database `name`; `ttl` longer than 15 minutes is capped.
    pub(super) async fn iam_login(
        &self,
        name: &str,
        role: &str,
        ttl: std::time::Duration,
    ) -> Result<Login, BackendError> {
        let info = self
            .read(name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: name.to_string(),
            })?;
        let iam = info
            .spec
            .instance
            .as_ref()
            .is_some_and(|i| i.iam_database_authentication);
        if !iam {
            return Err(BackendError::Invalid {
                field: "role_id".into(),
                message: format!(
                    "database {name:?} does not have IAM database authentication on (tier {}); short-lived credentials on aws are IAM tokens: set iam_database_authentication = true or use a tier that has it",
                    info.spec.tier
                ),
            });
        }
        let secs = ttl.as_secs().clamp(1, TOKEN_LIFETIME_SECS);
        let token = self
            .auth_token(&info.endpoint, info.port, role, secs)
            .await?;
        Ok(Login {
            username: role.to_string(),
            password: token,
            expires_at: token_expiry(Utc::now(), secs),
        })
    }

    /// Signs an RDS `connect` token with the client's own credentials and region.
    pub(super) async fn auth_token(
        &self,
        host: &str,
        port: u16,
        user: &str,
        expires_in: u64,
    ) -> Result<String, BackendError> {
        use aws_sdk_rds::auth_token::{AuthTokenGenerator, Config};
        let conf = self.client.config();
        let mut sdk = aws_config::SdkConfig::builder();
        if let Some(t) = conf.time_source() {
            sdk = sdk.time_source(t);
        }
        let credentials = self.credentials.clone().unwrap_or_else(|| {
            aws_sdk_rds::config::SharedCredentialsProvider::new(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            )
        });
        sdk = sdk.credentials_provider(credentials);
        sdk = sdk.region(conf.region().cloned());
        let gen_conf = Config::builder()
            .hostname(host)
            .port(u64::from(port))
            .username(user)
            .expires_in(expires_in)
            .build()
            .map_err(|e| BackendError::Invalid {
                field: "role_id".into(),
                message: format!("cannot build an IAM token request: {e}"),
            })?;
        AuthTokenGenerator::new(gen_conf)
            .auth_token(&sdk.build())
            .await
            .map(|t| t.to_string())
            .map_err(|e| BackendError::Command {
                what: format!("signing an IAM authentication token for {user:?}"),
                status: "failed".into(),
                output: e.to_string(),
            })
    }
}

/// The expiry shown for a token issued now.
pub fn token_expiry(now: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    now + chrono::Duration::seconds(secs.min(TOKEN_LIFETIME_SECS) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_signed_connect_urls_for_the_role() {
        let mut b = AwsBackend::new(&crate::backend::aws::AwsClientConfig::new("eu-west-1"));
        b.credentials = Some(aws_sdk_rds::config::SharedCredentialsProvider::new(
            aws_sdk_rds::config::Credentials::new("testing", "testing", None, None, "test"),
        ));
        let t = b
            .auth_token(
                "db.example.eu-west-1.rds.amazonaws.com",
                5432,
                "orders_ro",
                900,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            t.starts_with(
                "db.example.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=orders_ro&"
            ),
            "{t}"
        );
        assert!(
            t.contains("X-Amz-Expires=900") && t.contains("X-Amz-Signature="),
            "{t}"
        );
        assert!(t.contains("%2Feu-west-1%2Frds-db%2Faws4_request"), "{t}");
    }

    #[test]
    fn expiry_is_capped_at_fifteen_minutes() {
        let now = Utc::now();
        assert_eq!(
            token_expiry(now, 3600),
            now + chrono::Duration::seconds(900)
        );
    }
}
