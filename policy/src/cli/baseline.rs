//! `dbpolicy baseline create`: check plans as `dbpolicy check` does and write their findings as a baseline file.

use crate::cli::{BaselineCreateArgs, CheckArgs, CliError};
use crate::model::baseline;

/// Runs `dbpolicy baseline create`: always exits 0 once the file is written (the findings are the point).
pub fn create(a: &BaselineCreateArgs) -> Result<u8, CliError> {
    if a.output.is_dir() {
        return Err(CliError::usage(format!(
            "{}: -o is a directory; give the baseline file name, e.g. -o dbpolicy-baseline.yaml",
            a.output.display()
        )));
    }
    let check = CheckArgs {
        plans: a.plans.clone(),
        bundle: a.bundle.clone(),
        exceptions: a.exceptions.clone(),
        format: vec![],
        output: None,
        max_annotations: 0,
        overrides: vec![],
        reason: vec![],
        by: vec![],
        on_unknown: a.on_unknown,
        enforcement: crate::gate::EnforcementMode::Enforce,
        now: a.now.clone(),
        namespaces: a.namespaces.clone(),
        all_namespaces: a.all_namespaces,
        // Making a baseline is not a decision that counts: nothing goes to the audit log.
        audit_log: None,
        workspace: None,
        soft_fail: false,
        skip_rules: vec![],
        baseline: None,
        combine: false,
    };
    let checked = super::check::evaluate(&check, false, false)?;
    let file = baseline::from_decision(&checked.decision);
    baseline::write(&a.output, &file)?;
    eprintln!(
        "wrote {} findings to {}; use it with: dbpolicy check --baseline {} PLAN",
        file.findings.len(),
        a.output.display(),
        a.output.display()
    );
    Ok(0)
}
