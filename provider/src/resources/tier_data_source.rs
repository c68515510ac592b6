//! `data "dbplatform_tier"`: one tier of the configured catalogue, so configurations (and modules) can read
//! the golden-path settings a tier stands for instead of copying them.

use std::sync::Arc;

use async_trait::async_trait;
use policy::model::{Tier, TierCatalogue};

use crate::config::ProviderState;
use crate::framework::access::{self, Field};
use crate::framework::{
    Attribute, AttributePath, Block, DataSource, Diagnostic, Diagnostics, ReadDataRequest,
    ReadDataResponse, Schema, Type, Value,
};

/// The `dbplatform_tier` data source.
pub struct TierDataSource {
    state: Arc<ProviderState>,
}

impl TierDataSource {
    /// The data source reading the catalogue from the provider's configuration.
    pub fn new(state: Arc<ProviderState>) -> Self {
        Self { state }
    }
}

/// Type name in configurations.
pub const TYPE_NAME: &str = "dbplatform_tier";

fn list_of_strings() -> Type {
    Type::List(Box::new(Type::String))
}

/// The data source schema: `name` in, every catalogue field out.
pub fn tier_block() -> Block {
    Block::new("Reads one tier of the dbplatform tier catalogue: the settings a database of that tier gets.")
        .attribute(Attribute::required(
            "name",
            Type::String,
            "Tier name, e.g. \"tier-1\". Must exist in the provider's tier catalogue.",
        ))
        .attribute(Attribute::computed("id", Type::String, "The tier name."))
        .attribute(Attribute::computed("description", Type::String, "What the tier is for."))
        .attribute(Attribute::computed("multi_az", Type::Bool, "Whether databases run in more than one availability zone."))
        .attribute(Attribute::computed(
            "min_backup_retention_days",
            Type::Number,
            "Minimum number of days automated backups are kept.",
        ))
        .attribute(Attribute::computed(
            "point_in_time_recovery",
            Type::Bool,
            "Whether point-in-time recovery must be possible.",
        ))
        .attribute(Attribute::computed("deletion_protection", Type::Bool, "Whether deletion protection is on."))
        .attribute(Attribute::computed(
            "allowed_instance_classes",
            list_of_strings(),
            "Instance class patterns (`*` wildcard) allowed in this tier.",
        ))
        .attribute(Attribute::computed(
            "default_instance_class",
            Type::String,
            "Instance class used when a database names none.",
        ))
        .attribute(Attribute::computed(
            "performance_insights",
            Type::Bool,
            "Whether Performance Insights is enabled.",
        ))
        .attribute(Attribute::computed(
            "monitoring_interval_seconds",
            Type::Number,
            "Enhanced monitoring interval in seconds; 0 disables it.",
        ))
        .attribute(Attribute::computed("min_tls_version", Type::String, "Lowest TLS version clients may use."))
        .attribute(Attribute::computed("rpo_minutes", Type::Number, "Recovery point objective, in minutes."))
        .attribute(Attribute::computed("rto_minutes", Type::Number, "Recovery time objective, in minutes."))
        .attribute(Attribute::computed(
            "allowed_backends",
            list_of_strings(),
            "Backends (\"aws\", \"local\") a database of this tier may run on.",
        ))
        .attribute(Attribute::computed(
            "customer_managed_kms_key",
            Type::Bool,
            "Whether storage must be encrypted with a customer-managed KMS key.",
        ))
        .attribute(Attribute::computed(
            "max_exception_days",
            Type::Number,
            "Longest a policy exception may last for a database of this tier, in days.",
        ))
        .attribute(Attribute::computed(
            "override_required_for_destroy",
            Type::Bool,
            "Whether destroying or replacing a database of this tier needs a recorded override.",
        ))
        .attribute(Attribute::computed(
            "cross_region_dr",
            Type::Bool,
            "Whether a database of this tier needs a replica or its backups in another region (DBP-DR-001).",
        ))
        .attribute(Attribute::computed(
            "dr_region",
            Type::String,
            "Region automated backups of this tier are replicated to by default (aws); null when the tier has none.",
        ))
        .attribute(Attribute::computed(
            "replica_lag_objective_seconds",
            Type::Number,
            "Longest replication lag a replica of this tier may show (DBP-DR-003); null when the tier sets none.",
        ))
        .attribute(Attribute::computed(
            "max_break_glass_hours",
            Type::Number,
            "Longest dbplatform_break_glass ttl for databases of this tier, in hours (DBP-ACC-001); null when the tier allows no break-glass access.",
        ))
}

