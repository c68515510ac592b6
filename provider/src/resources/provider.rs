//! The `dbplatform` provider: its configuration schema, validation, and the configuration state it hands to
//! every resource and data source.
//!
//! ```hcl
//! provider "dbplatform" {
//!   backend      = "aws"                    # or "local" (default)
//!   default_tags = { owner = "payments" }
//!   aws    { region = "eu-west-1" }
//!   local  { data_dir = "/var/lib/dbplatform" }
//!   policy { tiers_file = "tiers.toml" }
//! }
//! ```
//!
//! Terraform may configure the provider with *unknown* values at plan time (when the provider block references
//! attributes of resources not yet created). Configuration then still succeeds: unknown settings fall back to
//! their defaults and are recorded in [`ProviderConfig::unknown_settings`]; a resource that needs one calls
//! [`ProviderConfig::require_known`] and returns the diagnostic it gets, asking the user for known values.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use policy::model::TierCatalogue;
use tokio::sync::RwLock;

use crate::framework::access::{self, Field};
use crate::framework::{
    Attribute, AttributePath, Block, DataSource, Diagnostic, Diagnostics, Nesting, Provider,
    Resource, Schema, Type, Value,
};

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

/// Environment variable with overrides: `RULE_ID:by:reason` entries separated by `;` (the reason may contain `:`).
pub const ENV_OVERRIDES: &str = "DBPLATFORM_OVERRIDES";

/// Parses [`ENV_OVERRIDES`]; an error names the malformed entry and the expected format.
pub fn parse_env_overrides(text: &str) -> Result<Vec<ConfiguredOverride>, String> {
    let mut out = Vec::new();
    for (i, entry) in text.split(';').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let mut parts = entry.splitn(3, ':').map(str::trim);
        let (rule_id, by, reason) = (parts.next(), parts.next(), parts.next());
        match (rule_id, by, reason) {
            (Some(r), Some(b), Some(why)) if !r.is_empty() && !b.is_empty() && !why.is_empty() => {
                out.push(ConfiguredOverride {
                    origin: format!("{ENV_OVERRIDES} entry {}", i + 1),
                    rule: policy::model::decision::Override {
                        rule_id: r.to_string(),
                        reason: why.to_string(),
                        by: b.to_string(),
                    },
                })
            }
            _ => {
                return Err(format!(
                    "{ENV_OVERRIDES} entry {} {entry:?} is not RULE_ID:by:reason with all three parts non-empty; \
                     e.g. {ENV_OVERRIDES}=\"DBP-DEL-002:alice@example.com:one-off migration, ticket OPS-1\" \
                     (separate several entries with ';')",
                    i + 1
                ))
            }
        }
    }
    Ok(out)
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
            local: LocalSettings { data_dir },
            policy: PolicySettings::default(),
            default_tags: BTreeMap::new(),
            tiers: TierCatalogue::embedded(),
            terraform_version: String::new(),
            unknown_settings: BTreeSet::new(),
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
fn covers(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// What the last provider validation learned about the tier catalogue, for data source validation that runs
/// before configure (`terraform validate`).
#[derive(Debug, Clone)]
enum ValidatedTiers {
    /// No provider validation seen: assume the embedded catalogue.
    NotSeen,
    /// The provider configuration names this catalogue.
    Known(Arc<TierCatalogue>),
    /// `tiers_file` was unknown or failed to load: tier names cannot be checked yet.
    Undetermined,
}

/// Configuration shared by the provider and every resource and data source it serves.
#[derive(Debug)]
pub struct ProviderState {
    config: RwLock<Option<Arc<ProviderConfig>>>,
    validated_tiers: RwLock<ValidatedTiers>,
    engine: EngineCache,
}

/// The policy engine prepared for one configuration: compiled on the first plan after each configure and shared
/// by every later plan (a bundle takes milliseconds to compile, a plan may evaluate hundreds of resources).
#[derive(Default)]
struct EngineCache(tokio::sync::Mutex<Option<CachedEngine>>);

struct CachedEngine {
    config: Arc<ProviderConfig>,
    engine: Arc<policy::engine::PolicyEngine>,
}

impl std::fmt::Debug for EngineCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineCache")
    }
}

impl Default for ProviderState {
    fn default() -> Self {
        Self::new()
    }
}

impl ProviderState {
    /// An unconfigured state (every resource call fails with "provider not configured" until configure).
    pub fn new() -> Self {
        Self {
            config: RwLock::new(None),
            validated_tiers: RwLock::new(ValidatedTiers::NotSeen),
            engine: EngineCache::default(),
        }
    }

    /// A state already holding `config`, for resource tests that skip ConfigureProvider.
    pub fn with_config(config: ProviderConfig) -> Self {
        Self {
            config: RwLock::new(Some(Arc::new(config))),
            validated_tiers: RwLock::new(ValidatedTiers::NotSeen),
            engine: EngineCache::default(),
        }
    }

    /// The configuration, or an error diagnostic when ConfigureProvider has not succeeded.
    pub async fn config(&self) -> Result<Arc<ProviderConfig>, Diagnostic> {
        self.config.read().await.clone().ok_or_else(|| {
            Diagnostic::error(
                "provider not configured",
                "The dbplatform provider was used before Terraform configured it (or its configuration failed). \
                 Fix the errors reported for the provider block and run again.",
            )
        })
    }

