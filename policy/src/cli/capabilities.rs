//! `dbpolicy capabilities`: the Rego built-ins available to policies, in the shape of `opa capabilities`
//! (argument and result types are not tracked by regorus, so every operand is `any`).

use crate::cli::{emit, CapabilitiesArgs, CliError};
use crate::engine::extensions;

/// Runs `dbpolicy capabilities`.
pub fn run(a: &CapabilitiesArgs) -> Result<u8, CliError> {
    let builtins = extensions::all_builtins();
    if a.names {
        let mut s = String::new();
        for (n, _) in &builtins {
            s.push_str(n);
            s.push('\n');
        }
        emit(None, &s)?;
        return Ok(0);
    }
    let list: Vec<serde_json::Value> = builtins
        .iter()
        .map(|(name, nargs)| {
            let args: Vec<serde_json::Value> = (0..*nargs)
                .map(|_| serde_json::json!({"type": "any"}))
                .collect();
            let mut decl =
                serde_json::json!({"type": "function", "args": args, "result": {"type": "any"}});
            if name == "print" {
                decl = serde_json::json!({"type": "function", "variadic": {"type": "any"}});
            }
            serde_json::json!({"name": name, "decl": decl})
        })
        .collect();
    let doc = serde_json::json!({
        "builtins": list,
        "future_keywords": ["contains", "every", "if", "in"],
        "features": ["rego_v1_import", "rego_v0_compat"],
        "disabled": extensions::REFUSED
            .iter()
            .map(|(n, why)| serde_json::json!({"name": n, "reason": why}))
            .collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| CliError::usage(format!("cannot print capabilities: {e}")))?;
    emit(None, &format!("{text}\n"))?;
    Ok(0)
}
