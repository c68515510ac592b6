//! The tier catalogue: one data file read by both the provider (tier expansion) and the rules (guardrails).

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The catalogue compiled into every binary, so a fresh install has the golden path with no files around it.
pub const EMBEDDED_TIERS_TOML: &str = include_str!("../../data/tiers.toml");

/// Why a tier catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TierError {
    #[error("cannot read tier catalogue {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("tier catalogue {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("tier catalogue {path}: {message}")]
    Invalid { path: String, message: String },
}

/// Settings one tier stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// What the tier is for, shown to users choosing one.
    pub description: String,
    pub multi_az: bool,
    pub min_backup_retention_days: u32,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
    /// Glob patterns (`*` wildcard) of instance classes allowed in this tier.
    pub allowed_instance_classes: Vec<String>,
    /// Instance class used when the configuration names none.
    pub default_instance_class: String,
    pub performance_insights: bool,
    /// Enhanced monitoring interval; 0 disables it.
    pub monitoring_interval_seconds: u32,
    pub min_tls_version: String,
    pub rpo_minutes: u32,
    pub rto_minutes: u32,
    /// Backends ("aws", "local") this tier may run on.
    pub allowed_backends: Vec<String>,
    /// Whether storage must be encrypted with a customer-managed KMS key (not the AWS-managed default).
    pub customer_managed_kms_key: bool,
    /// Longest an exception to a rule may last for a resource of this tier.
    pub max_exception_days: u32,
    /// Whether destroying or replacing a database of this tier needs a recorded override.
    pub override_required_for_destroy: bool,
    /// Whether a database of this tier must survive the loss of its region: a read replica in another region, or
    /// its automated backups replicated to another region (DBP-DR-001). Needs `dr_region`. Default false.
    #[serde(default)]
    pub cross_region_dr: bool,
    /// The AWS region the tier's backups are replicated to: `dbplatform_database` on aws expands
    /// `backup_replication_region` to it when the configuration names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dr_region: Option<String>,
    /// Longest replication lag a read replica of this tier may show (DBP-DR-003); at most the tier's RPO, since
    /// a replica further behind would lose more than the RPO when promoted. Unset: no objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_lag_objective_seconds: Option<u32>,
    /// How `DBP-MIG-*` findings count for a migration of a database of this tier (hard-mandatory for critical
    /// tiers, advisory for development); unset: each rule's own enforcement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_enforcement: Option<crate::model::decision::Enforcement>,
    /// Longest break-glass access (`dbplatform_break_glass` ttl) to a database of this tier, in hours
    /// (DBP-ACC-001): the more critical the data, the shorter an emergency login may live. Unset: break-glass
    /// access to the tier's databases is refused. At most a week (168).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_break_glass_hours: Option<u32>,
    /// Days after which a `dbplatform_database`'s master password is rotated (its
    /// `master_password_rotation_days` default): the plan after that shows a rotation, which apply carries out.
    /// Unset: no rotation unless the database asks for one. 1 to 3650.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_password_rotation_days: Option<u32>,
}

impl Tier {
    /// Whether `class` matches one of the tier's allowed patterns.
    pub fn allows_instance_class(&self, class: &str) -> bool {
        self.allowed_instance_classes
            .iter()
            .any(|p| glob_match(p, class))
    }

    /// Whether the tier may run on `backend`.
    pub fn allows_backend(&self, backend: &str) -> bool {
        self.allowed_backends.iter().any(|b| b == backend)
    }
}

/// Whether `r` looks like an AWS region name: lowercase words and a number joined by hyphens (`us-west-2`,
/// `ap-southeast-4`, `us-gov-west-1`).
pub fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `*`-only glob match, enough for instance class patterns.
fn glob_match(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((prefix, rest)) => {
            if !s.starts_with(prefix) {
                return false;
            }
            let tail = &s[prefix.len()..];
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob_match(rest, &tail[i..]))
        }
    }
}

/// All tiers by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierCatalogue {
    /// The tier a resource that declares none is held to; unset = the strictest tier (see
    /// [`TierCatalogue::default_tier`]). Rules still report the missing tier (DBP-TIER-002).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tier: Option<String>,
    pub tiers: BTreeMap<String, Tier>,
}

impl TierCatalogue {
    /// The catalogue compiled into the binary.
    pub fn embedded() -> Self {
        // The embedded file is checked by a unit test, so this cannot fail in a released binary.
        Self::from_toml_str(EMBEDDED_TIERS_TOML, "<embedded tiers.toml>")
            .unwrap_or_else(|e| panic!("embedded tier catalogue is broken: {e}"))
    }

    /// Parses a catalogue from TOML text; `origin` names the file in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, TierError> {
        let cat: TierCatalogue = toml::from_str(text).map_err(|e| TierError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        cat.check(origin)?;
        Ok(cat)
    }