    /// The configuration, when `settings` (e.g. `["backend", "local", "policy"]`) were all known at configure
    /// time; otherwise the diagnostic of [`ProviderConfig::require_known`], saying `why` they are needed.
    pub async fn known_config(
        &self,
        settings: &[&str],
        why: &str,
    ) -> Result<Arc<ProviderConfig>, Diagnostic> {
        let cfg = self.config().await?;
        cfg.require_known(settings, why)?;
        Ok(cfg)
    }

    /// Replaces the configuration (ConfigureProvider; tests).
    pub async fn set_config(&self, config: ProviderConfig) {
        *self.config.write().await = Some(Arc::new(config));
    }

    /// The policy engine for `config` (the current configuration): loaded once per configuration and cached, so
    /// plans share one compiled bundle. Concurrent first plans wait for one load instead of each compiling.
    pub async fn policy_engine(
        &self,
        config: &Arc<ProviderConfig>,
    ) -> Result<Arc<policy::engine::PolicyEngine>, Diagnostic> {
        let mut cached = self.engine.0.lock().await;
        if let Some(c) = cached.as_ref() {
            if Arc::ptr_eq(&c.config, config) {
                return Ok(Arc::clone(&c.engine));
            }
        }
        let opts = policy::engine::EngineOptions {
            extra_dirs: config.policy.directories.clone(),
            tiers: config.tiers.clone(),
            exceptions_file: config.policy.exceptions_file.clone(),
            ..Default::default()
        };
        let loaded = tokio::task::spawn_blocking(move || policy::engine::PolicyEngine::load(&opts))
            .await
            .map_err(|e| {
                Diagnostic::error(
                    "Policy bundle failed to load",
                    format!("The guardrail loader stopped unexpectedly: {e}"),
                )
            })?
            .map_err(|e| {
                Diagnostic::error(
                    "Policy bundle failed to load",
                    format!(
                        "The guardrails could not be loaded: {e}. Fix the file named above (policy.directories, \
                         policy.exceptions_file, policy.tiers_file) and plan again."
                    ),
                )
            })?;
        let engine = Arc::new(loaded);
        *cached = Some(CachedEngine {
            config: Arc::clone(config),
            engine: Arc::clone(&engine),
        });
        Ok(engine)
    }

    /// The catalogue to check tier names against during validation, which may run before configure.
    /// `None` when the catalogue cannot be known yet (its file is unknown or broken): skip the check then.
    pub async fn tiers_for_validation(&self) -> Option<Arc<TierCatalogue>> {
        if let Some(cfg) = self.config.read().await.as_ref() {
            if !cfg.is_known("policy.tiers_file") {
                return None;
            }
            return Some(Arc::new(cfg.tiers.clone()));
        }
        match &*self.validated_tiers.read().await {
            ValidatedTiers::NotSeen => Some(Arc::new(TierCatalogue::embedded())),
            ValidatedTiers::Known(c) => Some(Arc::clone(c)),
            ValidatedTiers::Undetermined => None,
        }
    }
}

/// Where the provider finds its defaults: environment variables and the working directory. Passed in so tests
/// do not depend on the machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigEnv {
    pub xdg_data_home: Option<String>,
    pub home: Option<String>,
    /// Relative paths in the configuration are resolved against this directory (Terraform's working directory).
    pub cwd: PathBuf,
    /// [`ENV_OVERRIDES`]: soft-mandatory overrides given outside the configuration (e.g. by a CI job).
    pub overrides: Option<String>,
}

impl ConfigEnv {
    /// The running process's environment.
    pub fn from_process() -> Self {
        Self {
            xdg_data_home: std::env::var("XDG_DATA_HOME").ok(),
            home: std::env::var("HOME").ok(),
            cwd: std::env::current_dir().unwrap_or_default(),
            overrides: std::env::var(ENV_OVERRIDES).ok(),
        }
    }

    /// `$XDG_DATA_HOME/dbplatform`, else `~/.local/share/dbplatform` (the XDG base directory default).
    pub fn default_data_dir(&self) -> Option<PathBuf> {
        if let Some(x) = self
            .xdg_data_home
            .as_deref()
            .filter(|x| Path::new(x).is_absolute())
        {
            return Some(Path::new(x).join("dbplatform"));
        }
        self.home
            .as_deref()
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(h).join(".local/share/dbplatform"))
    }

    fn absolute(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }
}

/// The dbplatform provider.
pub struct DbPlatformProvider {
    state: Arc<ProviderState>,
    env: ConfigEnv,
}

impl Default for DbPlatformProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl DbPlatformProvider {
    /// The provider with defaults from this process's environment.
    pub fn new() -> Self {
        Self::with_env(ConfigEnv::from_process())
    }

    /// The provider with defaults from `env` (tests).
    pub fn with_env(env: ConfigEnv) -> Self {
        Self {
            state: Arc::new(ProviderState::new()),
            env,
        }
    }

    /// The state resources share (for tests and for resources built outside [`Provider::resources`]).
    pub fn state(&self) -> Arc<ProviderState> {
        Arc::clone(&self.state)
    }
}

