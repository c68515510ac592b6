//! Reading the provider block: every setting with its validation, diagnostics on the attribute they concern, and
//! unknown values recorded instead of failing (see [`ProviderConfig::unknown_settings`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use policy::model::TierCatalogue;

use super::environment::{ConfigEnv, ENV_OVERRIDES};
use super::settings::{
    covers, AwsSettings, BackendKind, ConfiguredOverride, LocalSettings, PolicySettings,
    ProviderConfig, DEFAULT_MAX_RETRIES, ENFORCEMENT_ADVISORY, MAX_RETRIES_LIMIT,
};
use crate::framework::access::{self, Field};
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

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

/// Loads the exceptions file at configure time: an invalid file is an error naming the exception, the field and
/// what was expected; an exception whose resource pattern the provider can never match (a Terraform address:
/// providers are not sent addresses) is a warning naming it and the form to use.
fn check_exceptions_file(file: &Path, at: &AttributePath, diags: &mut Diagnostics) {
    match policy::model::exception::ExceptionsFile::load(file) {
        Err(e) => diags.error_at(
            at.clone(),
            "Invalid exceptions file",
            format!("policy.exceptions_file: {e}"),
        ),
        Ok(list) => {
            for e in &list {
                if let Some(why) = e.provider_mismatch() {
                    diags.warning_at(
                        at.clone(),
                        format!("Exception {} can never apply in the provider", e.id),
                        format!(
                            "{}: exception {} (rule {}): {why}.",
                            file.display(),
                            e.id,
                            e.rule
                        ),
                    );
                }
            }
        }
    }
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

/// A whole number in `range` from `local.<name>`, `default` when unset; an error naming the range otherwise.
fn whole_number(
    r: &mut Reader<'_>,
    name: &str,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
) -> u32 {
    let path = attr("local", name);
    let v = access::get_number_at(r.config, &path);
    match r.field(&path, v) {
        None => default,
        Some(n) => match n
            .as_i64()
            .and_then(|i| u32::try_from(i).ok())
            .filter(|i| range.contains(i))
        {
            Some(i) => i,
            None => {
                r.diags.error_at(
                    path,
                    "Invalid final backup retention",
                    format!(
                        "local.{name} must be a whole number from {} to {}, got {n}.",
                        range.start(),
                        range.end()
                    ),
                );
                default
            }
        },
    }
}

/// The path of attribute `name` in nested block `block` (`aws.region`).
pub(crate) fn attr(block: &str, name: &str) -> AttributePath {
    AttributePath::attr(block).join_attr(name)
}

/// Parses and validates a provider configuration value. Returns the configuration when there are no errors.
pub(crate) fn parse(
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
    let default_tags = match (&v, config.get("default_tags")) {
        // Some values unknown (from another resource): keep the known ones, record the unknown keys alone, so a
        // known literal tag still satisfies the tag guardrails at plan.
        (Ok(Field::Unknown), Value::Map(items)) => {
            let mut known = std::collections::BTreeMap::new();
            for (k, item) in items {
                match item {
                    Value::String(s) => {
                        known.insert(k.clone(), s.clone());
                    }
                    _ => {
                        r.unknown.insert(format!("default_tags.{k}"));
                    }
                }
            }
            known
        }
        _ => r.field(&tags_path, v).unwrap_or_default(),
    };

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

    let final_backups = crate::backend::local::FinalBackupRetention {
        keep: whole_number(
            &mut r,
            "final_backup_retention_count",
            1..=1000,
            crate::backend::local::DEFAULT_FINAL_BACKUP_KEEP,
        ),
        max_age_days: whole_number(
            &mut r,
            "final_backup_retention_days",
            1..=3650,
            crate::backend::local::DEFAULT_FINAL_BACKUP_MAX_AGE_DAYS,
        ),
    };
    let base_backup_wal_percent = whole_number(
        &mut r,
        "base_backup_wal_percent",
        0..=1000,
        crate::backend::local::DEFAULT_BASE_BACKUP_WAL_PERCENT,
    );

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
        } else {
            check_exceptions_file(f, &exceptions_path, &mut r.diags);
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
        local: LocalSettings {
            data_dir,
            final_backups,
            base_backup_wal_percent,
        },
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
        env: env.clone(),
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