/// The error diagnostic for a name not in `catalogue`, on the `name` attribute.
fn unknown_tier(name: &str, catalogue: &TierCatalogue) -> Diagnostic {
    Diagnostic::error(
        "Unknown tier",
        format!(
            "unknown tier {name:?}; valid tiers are {}",
            catalogue.names().join(", ")
        ),
    )
    .at(AttributePath::attr("name"))
}

/// The data source's state for one tier.
pub fn tier_value(name: &str, t: &Tier) -> Value {
    let strings = |v: &[String]| Value::List(v.iter().map(|s| Value::string(s.clone())).collect());
    let mut o = Value::Object(Default::default());
    o.set("name", Value::string(name));
    o.set("id", Value::string(name));
    o.set("description", Value::string(t.description.clone()));
    o.set("multi_az", Value::Bool(t.multi_az));
    o.set(
        "min_backup_retention_days",
        Value::int(i64::from(t.min_backup_retention_days)),
    );
    o.set(
        "point_in_time_recovery",
        Value::Bool(t.point_in_time_recovery),
    );
    o.set("deletion_protection", Value::Bool(t.deletion_protection));
    o.set(
        "allowed_instance_classes",
        strings(&t.allowed_instance_classes),
    );
    o.set(
        "default_instance_class",
        Value::string(t.default_instance_class.clone()),
    );
    o.set("performance_insights", Value::Bool(t.performance_insights));
    o.set(
        "monitoring_interval_seconds",
        Value::int(i64::from(t.monitoring_interval_seconds)),
    );
    o.set("min_tls_version", Value::string(t.min_tls_version.clone()));
    o.set("rpo_minutes", Value::int(i64::from(t.rpo_minutes)));
    o.set("rto_minutes", Value::int(i64::from(t.rto_minutes)));
    o.set("allowed_backends", strings(&t.allowed_backends));
    o.set(
        "customer_managed_kms_key",
        Value::Bool(t.customer_managed_kms_key),
    );
    o.set(
        "max_exception_days",
        Value::int(i64::from(t.max_exception_days)),
    );
    o.set(
        "override_required_for_destroy",
        Value::Bool(t.override_required_for_destroy),
    );
    o.set("cross_region_dr", Value::Bool(t.cross_region_dr));
    o.set(
        "dr_region",
        t.dr_region.clone().map_or(Value::Null, Value::string),
    );
    o.set(
        "replica_lag_objective_seconds",
        t.replica_lag_objective_seconds
            .map_or(Value::Null, |s| Value::int(i64::from(s))),
    );
    o.set(
        "max_break_glass_hours",
        t.max_break_glass_hours
            .map_or(Value::Null, |h| Value::int(i64::from(h))),
    );
    o
}