    /// Loads a catalogue file: TOML, or JSON when the name ends in `.json`.
    pub fn from_file(path: &Path) -> Result<Self, TierError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TierError::Read {
            path: origin.clone(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "json") {
            let cat: TierCatalogue = serde_json::from_str(&text).map_err(|e| TierError::Parse {
                path: origin.clone(),
                message: e.to_string(),
            })?;
            cat.check(&origin)?;
            Ok(cat)
        } else {
            Self::from_toml_str(&text, &origin)
        }
    }

    fn check(&self, origin: &str) -> Result<(), TierError> {
        if self.tiers.is_empty() {
            return Err(TierError::Invalid {
                path: origin.into(),
                message: "defines no tiers; add [tiers.NAME] tables".into(),
            });
        }
        if let Some(d) = self
            .default_tier
            .as_deref()
            .filter(|d| !self.tiers.contains_key(*d))
        {
            return Err(TierError::Invalid {
                path: origin.into(),
                message: format!(
                    "default_tier {d:?} is not a tier of the catalogue; use one of {}",
                    self.names().join(", ")
                ),
            });
        }
        for (name, t) in &self.tiers {
            if !t.allows_instance_class(&t.default_instance_class) {
                return Err(TierError::Invalid {
                    path: origin.into(),
                    message: format!(
                        "tier {name}: default_instance_class {:?} is not matched by allowed_instance_classes",
                        t.default_instance_class
                    ),
                });
            }
            if let Some(h) = t.max_break_glass_hours.filter(|h| *h == 0 || *h > 168) {
                return Err(TierError::Invalid {
                    path: origin.into(),
                    message: format!(
                        "tier {name}: max_break_glass_hours {h} is out of range; use 1 to 168 hours (a week), or leave it out to refuse break-glass access to the tier"
                    ),
                });
            }
            if let Some(d) = t
                .master_password_rotation_days
                .filter(|d| *d == 0 || *d > 3650)
            {
                return Err(TierError::Invalid {
                    path: origin.into(),
                    message: format!(
                        "tier {name}: master_password_rotation_days {d} is out of range; use 1 to 3650 days, or leave it out for no scheduled rotation"
                    ),
                });
            }
            if let Some(d) = self.dr_problem(name, t) {
                return Err(TierError::Invalid {
                    path: origin.into(),
                    message: d,
                });
            }
            if let Some(b) = t
                .allowed_backends
                .iter()
                .find(|b| *b != "aws" && *b != "local")
            {
                return Err(TierError::Invalid {
                    path: origin.into(),
                    message: format!("tier {name}: unknown backend {b:?} in allowed_backends; use \"aws\" or \"local\""),
                });
            }
        }
        Ok(())
    }

    /// What is wrong with a tier's disaster-recovery fields, as a message naming the field and the fix.
    fn dr_problem(&self, name: &str, t: &Tier) -> Option<String> {
        if t.cross_region_dr && t.dr_region.is_none() {
            return Some(format!(
                "tier {name}: cross_region_dr = true needs dr_region, the region backups are replicated to (e.g. dr_region = \"us-west-2\")"
            ));
        }
        if let Some(r) = t.dr_region.as_deref().filter(|r| !is_region_name(r)) {
            return Some(format!(
                "tier {name}: dr_region {r:?} is not an AWS region name; use one like \"us-west-2\" or \"eu-central-1\""
            ));
        }
        match t.replica_lag_objective_seconds {
            Some(lag) if u64::from(lag) > u64::from(t.rpo_minutes) * 60 => Some(format!(
                "tier {name}: replica_lag_objective_seconds {lag} is above the tier's RPO ({} minutes = {} s); a promoted replica that far behind loses more than the RPO. Lower it to at most {}",
                t.rpo_minutes,
                u64::from(t.rpo_minutes) * 60,
                u64::from(t.rpo_minutes) * 60
            )),
            _ => None,
        }
    }

    /// The tier assumed for a resource that declares none: `default_tier`, else the strictest tier (customer
    /// key, Multi-AZ, deletion protection, then the longest backup retention and the most frequent monitoring;
    /// ties go to the first name), so an untiered resource is never held to less than any tier.
    pub fn default_tier(&self) -> Option<&str> {
        if let Some(t) = &self.default_tier {
            return Some(t.as_str());
        }
        self.tiers
            .iter()
            .max_by(|(an, a), (bn, b)| {
                let key = |t: &Tier| {
                    (
                        t.customer_managed_kms_key,
                        t.multi_az,
                        t.deletion_protection,
                        t.min_backup_retention_days,
                        t.monitoring_interval_seconds > 0,
                        std::cmp::Reverse(t.monitoring_interval_seconds),
                    )
                };
                key(a).cmp(&key(b)).then_with(|| bn.cmp(an))
            })
            .map(|(n, _)| n.as_str())
    }

    /// A tier by name.
    pub fn get(&self, name: &str) -> Option<&Tier> {
        self.tiers.get(name)
    }