#[async_trait]
impl Provider for DbPlatformProvider {
    fn type_name(&self) -> &'static str {
        "dbplatform"
    }

    fn schema(&self) -> Schema {
        Schema::new(0, provider_block())
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let (parsed, diags) = parse(config, &self.env, "");
        *self.state.validated_tiers.write().await = match &parsed {
            Some(c) if c.is_known("policy.tiers_file") => {
                ValidatedTiers::Known(Arc::new(c.tiers.clone()))
            }
            _ => ValidatedTiers::Undetermined,
        };
        diags
    }

    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics {
        let (parsed, mut diags) = parse(config, &self.env, terraform_version);
        if let Some(cfg) = parsed {
            if cfg.policy.is_advisory() {
                diags.push(
                    Diagnostic::warning(
                        "Policy enforcement is advisory",
                        "policy.enforcement_override = \"advisory\": every guardrail failure is reported as a \
                         warning and nothing is blocked. This is a break-glass setting; remove it as soon as the \
                         emergency is over. Decisions are still written to the audit log.",
                    )
                    .at(AttributePath::attr("policy").join_attr("enforcement_override")),
                );
            }
            self.state.set_config(cfg).await;
        }
        diags
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        let state = &self.state;
        let registered: Vec<Arc<dyn Resource>> = vec![
            // ==== REGISTERED RESOURCES: one line per resource type, e.g. ====
            // Arc::new(super::database::DatabaseResource::new(Arc::clone(state))),
            // Apply outcomes go to the audit log (plan-time decisions are recorded by the resource itself).
            Arc::new(super::database::env::AuditedApply::new(
                Arc::new(super::database::DatabaseResource::new(
                    Arc::clone(state) as Arc<dyn super::database::env::DatabaseEnv>
                )),
                Arc::clone(state),
            )),
            Arc::new(super::parameter_group::ParameterGroupResource::new(
                Arc::clone(state),
            )),
            Arc::new(super::restore_test::RestoreTestResource::new(
                Arc::clone(state) as Arc<dyn super::database::env::DatabaseEnv>,
            )),
        ];
        let _ = state; // used by the lines above once resources are registered
        registered
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        let state = &self.state;
        vec![
            // ==== REGISTERED DATA SOURCES: one line per data source type ====
            Arc::new(super::database_data_source::DatabaseDataSource::new(
                Arc::clone(state) as Arc<dyn super::database::env::DatabaseEnv>,
            )),
            Arc::new(super::tier_data_source::TierDataSource::new(Arc::clone(
                state,
            ))),
        ]
    }
}

/// The provider configuration schema (every attribute optional).
pub fn provider_block() -> Block {
    Block::new("Configures where dbplatform creates databases and how its guardrails are enforced.")
        .attribute(Attribute::optional(
            "backend",
            Type::String,
            "Where databases are created: \"aws\" (Amazon RDS) or \"local\" (PostgreSQL on this machine). \
             Default \"local\".",
        ))
        .attribute(Attribute::optional(
            "default_tags",
            Type::Map(Box::new(Type::String)),
            "Tags applied to every database this provider manages; a resource's own tags win on conflict. \
             Policies see the merged tags.",
        ))
        .block(
            "aws",
            Nesting::Single,
            Block::new("Amazon RDS settings, used when backend = \"aws\".")
                .attribute(Attribute::optional(
                    "region",
                    Type::String,
                    "AWS region, e.g. \"eu-west-1\". Default: the AWS SDK chain (AWS_REGION, profile).",
                ))
                .attribute(Attribute::optional(
                    "endpoint",
                    Type::String,
                    "Override of the RDS API endpoint URL (http:// or https://), e.g. a local moto_server for \
                     tests. Default: the AWS endpoint of the region.",
                ))
                .attribute(Attribute::optional(
                    "profile",
                    Type::String,
                    "Named profile from the AWS shared config and credentials files. Default: the AWS SDK chain.",
                ))
                .attribute(Attribute::optional(
                    "max_retries",
                    Type::Number,
                    "How many times a throttled or failed AWS API call is retried, 0 to 20. Default 3.",
                )),
        )
        .block(
            "local",
            Nesting::Single,
            Block::new("Local PostgreSQL settings, used when backend = \"local\".").attribute(Attribute::optional(
                "data_dir",
                Type::String,
                "Directory holding local clusters, backups and WAL archives. Default \
                 $XDG_DATA_HOME/dbplatform, else ~/.local/share/dbplatform. Relative paths are resolved against \
                 Terraform's working directory.",
            )),
        )
        .block(
            "policy",
            Nesting::Single,
            Block::new("Guardrail (policy) settings.")
                .attribute(Attribute::optional(
                    "directories",
                    Type::List(Box::new(Type::String)),
                    "Extra directories of .rego rules evaluated together with the embedded default bundle.",
                ))
                .attribute(Attribute::optional(
                    "exceptions_file",
                    Type::String,
                    "File of time-boxed policy exceptions (see the policy authoring guide). Must exist when set.",
                ))
                .attribute(Attribute::optional(
                    "audit_log",
                    Type::String,
                    "File every plan-time policy decision is appended to (hash-chained JSON lines; verify with \
                     `dbpolicy audit verify`). Default: the DBPOLICY_AUDIT_LOG environment variable; unset means \
                     no audit log. Its directory must exist. A decision that cannot be written fails the plan \
                     (fail closed); overrides need it.",
                ))
                .attribute(Attribute::optional(
                    "tiers_file",
                    Type::String,
                    "Tier catalogue (TOML, or JSON when the name ends in .json) replacing the embedded one, for \
                     both tier expansion and the rules.",
                ))
                .attribute(Attribute::optional(
                    "enforcement_override",
                    Type::String,
                    "Break-glass switch: \"advisory\" reports every policy failure as a warning instead of an \
                     error. Every plan shows a warning while it is set; decisions are still audited. Omit for \
                     normal enforcement.",
                ))
                .block(
                    "override",
                    Nesting::List,
                    Block::new(
                        "Overrides a failing soft-mandatory rule for every database of this provider, with who \
                         and why. Takes effect only when policy.audit_log (or DBPOLICY_AUDIT_LOG) is set and the \
                         decision is recorded; hard-mandatory rules cannot be overridden. Repeatable; more can come \
                         from DBPLATFORM_OVERRIDES (\"RULE_ID:by:reason;...\").",
                    )
                    .attribute(Attribute::required(
                        "rule",
                        Type::String,
                        "Id of the soft-mandatory rule to override, e.g. \"DBP-DEL-002\" (see `dbpolicy rules`).",
                    ))
                    .attribute(Attribute::required(
                        "reason",
                        Type::String,
                        "Why the violation is acceptable this time; written to the audit log.",
                    ))
                    .attribute(Attribute::required(
                        "by",
                        Type::String,
                        "Who approves the override and takes responsibility (name or e-mail); written to the \
                         audit log.",
                    )),
                ),
        )
}