#[async_trait]
impl DataSource for TierDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(0, tier_block())
    }

    /// Checks the name against the catalogue when both are known. This runs before the provider is configured
    /// (`terraform validate`), so it uses the catalogue named by the validated provider configuration, else the
    /// embedded one, and skips the check when the catalogue file is not known yet.
    async fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        match access::get_string(config, "name") {
            Ok(Field::Known(name)) => {
                if let Some(cat) = self.state.tiers_for_validation().await {
                    if cat.get(&name).is_none() {
                        d.push(unknown_tier(&name, &cat));
                    }
                }
            }
            Ok(_) => {}
            Err(e) => d.push(e),
        }
        d
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut resp = ReadDataResponse::default();
        let cfg = match self.state.config().await {
            Ok(c) => c,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        if let Err(e) = cfg.require_known(
            &["policy.tiers_file"],
            "dbplatform_tier reads the tier catalogue",
        ) {
            resp.diagnostics.push(e);
            return resp;
        }
        let name = match access::get_string(&req.config, "name").and_then(|f| {
            f.require_known(
                &AttributePath::attr("name"),
                "the tier must be known to read it",
            )
        }) {
            Ok(Some(n)) => n,
            Ok(None) => {
                resp.diagnostics.error_at(
                    AttributePath::attr("name"),
                    "Missing tier name",
                    format!(
                        "name must be set; valid tiers are {}",
                        cfg.tiers.names().join(", ")
                    ),
                );
                return resp;
            }
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        match cfg.tiers.get(&name) {
            Some(t) => resp.state = tier_value(&name, t),
            None => resp.diagnostics.push(unknown_tier(&name, &cfg.tiers)),
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::msgpack;
    use crate::config::ProviderConfig;
    use crate::framework::planning::schema_problems;

    fn config(name: Value) -> Value {
        let mut v = Value::Object(Default::default());
        for a in &tier_block().attributes {
            v.set(&a.name, Value::Null);
        }
        v.set("name", name);
        v
    }

    fn configured() -> TierDataSource {
        TierDataSource::new(Arc::new(ProviderState::with_config(ProviderConfig::local(
            "/tmp/x".into(),
        ))))
    }

    #[test]
    fn schema_describes_every_attribute() {
        assert!(
            schema_problems(&tier_block()).is_empty(),
            "{:?}",
            schema_problems(&tier_block())
        );
    }

    #[tokio::test]
    async fn reads_tier_1_from_the_catalogue() {
        let ds = configured();
        let resp = ds
            .read(ReadDataRequest {
                config: config(Value::string("tier-1")),
            })
            .await;
        assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
        let s = &resp.state;
        assert_eq!(s.get("id"), &Value::string("tier-1"));
        assert_eq!(s.get("multi_az"), &Value::Bool(true));
        assert_eq!(s.get("min_backup_retention_days"), &Value::int(14));
        assert_eq!(
            s.get("default_instance_class"),
            &Value::string("db.m6g.large")
        );
        assert_eq!(
            s.get("allowed_backends"),
            &Value::List(vec![Value::string("aws")])
        );
        assert_eq!(s.get("max_break_glass_hours"), &Value::int(8));
        // The state has exactly the schema's attributes and encodes with its type.
        let ty = tier_block().implied_type();
        let bytes = msgpack::encode(s, &ty).unwrap();
        assert_eq!(&msgpack::decode(&bytes, &ty).unwrap(), s);
        assert!(s.is_wholly_known());
    }

    #[tokio::test]
    async fn every_catalogue_tier_reads() {
        let ds = configured();
        for name in TierCatalogue::embedded().names() {
            let resp = ds
                .read(ReadDataRequest {
                    config: config(Value::string(name)),
                })
                .await;
            assert!(
                resp.diagnostics.is_empty(),
                "{name}: {:?}",
                resp.diagnostics
            );
        }
    }

    #[tokio::test]
    async fn unknown_tier_names_the_valid_ones() {
        let ds = configured();
        let resp = ds
            .read(ReadDataRequest {
                config: config(Value::string("tier-9")),
            })
            .await;
        let d = &resp.diagnostics.0[0];
        assert_eq!(
            d.detail,
            "unknown tier \"tier-9\"; valid tiers are tier-0, tier-1, tier-2, tier-3"
        );
        assert_eq!(d.attribute, Some(AttributePath::attr("name")));
        assert!(resp.state.is_null());
    }

    #[tokio::test]
    async fn validate_checks_known_names_before_configure() {
        let ds = TierDataSource::new(Arc::new(ProviderState::new()));
        let d = ds.validate(&config(Value::string("tier-9"))).await;
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].detail,
            "unknown tier \"tier-9\"; valid tiers are tier-0, tier-1, tier-2, tier-3"
        );
        assert!(ds
            .validate(&config(Value::string("tier-0")))
            .await
            .is_empty());
        assert!(
            ds.validate(&config(Value::Unknown)).await.is_empty(),
            "unknown names are checked later"
        );
    }

    /// docs/data-sources/tier.md documents every attribute and its catalogue table matches the embedded one.
    #[test]
    fn docs_match_schema_and_catalogue() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/data-sources/tier.md");
        let doc =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for a in &tier_block().attributes {
            assert!(
                doc.contains(&format!("- `{}` (", a.name)),
                "{} undocumented in {}",
                a.name,
                path.display()
            );
        }
        let cat = TierCatalogue::embedded();
        for (name, t) in &cat.tiers {
            let row = format!(
                "| {name} | {} | {} | {} | {} | {} |",
                t.multi_az,
                t.min_backup_retention_days,
                t.deletion_protection,
                t.customer_managed_kms_key,
                t.allowed_backends.join(", ")
            );
            assert!(doc.contains(&row), "docs table lacks {row:?}");
        }
    }

    #[tokio::test]
    async fn read_before_configure_is_an_error() {
        let ds = TierDataSource::new(Arc::new(ProviderState::new()));
        let resp = ds
            .read(ReadDataRequest {
                config: config(Value::string("tier-1")),
            })
            .await;
        assert_eq!(resp.diagnostics.0[0].summary, "provider not configured");
    }

    #[tokio::test]
    async fn unknown_tiers_file_asks_for_known_values() {
        let mut cfg = ProviderConfig::local("/tmp/x".into());
        cfg.unknown_settings.insert("policy.tiers_file".into());
        let ds = TierDataSource::new(Arc::new(ProviderState::with_config(cfg)));
        let resp = ds
            .read(ReadDataRequest {
                config: config(Value::string("tier-1")),
            })
            .await;
        assert_eq!(
            resp.diagnostics.0[0].summary,
            "Provider configuration not known at plan time"
        );
        assert!(
            ds.validate(&config(Value::string("tier-9")))
                .await
                .is_empty(),
            "cannot check yet"
        );
    }
}
