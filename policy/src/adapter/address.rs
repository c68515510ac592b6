//! Terraform resource addresses (`module.a["x"].aws_db_instance.db[0]`) split into their parts.
//!
//! The provider only knows an address when Terraform tells it one, and references in the plan's `configuration`
//! are relative to a module, so both adapters need the same small parser.

use serde_json::Value;

/// The parts of a resource instance address.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceAddress {
    /// Module instance address (`module.a["x"]`), `""` for the root module.
    pub module: String,
    /// `data` for data sources, `managed` otherwise.
    pub mode: &'static str,
    pub resource_type: String,
    pub name: String,
    /// `count` index (number) or `for_each` key (string).
    pub index: Option<Value>,
}

/// Splits an address into dot-separated steps, keeping `[...]` (which may hold quoted dots) with its step.
pub fn steps(addr: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_bracket = false;
    let mut in_quote = false;
    let mut escaped = false;
    for (i, c) in addr.char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '"' if in_bracket => in_quote = true,
            '[' => in_bracket = true,
            ']' => in_bracket = false,
            '.' if !in_bracket => {
                out.push(&addr[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_bracket || in_quote {
        return None;
    }
    out.push(&addr[start..]);
    if out.iter().any(|s| s.is_empty()) {
        return None;
    }
    Some(out)
}

/// Splits `name[key]` into the name and its parsed key.
pub fn split_index(step: &str) -> Option<(&str, Option<Value>)> {
    let Some(open) = step.find('[') else {
        return Some((step, None));
    };
    let inner = step.get(open + 1..step.len().checked_sub(1)?)?;
    if !step.ends_with(']') {
        return None;
    }
    let key = if inner.starts_with('"') {
        serde_json::from_str::<String>(inner)
            .ok()
            .map(Value::String)?
    } else {
        inner.parse::<u64>().ok().map(Value::from)?
    };
    Some((&step[..open], Some(key)))
}

/// Parses a resource instance address; `None` when it is not one.
pub fn parse(addr: &str) -> Option<ResourceAddress> {
    let steps = steps(addr)?;
    let mut i = 0;
    let mut module = Vec::new();
    while i + 1 < steps.len() && steps[i] == "module" && steps.len() - i > 2 {
        module.push(format!("module.{}", steps[i + 1]));
        i += 2;
    }
    let mut mode = "managed";
    if steps.get(i) == Some(&"data") {
        mode = "data";
        i += 1;
    }
    if steps.len() != i + 2 {
        return None;
    }
    let resource_type = steps[i].to_string();
    let (name, index) = split_index(steps[i + 1])?;
    Some(ResourceAddress {
        module: module.join("."),
        mode,
        resource_type,
        name: name.to_string(),
        index,
    })
}

/// Renders an index the way Terraform writes it in addresses: `[0]` or `["eu"]`.
pub fn index_suffix(index: &Option<Value>) -> String {
    match index {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => format!("[{}]", Value::String(s.clone())),
        Some(v) => format!("[{v}]"),
    }
}

/// A module instance address without its instance keys (`module.a["x"].module.b` -> `module.a.module.b`), which is
/// how the plan's `configuration` section names modules.
pub fn module_config_path(module: &str) -> String {
    if module.is_empty() {
        return String::new();
    }
    match steps(module) {
        Some(s) => s
            .iter()
            .map(|st| split_index(st).map(|(n, _)| n).unwrap_or(st))
            .collect::<Vec<_>>()
            .join("."),
        None => module.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_nested_modules_and_keys() {
        let a = parse(r#"module.data["eu.west"].module.x.aws_db_instance.orders["a.b"]"#).unwrap();
        assert_eq!(a.module, r#"module.data["eu.west"].module.x"#);
        assert_eq!(a.resource_type, "aws_db_instance");
        assert_eq!(a.name, "orders");
        assert_eq!(a.index, Some(json!("a.b")));
        let b = parse("aws_db_instance.db[3]").unwrap();
        assert_eq!((b.module.as_str(), b.index), ("", Some(json!(3))));
        let c = parse("data.aws_db_instance.x").unwrap();
        assert_eq!(c.mode, "data");
        assert!(parse("aws_db_instance").is_none());
        assert!(parse("aws_db_instance.x[").is_none());
    }

    #[test]
    fn config_path_drops_instance_keys() {
        assert_eq!(
            module_config_path(r#"module.a["x"].module.b[0]"#),
            "module.a.module.b"
        );
        assert_eq!(index_suffix(&Some(json!("eu"))), r#"["eu"]"#);
        assert_eq!(index_suffix(&Some(json!(2))), "[2]");
    }
}