/// Collects settings out of the configuration value, recording unknowns and diagnostics.
struct Reader<'a> {
    config: &'a Value,
    unknown: BTreeSet<String>,
    diags: Diagnostics,
}

impl Reader<'_> {
    /// Records blocks that are unknown as a whole (or sit in a wholly unknown configuration).
    fn note_unknown_blocks(&mut self) {
        for block in ["aws", "local", "policy"] {
            if self.config.is_unknown() || self.config.get(block).is_unknown() {
                self.unknown.insert(block.to_string());
            }
        }
    }

    fn field<T>(&mut self, path: &AttributePath, r: Result<Field<T>, Diagnostic>) -> Option<T> {
        match r {
            Ok(Field::Known(v)) => Some(v),
            Ok(Field::Null) => None,
            Ok(Field::Unknown) => {
                let p = path.to_string();
                // A wholly unknown block is recorded once, not attribute by attribute.
                if !self.unknown.iter().any(|u| covers(u, &p)) {
                    self.unknown.insert(p);
                }
                None
            }
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    /// A non-empty string setting.
    fn string(&mut self, path: &AttributePath) -> Option<String> {
        let v = access::get_string_at(self.config, path);
        let s = self.field(path, v)?;
        if s.trim().is_empty() {
            self.diags.error_at(
                path.clone(),
                "Empty provider setting",
                format!("{path} is an empty string; remove it to use the default, or set a value."),
            );
            return None;
        }
        Some(s)
    }
}

fn attr(block: &str, name: &str) -> AttributePath {
    AttributePath::attr(block).join_attr(name)
}

/// Parses and validates a provider configuration value. Returns the configuration when there are no errors.
fn parse(
    config: &Value,
    env: &ConfigEnv,
    terraform_version: &str,
) -> (Option<ProviderConfig>, Diagnostics) {
    let mut r = Reader {
        config,
        unknown: BTreeSet::new(),
        diags: Diagnostics::new(),
    };
    r.note_unknown_blocks();

    // backend
    let backend_path = AttributePath::attr("backend");
    let backend = match r.string(&backend_path) {
        None => BackendKind::Local,
        Some(name) => match BackendKind::parse(&name) {
            Some(b) => b,
            None => {
                r.diags.error_at(
                    backend_path,
                    "Invalid backend",
                    format!(
                        "invalid backend {name:?}; valid values are {}.",
                        BackendKind::NAMES.map(|n| format!("{n:?}")).join(", ")
                    ),
                );
                BackendKind::Local
            }
        },
    };

    // default_tags
    let tags_path = AttributePath::attr("default_tags");
    let v = access::get_string_map_at(config, &tags_path);
    let default_tags = r.field(&tags_path, v).unwrap_or_default();

    // aws
    let region = r.string(&attr("aws", "region"));
    let endpoint_path = attr("aws", "endpoint");
    let endpoint = r.string(&endpoint_path);
    if let Some(e) = &endpoint {
        if !(e.starts_with("http://") || e.starts_with("https://")) || e.len() <= "https://".len() {
            r.diags.error_at(
                endpoint_path,
                "Invalid AWS endpoint",
                format!("aws.endpoint {e:?} is not an http:// or https:// URL, e.g. \"http://127.0.0.1:5000\"."),
            );
        }
    }
    let profile = r.string(&attr("aws", "profile"));
    let retries_path = attr("aws", "max_retries");
    let v = access::get_number_at(config, &retries_path);
    let max_retries = match r.field(&retries_path, v) {
        None => DEFAULT_MAX_RETRIES,
        Some(n) => match n.as_i64().filter(|i| (0..=MAX_RETRIES_LIMIT).contains(i)) {
            Some(i) => u32::try_from(i).unwrap_or(DEFAULT_MAX_RETRIES),
            None => {
                r.diags.error_at(
                    retries_path,
                    "Invalid max_retries",
                    format!("aws.max_retries must be a whole number from 0 to {MAX_RETRIES_LIMIT}, got {n}."),
                );
                DEFAULT_MAX_RETRIES
            }
        },
    };

    // local
    let data_dir_path = attr("local", "data_dir");
    let configured_data_dir = r.string(&data_dir_path).map(|d| env.absolute(&d));
    if let Some(p) = &configured_data_dir {
        if p.exists() && !p.is_dir() {
            r.diags.error_at(
                data_dir_path.clone(),
                "Invalid data directory",
                format!(
                    "local.data_dir {} exists and is not a directory.",
                    p.display()
                ),
            );
        }
    }
    let data_dir = match configured_data_dir {
        Some(d) => d,
        None => match env.default_data_dir() {
            Some(d) => d,
            None if backend == BackendKind::Local && !r.unknown.contains("backend") => {
                r.diags.error_at(
                    data_dir_path,
                    "No data directory for the local backend",
                    "Neither XDG_DATA_HOME nor HOME is set, so there is no default data directory. Set \
                     local { data_dir = \"/path/to/dir\" }.",
                );
                PathBuf::new()
            }
            None => PathBuf::new(),
        },
    };

    // policy
    let dirs_path = attr("policy", "directories");
    let v = access::get_string_list_at(config, &dirs_path);
    let directories: Vec<PathBuf> = r
        .field(&dirs_path, v)
        .unwrap_or_default()
        .iter()
        .map(|d| env.absolute(d))
        .collect();
    for (i, d) in directories.iter().enumerate() {
        if !d.is_dir() {
            r.diags.error_at(
                dirs_path.join_index(i64::try_from(i).unwrap_or(i64::MAX)),
                "Policy directory not found",
                format!("policy.directories[{i}]: {} is not a directory; create it or remove the entry.", d.display()),
            );
        }
    }
    let exceptions_path = attr("policy", "exceptions_file");
    let exceptions_file = r.string(&exceptions_path).map(|p| env.absolute(&p));
    if let Some(f) = &exceptions_file {
        if !f.is_file() {
            r.diags.error_at(
                exceptions_path,
                "Exceptions file not found",
                format!(
                    "policy.exceptions_file: {} does not exist or is not a file.",
                    f.display()
                ),
            );
        }
    }
    let audit_path = attr("policy", "audit_log");
    let audit_log = r.string(&audit_path).map(|p| env.absolute(&p));
    if let Some(f) = &audit_log {
        let parent = f.parent().unwrap_or(Path::new("/"));
        if f.is_dir() {
            r.diags.error_at(
                audit_path,
                "Invalid audit log path",
                format!(
                    "policy.audit_log: {} is a directory; name a file inside it.",
                    f.display()
                ),
            );
        } else if !parent.is_dir() {
            r.diags.error_at(
                audit_path,
                "Audit log directory not found",
                format!(
                    "policy.audit_log: directory {} does not exist; create it first.",
                    parent.display()
                ),
            );
        }
    }
    let tiers_path = attr("policy", "tiers_file");
    let tiers_file = r.string(&tiers_path).map(|p| env.absolute(&p));
    let tiers = match &tiers_file {
        None => TierCatalogue::embedded(),
        Some(f) => match TierCatalogue::from_file(f) {
            Ok(c) => c,
            Err(e) => {
                r.diags.error_at(
                    tiers_path,
                    "Invalid tier catalogue",
                    format!("policy.tiers_file: {e}"),
                );
                TierCatalogue::embedded()
            }
        },
    };
    let override_path = attr("policy", "enforcement_override");
    let enforcement_override = r.string(&override_path);
    if let Some(o) = &enforcement_override {
        if o != ENFORCEMENT_ADVISORY {
            r.diags.error_at(
                override_path,
                "Invalid enforcement_override",
                format!(
                    "invalid enforcement_override {o:?}; the only valid value is \"{ENFORCEMENT_ADVISORY}\" \
                     (omit it for normal enforcement)."
                ),
            );
        }
    }

    let overrides = read_overrides(&mut r, env);

    if r.diags.has_errors() {
        return (None, r.diags);
    }
    let cfg = ProviderConfig {
        backend,
        aws: AwsSettings {
            region,
            endpoint,
            profile,
            max_retries,
        },
        local: LocalSettings { data_dir },
        policy: PolicySettings {
            directories,
            exceptions_file,
            audit_log,
            tiers_file,
            enforcement_override,
            overrides,
        },
        default_tags,
        tiers,
        terraform_version: terraform_version.to_string(),
        unknown_settings: r.unknown,
    };
    (Some(cfg), r.diags)
}

/// `policy { override { ... } }` blocks, then [`ENV_OVERRIDES`]. Unknown blocks are recorded as unknown settings.
fn read_overrides(r: &mut Reader<'_>, env: &ConfigEnv) -> Vec<ConfiguredOverride> {
    let path = attr("policy", "override");
    let mut out = Vec::new();
    match r.config.at(&path) {
        Some(Value::Unknown) => {
            let p = path.to_string();
            if !r.unknown.iter().any(|u| covers(u, &p)) {
                r.unknown.insert(p);
            }
        }
        Some(Value::List(items)) => {
            for i in 0..items.len() {
                let item = path.join_index(i64::try_from(i).unwrap_or(i64::MAX));
                let rule_id = r.string(&item.join_attr("rule"));
                let reason = r.string(&item.join_attr("reason"));
                let by = r.string(&item.join_attr("by"));
                if let (Some(rule_id), Some(reason), Some(by)) = (rule_id, reason, by) {
                    if rule_id.contains(char::is_whitespace) {
                        r.diags.error_at(
                            item.join_attr("rule"),
                            "Invalid override rule",
                            format!("policy.override[{i}].rule {rule_id:?} is not a rule id; use the id \
                                     `dbpolicy rules` lists, e.g. \"DBP-DEL-002\"."),
                        );
                        continue;
                    }
                    out.push(ConfiguredOverride {
                        origin: format!("policy.override[{i}]"),
                        rule: policy::model::decision::Override {
                            rule_id,
                            reason,
                            by,
                        },
                    });
                }
            }
        }
        _ => {}
    }
    if let Some(text) = &env.overrides {
        match parse_env_overrides(text) {
            Ok(mut o) => out.append(&mut o),
            Err(e) => r
                .diags
                .push(Diagnostic::error("Invalid DBPLATFORM_OVERRIDES", e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::planning::schema_problems;
    use crate::framework::Severity;

    fn env(dir: &Path) -> ConfigEnv {
        ConfigEnv {
            xdg_data_home: None,
            home: Some("/home/u".into()),
            cwd: dir.to_path_buf(),
            overrides: None,
        }
    }

    /// A provider config value with every attribute present (null unless given).
    fn cfg(top: &[(&str, Value)], blocks: &[(&str, &[(&str, Value)])]) -> Value {
        let block = provider_block();
        let mut v = Value::Object(BTreeMap::new());
        for a in &block.attributes {
            v.set(&a.name, Value::Null);
        }
        for b in &block.blocks {
            v.set(&b.type_name, Value::Null);
        }
        for (k, x) in top {
            v.set(k, x.clone());
        }
        for (name, attrs) in blocks {
            let nb = block.find_block(name).unwrap();
            let mut o = Value::Object(BTreeMap::new());
            for a in &nb.block.attributes {
                o.set(&a.name, Value::Null);
            }
            for (k, x) in attrs.iter() {
                o.set(k, x.clone());
            }
            v.set(name, o);
        }
        v
    }

    fn errors(d: &Diagnostics) -> Vec<(String, String)> {
        d.iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                (
                    d.attribute
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    d.detail.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn schema_is_well_formed_and_fully_described() {
        let p = DbPlatformProvider::with_env(ConfigEnv::default());
        assert_eq!(p.type_name(), "dbplatform");
        assert!(
            schema_problems(&p.schema().block).is_empty(),
            "{:?}",
            schema_problems(&p.schema().block)
        );
        for b in &p.schema().block.blocks {
            assert!(!b.block.description.is_empty(), "{}", b.type_name);
        }
    }

    #[tokio::test]
    async fn empty_configuration_uses_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = DbPlatformProvider::with_env(env(dir.path()));
        let d = p.configure(&cfg(&[], &[]), "1.0.3").await;
        assert!(d.is_empty(), "{d:?}");
        let c = p.state().config().await.unwrap();
        assert_eq!(c.backend, BackendKind::Local);
        assert_eq!(
            c.local.data_dir,
            PathBuf::from("/home/u/.local/share/dbplatform")
        );
        assert_eq!(c.aws.max_retries, DEFAULT_MAX_RETRIES);
        assert_eq!(c.tiers, TierCatalogue::embedded());
        assert_eq!(c.terraform_version, "1.0.3");
        assert!(c.unknown_settings.is_empty());
    }

    #[tokio::test]
    async fn xdg_data_home_wins_over_home() {
        let e = ConfigEnv {
            xdg_data_home: Some("/xdg".into()),
            home: Some("/home/u".into()),
            cwd: "/".into(),
            overrides: None,
        };
        assert_eq!(e.default_data_dir(), Some(PathBuf::from("/xdg/dbplatform")));
        let relative = ConfigEnv {
            xdg_data_home: Some("rel".into()),
            ..e
        };
        assert_eq!(
            relative.default_data_dir(),
            Some(PathBuf::from("/home/u/.local/share/dbplatform"))
        );
    }

    #[tokio::test]
    async fn full_configuration_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        std::fs::write(dir.path().join("exceptions.yaml"), "[]").unwrap();
        let tiers = dir.path().join("tiers.toml");
        let custom = policy::model::tiers::EMBEDDED_TIERS_TOML
            .replace("[tiers.tier-3]", "[tiers.tier-gold]");
        std::fs::write(&tiers, custom).unwrap();
        let p = DbPlatformProvider::with_env(env(dir.path()));
        let mut tags = BTreeMap::new();
        tags.insert("owner".to_string(), Value::string("payments"));
        let config = cfg(
            &[
                ("backend", Value::string("aws")),
                ("default_tags", Value::Map(tags)),
            ],
            &[
                (
                    "aws",
                    &[
                        ("region", Value::string("eu-west-1")),
                        ("endpoint", Value::string("http://127.0.0.1:5000")),
                        ("max_retries", Value::int(5)),
                    ],
                ),
                ("local", &[("data_dir", Value::string("data"))]),
                (
                    "policy",
                    &[
                        ("directories", Value::List(vec![Value::string("rules")])),
                        ("exceptions_file", Value::string("exceptions.yaml")),
                        ("audit_log", Value::string("audit.jsonl")),
                        ("tiers_file", Value::string("tiers.toml")),
                    ],
                ),
            ],
        );
        assert!(p.validate(&config).await.is_empty());
        let d = p.configure(&config, "1.0.3").await;
        assert!(d.is_empty(), "{d:?}");
        let c = p.state().config().await.unwrap();
        assert_eq!(c.backend, BackendKind::Aws);
        assert_eq!(c.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.aws.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(c.aws.max_retries, 5);
        assert_eq!(c.local.data_dir, dir.path().join("data"));
        assert_eq!(c.policy.directories, vec![dir.path().join("rules")]);
        assert_eq!(
            c.policy.exceptions_file,
            Some(dir.path().join("exceptions.yaml"))
        );
        assert_eq!(c.policy.audit_log, Some(dir.path().join("audit.jsonl")));
        assert_eq!(c.default_tags["owner"], "payments");
        assert_eq!(
            c.tiers.names(),
            vec!["tier-0", "tier-1", "tier-2", "tier-gold"]
        );
        assert!(!c.policy.is_advisory());
    }

    #[tokio::test]
    async fn invalid_settings_get_diagnostics_on_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.toml"), "tiers = {}").unwrap();
        let p = DbPlatformProvider::with_env(env(dir.path()));
        let config = cfg(
            &[("backend", Value::string("gcp"))],
            &[
                (
                    "aws",
                    &[
                        ("max_retries", Value::int(21)),
                        ("endpoint", Value::string("localhost:5000")),
                    ],
                ),
                (
                    "policy",
                    &[
                        ("tiers_file", Value::string("bad.toml")),
                        ("enforcement_override", Value::string("off")),
                        ("exceptions_file", Value::string("missing.yaml")),
                        ("directories", Value::List(vec![Value::string("nope")])),
                        ("audit_log", Value::string("no/such/dir/audit.jsonl")),
                    ],
                ),
            ],
        );
        for d in [
            p.validate(&config).await,
            p.configure(&config, "1.0.3").await,
        ] {
            let e = errors(&d);
            let find = |path: &str| {
                e.iter()
                    .find(|(p, _)| p == path)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default()
            };
            assert_eq!(
                find("backend"),
                "invalid backend \"gcp\"; valid values are \"aws\", \"local\"."
            );
            assert_eq!(
                find("aws.max_retries"),
                "aws.max_retries must be a whole number from 0 to 20, got 21."
            );
            assert!(
                find("aws.endpoint").contains("not an http:// or https:// URL"),
                "{e:?}"
            );
            assert!(
                find("policy.tiers_file").contains("defines no tiers"),
                "{e:?}"
            );
            assert!(find("policy.enforcement_override")
                .contains("the only valid value is \"advisory\""));
            assert!(
                find("policy.exceptions_file").contains("missing.yaml does not exist"),
                "{e:?}"
            );
            assert!(
                find("policy.directories[0]").contains("is not a directory"),
                "{e:?}"
            );
            assert!(
                find("policy.audit_log").contains("does not exist; create it first"),
                "{e:?}"
            );
            assert_eq!(e.len(), 8, "{e:?}");
        }
        let err = p.state().config().await.unwrap_err();
        assert_eq!(err.summary, "provider not configured");
    }

    #[tokio::test]
    async fn max_retries_must_be_whole() {
        let p = DbPlatformProvider::with_env(env(Path::new("/")));
        let config = cfg(
            &[],
            &[(
                "aws",
                &[(
                    "max_retries",
                    Value::Number(crate::framework::Number::parse("2.5").unwrap()),
                )],
            )],
        );
        let e = errors(&p.validate(&config).await);
        assert_eq!(
            e,
            vec![(
                "aws.max_retries".into(),
                "aws.max_retries must be a whole number from 0 to 20, got 2.5.".into()
            )]
        );
    }

    #[tokio::test]
    async fn advisory_mode_warns_on_every_configure() {
        let p = DbPlatformProvider::with_env(env(Path::new("/")));
        let config = cfg(
            &[],
            &[(
                "policy",
                &[("enforcement_override", Value::string("advisory"))],
            )],
        );
        let d = p.configure(&config, "1.0.3").await;
        assert!(!d.has_errors());
        let w = d.iter().find(|d| d.severity == Severity::Warning).unwrap();
        assert_eq!(w.summary, "Policy enforcement is advisory");
        assert_eq!(w.attribute, Some(attr("policy", "enforcement_override")));
        assert!(p.state().config().await.unwrap().policy.is_advisory());
    }

    #[tokio::test]
    async fn unknown_values_are_recorded_not_fatal() {
        let p = DbPlatformProvider::with_env(env(Path::new("/")));
        let config = cfg(
            &[("backend", Value::Unknown)],
            &[
                ("aws", &[("region", Value::Unknown)]),
                ("policy", &[("tiers_file", Value::Unknown)]),
            ],
        );
        assert!(p.validate(&config).await.is_empty());
        assert!(
            p.state().tiers_for_validation().await.is_none(),
            "unknown tiers file: cannot check tier names"
        );
        let d = p.configure(&config, "1.0.3").await;
        assert!(d.is_empty(), "{d:?}");
        let c = p.state().config().await.unwrap();
        assert_eq!(
            c.unknown_settings
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            vec!["aws.region", "backend", "policy.tiers_file"]
        );
        assert!(c.is_known("local.data_dir"));
        assert!(
            !c.is_known("aws"),
            "a block with an unknown setting is not wholly known"
        );
        let err = c.known_backend().unwrap_err();
        assert_eq!(err.summary, "Provider configuration not known at plan time");
        assert!(
            err.detail
                .starts_with("The dbplatform provider setting(s) backend depend on values"),
            "{}",
            err.detail
        );
        let err = c
            .require_known(&["aws"], "the AWS client needs its region")
            .unwrap_err();
        assert!(
            err.detail.contains("aws.region")
                && err.detail.contains("the AWS client needs its region")
        );
        assert!(c.require_known(&["local"], "x").is_ok());

        let err = p
            .state()
            .known_config(
                &["backend", "policy"],
                "dbplatform_database needs them to plan",
            )
            .await
            .unwrap_err();
        assert!(
            err.detail.contains("backend, policy.tiers_file"),
            "{}",
            err.detail
        );
        assert!(p.state().known_config(&["local"], "x").await.is_ok());

        // A wholly unknown configuration.
        assert!(p.configure(&Value::Unknown, "1.0.3").await.is_empty());
        let c = p.state().config().await.unwrap();
        assert_eq!(
            c.unknown_settings
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            vec!["aws", "backend", "default_tags", "local", "policy"]
        );

        // A wholly unknown block.
        let config = cfg(&[], &[]);
        let mut config = config;
        config.set("aws", Value::Unknown);
        p.configure(&config, "1.0.3").await;
        let c = p.state().config().await.unwrap();
        assert!(!c.is_known("aws.region"));
    }

    #[tokio::test]
    async fn validation_remembers_the_catalogue_for_data_sources() {
        let dir = tempfile::tempdir().unwrap();
        let tiers = dir.path().join("t.toml");
        let custom = policy::model::tiers::EMBEDDED_TIERS_TOML
            .replace("[tiers.tier-3]", "[tiers.tier-gold]");
        std::fs::write(&tiers, custom).unwrap();
        let p = DbPlatformProvider::with_env(env(dir.path()));
        assert_eq!(
            p.state()
                .tiers_for_validation()
                .await
                .unwrap()
                .names()
                .len(),
            4,
            "embedded before validate"
        );
        let config = cfg(
            &[],
            &[("policy", &[("tiers_file", Value::string("t.toml"))])],
        );
        assert!(p.validate(&config).await.is_empty());
        let names = p
            .state()
            .tiers_for_validation()
            .await
            .unwrap()
            .names()
            .join(",");
        assert_eq!(names, "tier-0,tier-1,tier-2,tier-gold");
    }

    #[test]
    fn env_overrides_parse_and_malformed_entries_are_named() {
        let o = parse_env_overrides(
            " DBP-DEL-002:alice@example.com:ticket OPS-1: window ; ;DBP-DEL-003:bob:x",
        )
        .unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].rule.rule_id, "DBP-DEL-002");
        assert_eq!(o[0].rule.by, "alice@example.com");
        assert_eq!(o[0].rule.reason, "ticket OPS-1: window");
        assert_eq!(o[0].origin, "DBPLATFORM_OVERRIDES entry 1");
        assert_eq!(o[1].origin, "DBPLATFORM_OVERRIDES entry 3");
        let e = parse_env_overrides("DBP-DEL-002:alice").unwrap_err();
        assert!(
            e.starts_with(
                "DBPLATFORM_OVERRIDES entry 1 \"DBP-DEL-002:alice\" is not RULE_ID:by:reason"
            ),
            "{e}"
        );
        assert!(parse_env_overrides("").unwrap().is_empty());
    }

    #[tokio::test]
    async fn override_blocks_and_environment_are_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = env(dir.path());
        e.overrides = Some("DBP-DEL-003:ci-bot:planned replacement".into());
        let p = DbPlatformProvider::with_env(e);
        let mut config = cfg(
            &[],
            &[("policy", &[("audit_log", Value::string("a.jsonl"))])],
        );
        let item = |rule: &str, by: Value| {
            let mut o = Value::Object(BTreeMap::new());
            o.set("rule", Value::string(rule));
            o.set("reason", Value::string("migration"));
            o.set("by", by);
            o
        };
        let mut policy_block = config.get("policy").clone();
        policy_block.set(
            "override",
            Value::List(vec![item("DBP-DEL-002", Value::string("alice"))]),
        );
        config.set("policy", policy_block.clone());
        let d = p.configure(&config, "1.9.8").await;
        assert!(d.is_empty(), "{d:?}");
        let c = p.state().config().await.unwrap();
        let got: Vec<(&str, &str, &str)> = c
            .policy
            .overrides
            .iter()
            .map(|o| {
                (
                    o.origin.as_str(),
                    o.rule.rule_id.as_str(),
                    o.rule.by.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("policy.override[0]", "DBP-DEL-002", "alice"),
                ("DBPLATFORM_OVERRIDES entry 1", "DBP-DEL-003", "ci-bot")
            ]
        );

        // Bad entries are reported on their paths.
        policy_block.set(
            "override",
            Value::List(vec![
                item("DBP DEL", Value::string("alice")),
                item("DBP-DEL-002", Value::string(" ")),
            ]),
        );
        config.set("policy", policy_block);
        let mut e = env(dir.path());
        e.overrides = Some("nonsense".into());
        let p = DbPlatformProvider::with_env(e);
        let errs = errors(&p.validate(&config).await);
        assert!(
            errs.iter().any(
                |(path, m)| path == "policy.override[0].rule" && m.contains("is not a rule id")
            ),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|(path, m)| path == "policy.override[1].by" && m.contains("empty string")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|(_, m)| m.starts_with("DBPLATFORM_OVERRIDES entry 1 \"nonsense\"")),
            "{errs:?}"
        );
    }

    /// docs/index.md documents every provider argument and nested block attribute.
    #[test]
    fn docs_cover_every_argument() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/index.md");
        let doc =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let block = provider_block();
        let mut names: Vec<&str> = block.attributes.iter().map(|a| a.name.as_str()).collect();
        fn nested<'a>(b: &'a Block, names: &mut Vec<&'a str>) {
            for nb in &b.blocks {
                names.push(&nb.type_name);
                names.extend(nb.block.attributes.iter().map(|a| a.name.as_str()));
                nested(&nb.block, names);
            }
        }
        nested(&block, &mut names);
        assert!(
            names.contains(&"override") && names.contains(&"by"),
            "{names:?}"
        );
        for env_var in [ENV_OVERRIDES, policy::audit::config::ENV_LOG] {
            assert!(
                doc.contains(&format!("- `{env_var}` ")),
                "{env_var} undocumented"
            );
        }
        for n in names {
            assert!(
                doc.contains(&format!("- `{n}` (")),
                "{n} undocumented in {}",
                path.display()
            );
        }
    }

    #[test]
    fn data_source_list_holds_the_tier_data_source() {
        let p = DbPlatformProvider::with_env(ConfigEnv::default());
        let names: Vec<&str> = p.data_sources().iter().map(|d| d.type_name()).collect();
        assert!(names.contains(&"dbplatform_tier"), "{names:?}");
    }
}
