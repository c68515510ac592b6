//! Diagnostics and attribute paths between the framework and `tfplugin6`.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Severity, Step};
use crate::proto::tfplugin6 as pb;

/// Converts every diagnostic.
pub fn diagnostics_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diagnostic_to_proto).collect()
}

/// Converts one diagnostic; a root (empty) path is sent as no path, which Terraform shows on the whole block.
pub fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    let severity = match d.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d
            .attribute
            .as_ref()
            .filter(|p| !p.steps.is_empty())
            .map(path_to_proto),
    }
}

/// Framework path -> protocol path.
pub fn path_to_proto(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    let steps = p
        .steps
        .iter()
        .map(|s| pb::attribute_path::Step {
            selector: Some(match s {
                Step::Attribute(n) => Selector::AttributeName(n.clone()),
                Step::ElementKeyString(k) => Selector::ElementKeyString(k.clone()),
                Step::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
            }),
        })
        .collect();
    pb::AttributePath { steps }
}

/// Protocol path -> framework path; steps without a selector carry no information and are skipped.
pub fn path_from_proto(p: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    let steps = p
        .steps
        .iter()
        .filter_map(|s| match s.selector.as_ref()? {
            Selector::AttributeName(n) => Some(Step::Attribute(n.clone())),
            Selector::ElementKeyString(k) => Some(Step::ElementKeyString(k.clone())),
            Selector::ElementKeyInt(i) => Some(Step::ElementKeyInt(*i)),
        })
        .collect();
    AttributePath { steps }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_round_trip() {
        let p = AttributePath::attr("tags")
            .join_key("owner")
            .join_attr("x")
            .join_index(3);
        assert_eq!(path_from_proto(&path_to_proto(&p)), p);
    }

    #[test]
    fn severity_and_path() {
        let mut d = Diagnostics::new();
        d.error_at(
            AttributePath::attr("tier"),
            "Unknown tier",
            "Use one of: small, medium.",
        );
        d.warning("Heads up", "detail");
        let out = diagnostics_to_proto(&d);
        assert_eq!(out[0].severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(out[0].summary, "Unknown tier");
        assert_eq!(
            path_from_proto(out[0].attribute.as_ref().unwrap()),
            AttributePath::attr("tier")
        );
        assert_eq!(out[1].severity, pb::diagnostic::Severity::Warning as i32);
        assert!(out[1].attribute.is_none());
    }
}