    /// Tier names, sorted, for "valid values are ..." messages.
    pub fn names(&self) -> Vec<&str> {
        self.tiers.keys().map(String::as_str).collect()
    }

    /// The catalogue as the JSON document rules read under `data.dbplatform.tiers`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.tiers).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_loads_with_four_tiers() {
        let c = TierCatalogue::embedded();
        assert_eq!(c.names(), vec!["tier-0", "tier-1", "tier-2", "tier-3"]);
        let t0 = c.get("tier-0").unwrap();
        assert!(t0.multi_az && t0.deletion_protection);
        assert!(!t0.allows_backend("local"));
        assert!(c.get("tier-3").unwrap().allows_backend("local"));
    }

    #[test]
    fn the_default_tier_is_named_or_the_strictest() {
        let mut c = TierCatalogue::embedded();
        assert_eq!(c.default_tier(), Some("tier-0"));
        c.default_tier = None;
        assert_eq!(c.default_tier(), Some("tier-0"), "the strictest tier");
        c.tiers.remove("tier-0");
        assert_eq!(c.default_tier(), Some("tier-1"));
        let e = TierCatalogue::from_toml_str(
            &EMBEDDED_TIERS_TOML.replace("default_tier = \"tier-0\"", "default_tier = \"tier-9\""),
            "t.toml",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("default_tier \"tier-9\" is not a tier"),
            "{e}"
        );
    }

    #[test]
    fn instance_class_patterns() {
        let c = TierCatalogue::embedded();
        let t1 = c.get("tier-1").unwrap();
        assert!(t1.allows_instance_class("db.r6g.xlarge"));
        assert!(!t1.allows_instance_class("db.t3.micro"));
    }

    #[test]
    fn tier0_has_a_dr_region_and_every_tier_a_lag_objective_within_its_rpo() {
        let c = TierCatalogue::embedded();
        let t0 = c.get("tier-0").unwrap();
        assert!(t0.cross_region_dr);
        assert_eq!(t0.dr_region.as_deref(), Some("us-west-2"));
        for (name, t) in &c.tiers {
            let lag = t
                .replica_lag_objective_seconds
                .unwrap_or_else(|| panic!("{name}"));
            assert!(u64::from(lag) <= u64::from(t.rpo_minutes) * 60, "{name}");
            assert_eq!(t.cross_region_dr, name == "tier-0", "{name}");
        }
    }

    #[test]
    fn break_glass_bounds_shrink_with_criticality_and_are_checked() {
        let c = TierCatalogue::embedded();
        let hours: Vec<u32> = ["tier-0", "tier-1", "tier-2", "tier-3"]
            .iter()
            .map(|n| {
                c.get(n)
                    .and_then(|t| t.max_break_glass_hours)
                    .unwrap_or_else(|| panic!("{n}"))
            })
            .collect();
        assert!(hours.windows(2).all(|w| w[0] < w[1]), "{hours:?}");
        let e = TierCatalogue::from_toml_str(
            &EMBEDDED_TIERS_TOML
                .replace("max_break_glass_hours = 4\n", "max_break_glass_hours = 0\n"),
            "t.toml",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains(
                "tier tier-0: max_break_glass_hours 0 is out of range; use 1 to 168 hours"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_dr_fields_name_the_field_and_the_fix() {
        let e = TierCatalogue::from_toml_str(
            &EMBEDDED_TIERS_TOML.replace("dr_region = \"us-west-2\"\n", ""),
            "t.toml",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("tier tier-0: cross_region_dr = true needs dr_region"),
            "{e}"
        );
        let e = TierCatalogue::from_toml_str(
            &EMBEDDED_TIERS_TOML.replace("dr_region = \"us-west-2\"", "dr_region = \"oregon\""),
            "t.toml",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("dr_region \"oregon\" is not an AWS region name"),
            "{e}"
        );
        let e = TierCatalogue::from_toml_str(
            &EMBEDDED_TIERS_TOML.replace(
                "replica_lag_objective_seconds = 60\n",
                "replica_lag_objective_seconds = 301\n",
            ),
            "t.toml",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains(
                "replica_lag_objective_seconds 301 is above the tier's RPO (5 minutes = 300 s)"
            ),
            "{e}"
        );
        assert!(
            is_region_name("us-gov-west-1")
                && !is_region_name("us-west")
                && !is_region_name("US-west-2")
        );
    }

    #[test]
    fn bad_catalogue_names_the_problem() {
        let e = TierCatalogue::from_toml_str("[tiers.x]\nmulti_az = 3\n", "t.toml").unwrap_err();
        assert!(e.to_string().contains("t.toml"), "{e}");
        let e = TierCatalogue::from_toml_str("tiers = {}", "t.toml").unwrap_err();
        assert!(e.to_string().contains("defines no tiers"), "{e}");
    }
}
