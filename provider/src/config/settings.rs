//! The validated provider configuration: which backend, its settings, the guardrail settings and the tier
//! catalogue. Plain data, so resources, the state and tests share one vocabulary without the parser.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use policy::model::TierCatalogue;

use super::environment::ConfigEnv;
use crate::framework::Diagnostic;

/// Which system databases are created in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Amazon RDS through the AWS API (or an emulator at `aws.endpoint`).
    Aws,
    /// Real PostgreSQL clusters on this machine, under `local.data_dir`.
    Local,
}

impl BackendKind {
    /// Every backend name users may write, for "valid values are ..." messages.
    pub const NAMES: [&'static str; 2] = ["aws", "local"];

    /// The name used in configuration, state, policy input (`backend`) and the tier catalogue.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Aws => "aws",
            BackendKind::Local => "local",
        }
    }

    /// Parses a configured backend name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "aws" => Some(BackendKind::Aws),
            "local" => Some(BackendKind::Local),
            _ => None,
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `aws { ... }` settings. Unset values fall back to the AWS SDK's own chain (environment, profile files).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    /// Endpoint URL override, e.g. a local moto_server in tests.
    pub endpoint: Option<String>,
    pub profile: Option<String>,
    /// Retries of throttled or failed AWS calls (0..=20).
    pub max_retries: u32,
}

/// The AWS SDK's standard retry count, used when `aws.max_retries` is unset.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Upper bound of `aws.max_retries`: more only delays a failing plan.
pub const MAX_RETRIES_LIMIT: i64 = 20;

/// `local { ... }` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSettings {
    /// Absolute directory holding the local backend's clusters, backups and WAL archives. Empty only when the
    /// backend is `aws` and no default could be derived (no `XDG_DATA_HOME` or `HOME`).
    pub data_dir: PathBuf,
    /// `final_backup_retention_count` / `final_backup_retention_days`: final backups kept per database.
    pub final_backups: crate::backend::local::FinalBackupRetention,
    /// `base_backup_wal_percent`: a new base backup once archived WAL exceeds this share of the data (0 = by age).
    pub base_backup_wal_percent: u32,
}

/// `policy { ... }` settings (paths are absolute).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicySettings {
    /// Extra directories of `.rego` rules evaluated alongside the embedded bundle.
    pub directories: Vec<PathBuf>,
    pub exceptions_file: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
    /// The catalogue file in use, when not the embedded one (its contents are in [`ProviderConfig::tiers`]).
    pub tiers_file: Option<PathBuf>,
    /// `Some("advisory")`: report every policy failure as a warning (break-glass). `None`: normal enforcement.
    pub enforcement_override: Option<String>,
    /// Soft-mandatory overrides from `policy { override { ... } }` blocks, then from `DBPLATFORM_OVERRIDES`.
    /// They take effect only in decisions written to the audit log.
    pub overrides: Vec<ConfiguredOverride>,
}

/// One soft-mandatory override and where it was configured, so errors about it can point there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredOverride {
    /// `policy.override[0]` or `DBPLATFORM_OVERRIDES entry 1`.
    pub origin: String,
    pub rule: policy::model::decision::Override,
}

impl PolicySettings {
    /// Whether break-glass advisory mode is on.
    pub fn is_advisory(&self) -> bool {
        self.enforcement_override.as_deref() == Some(ENFORCEMENT_ADVISORY)
    }
}

/// The only accepted `policy.enforcement_override` value.
pub const ENFORCEMENT_ADVISORY: &str = "advisory";

/// The validated provider configuration every resource reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub backend: BackendKind,
    pub aws: AwsSettings,
    pub local: LocalSettings,
    pub policy: PolicySettings,
    /// Tags merged under every database's own tags (a resource's tags win).
    pub default_tags: BTreeMap<String, String>,
    /// The tier catalogue: `policy.tiers_file` when set, else the embedded one.
    pub tiers: TierCatalogue,
    /// Version of the Terraform CLI talking to us (for audit records and policy input context).
    pub terraform_version: String,
    /// Settings whose configured value was unknown at configure time (dotted paths such as `aws.region` or a
    /// whole block such as `aws`). Their fields hold defaults; see [`ProviderConfig::require_known`].
    pub unknown_settings: BTreeSet<String>,
    /// The process environment the configuration was read in (region and audit log fallbacks, workspace), so
    /// nothing downstream reads environment variables itself.
    pub env: ConfigEnv,
}

impl ProviderConfig {
    /// A configuration for tests and tools: local backend in `data_dir`, embedded tiers, nothing unknown.
    pub fn local(data_dir: PathBuf) -> Self {
        Self {
            backend: BackendKind::Local,
            aws: AwsSettings {
                max_retries: DEFAULT_MAX_RETRIES,
                ..Default::default()
            },
            local: LocalSettings {
                data_dir,
                final_backups: Default::default(),
                base_backup_wal_percent: crate::backend::local::DEFAULT_BASE_BACKUP_WAL_PERCENT,
            },
            policy: PolicySettings::default(),
            default_tags: BTreeMap::new(),
            tiers: TierCatalogue::embedded(),
            terraform_version: String::new(),
            unknown_settings: BTreeSet::new(),
            env: ConfigEnv::default(),
        }
    }

    /// Whether `setting` (e.g. `aws.region`) and every block around it were known at configure time.
    pub fn is_known(&self, setting: &str) -> bool {
        !self
            .unknown_settings
            .iter()
            .any(|u| covers(u, setting) || covers(setting, u))
    }

    /// `Ok` when every setting in `settings` (or under it: `aws` covers `aws.region`) was known; otherwise an
    /// error diagnostic naming the unknown settings, saying `why` they are needed and how to fix it.
    pub fn require_known(&self, settings: &[&str], why: &str) -> Result<(), Diagnostic> {
        let missing: Vec<&str> = self
            .unknown_settings
            .iter()
            .filter(|u| settings.iter().any(|s| covers(s, u) || covers(u, s)))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Diagnostic::error(
            "Provider configuration not known at plan time",
            format!(
                "The dbplatform provider setting(s) {} depend on values Terraform only knows after apply, but {why}. \
                 Configure the provider with literals or variables; if it must use another resource's attributes, \
                 create that resource first (terraform apply -target=...).",
                missing.join(", ")
            ),
        ))
    }

    /// The backend, when it is known (a resource must not pick a backend from a default it was not given).
    pub fn known_backend(&self) -> Result<BackendKind, Diagnostic> {
        self.require_known(&["backend"], "the backend decides where the database lives")?;
        Ok(self.backend)
    }
}

/// Whether setting path `outer` equals `inner` or is a block containing it (`aws` covers `aws.region`).
pub(crate) fn covers(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}
