//! Where reports send readers for more: the project page and each embedded rule's section of the generated
//! rule reference (`make docs` writes `docs/policy-rules.md`; its `## RULE-ID` headings are the anchors).

use crate::engine::RuleMeta;

/// The project's home page (SARIF `tool.driver.informationUri`).
pub const INFORMATION_URI: &str = "https://github.com/dbplatform/dbplatform";

/// The generated rule reference.
pub const RULE_DOCS_URI: &str =
    "https://github.com/dbplatform/dbplatform/blob/main/docs/policy-rules.md";

/// The documentation page of a rule of the embedded bundle; `None` for rules from `--policy` directories,
/// which our reference does not describe (their help text comes from their own METADATA).
pub fn rule_doc(meta: &RuleMeta) -> Option<String> {
    (meta.file.starts_with("bundle/") && meta.id.starts_with("DBP-"))
        .then(|| format!("{RULE_DOCS_URI}#{}", meta.id.to_lowercase()))
}
