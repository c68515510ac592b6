//! Write-only attributes (protocol 6.8): refused when the client does not announce support (an older Terraform
//! would keep the value in plan and state), and cleared from every planned, applied, refreshed or imported value
//! (Terraform 1.11 requires them null there; the resource reads them from the configuration at apply).

use crate::framework::{AttributePath, Diagnostics, Schema, Value};
use crate::proto::tfplugin6 as pb;

/// Errors for each write-only attribute set in `config` when `caps` does not allow write-only attributes.
pub(crate) fn refuse_without_client_support(
    schema: &Schema,
    config: &Value,
    caps: Option<&pb::ClientCapabilities>,
) -> Diagnostics {
    let mut d = Diagnostics::new();
    if caps.is_some_and(|c| c.write_only_attributes_allowed) {
        return d;
    }
    for name in schema.block.write_only_attributes() {
        if !config.get(name).is_null() {
            d.error_at(
                AttributePath::attr(name),
                "Write-only argument needs Terraform 1.11 or later",
                format!(
                    "{name} is write-only: only Terraform 1.11 and later keep it out of the plan and the state, and \
                     this Terraform did not announce write-only support, so it would store the value in clear. \
                     Upgrade Terraform to 1.11 or later, or remove {name} (use the dbplatform_credentials \
                     ephemeral resource, Terraform 1.10+, for short-lived logins)."
                ),
            );
        }
    }
    d
}

/// Sets every write-only attribute of `v` to null (no-op on a null object).
pub(crate) fn clear(schema: &Schema, v: &mut Value) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    for name in schema.block.write_only_attributes() {
        v.set(name, Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Attribute, Block, Type};

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new("t")
                .attribute(Attribute::required("name", Type::String, "n"))
                .attribute(Attribute::optional("password_wo", Type::String, "p").write_only()),
        )
    }

    #[test]
    fn refused_without_the_capability_and_accepted_with_it() {
        let cfg = Value::object([
            ("name", Value::string("a")),
            ("password_wo", Value::string("s3cret")),
        ]);
        let d = refuse_without_client_support(&schema(), &cfg, None);
        let text = format!("{:?}", d.iter().collect::<Vec<_>>());
        assert!(text.contains("Terraform 1.11"), "{text}");
        assert!(
            !text.contains("s3cret"),
            "the value must not be echoed: {text}"
        );
        let caps = pb::ClientCapabilities {
            deferral_allowed: false,
            write_only_attributes_allowed: true,
        };
        assert!(refuse_without_client_support(&schema(), &cfg, Some(&caps)).is_empty());
        let unset = Value::object([("name", Value::string("a")), ("password_wo", Value::Null)]);
        assert!(refuse_without_client_support(&schema(), &unset, None).is_empty());
    }

    #[test]
    fn cleared_from_values() {
        let mut v = Value::object([
            ("name", Value::string("a")),
            ("password_wo", Value::string("s3cret")),
        ]);
        clear(&schema(), &mut v);
        assert_eq!(v.get("password_wo"), &Value::Null);
        assert_eq!(v.get("name"), &Value::string("a"));
    }
}
