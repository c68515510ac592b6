//! Which backend a configuration selects. The configuration's `aws { ... }` block is converted here into the
//! backend's own [`AwsClientConfig`], so the backends never see provider configuration types; the RDS client is
//! built once per distinct client configuration and owned by the provider state (see [`AwsBackendCache`]).

use std::sync::{Arc, Mutex};

use super::settings::{AwsSettings, BackendKind, ProviderConfig};
use crate::backend::aws::{AwsBackend, AwsClientConfig};
use crate::backend::local::LocalBackend;
use crate::backend::{BackendError, DatabaseBackend};
use crate::framework::Diagnostic;

/// Client settings from the provider's `aws { region, endpoint, profile, max_retries }` block; the region falls
/// back to `env_region` (AWS_REGION / AWS_DEFAULT_REGION, read by [`super::ConfigEnv`]).
pub fn aws_client_config(
    settings: &AwsSettings,
    env_region: Option<&str>,
) -> Result<AwsClientConfig, BackendError> {
    let region = settings
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .or_else(|| env_region.filter(|r| !r.is_empty()).map(str::to_string))
        .ok_or_else(|| BackendError::Invalid {
            field: "aws.region".into(),
            message: "no AWS region: set region in the provider's aws block (e.g. aws { region = \"eu-west-1\" }) or AWS_REGION".into(),
        })?;
    let mut cfg = AwsClientConfig::new(region);
    cfg.endpoint = settings.endpoint.clone().filter(|e| !e.is_empty());
    cfg.profile = settings.profile.clone().filter(|p| !p.is_empty());
    cfg.max_retries = settings.max_retries;
    Ok(cfg)
}

/// The RDS backend of the current configuration, built once per distinct client configuration and then reused,
/// so every resource call shares one RDS client (its connection pool and credentials cache).
#[derive(Default)]
pub struct AwsBackendCache(Mutex<Option<(AwsClientConfig, Arc<AwsBackend>)>>);

impl std::fmt::Debug for AwsBackendCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsBackendCache")
    }
}

impl AwsBackendCache {
    /// The backend for `cfg`: the cached one when `cfg` is unchanged, else a new client (replacing the old).
    pub fn get(&self, cfg: AwsClientConfig) -> Arc<AwsBackend> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((c, b)) = slot.as_ref() {
            if *c == cfg {
                return Arc::clone(b);
            }
        }
        let b = Arc::new(AwsBackend::new(&cfg));
        *slot = Some((cfg, Arc::clone(&b)));
        b
    }
}

/// The backend a provider configuration selects (the aws one from `aws_cache`).
pub fn backend_for(
    cfg: &ProviderConfig,
    aws_cache: &AwsBackendCache,
) -> Result<Arc<dyn DatabaseBackend>, Diagnostic> {
    match cfg.backend {
        BackendKind::Local => {
            if cfg.local.data_dir.as_os_str().is_empty() {
                return Err(Diagnostic::error(
                    "local.data_dir not set",
                    "The local backend needs a directory for its databases: set local { data_dir = \"...\" } in the provider block.",
                ));
            }
            Ok(Arc::new(
                LocalBackend::new(cfg.local.data_dir.clone())
                    .with_pg_env(cfg.env.pg.clone())
                    .with_final_backup_retention(cfg.local.final_backups)
                    .with_base_backup_wal_share(
                        f64::from(cfg.local.base_backup_wal_percent) / 100.0,
                    ),
            ))
        }
        BackendKind::Aws => aws_backend_for(cfg, aws_cache).map(|b| b as Arc<dyn DatabaseBackend>),
    }
}

/// The RDS backend for the configuration's `aws` block, whatever `backend` says (parameter groups live only in
/// RDS).
pub fn aws_backend_for(
    cfg: &ProviderConfig,
    aws_cache: &AwsBackendCache,
) -> Result<Arc<AwsBackend>, Diagnostic> {
    aws_client_config(&cfg.aws, cfg.env.aws_region.as_deref())
        .map(|c| aws_cache.get(c))
        .map_err(|e| Diagnostic::error("aws backend not configured", e.to_string()))
}
