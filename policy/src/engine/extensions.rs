//! Built-ins dbpolicy adds to regorus (engine extensions): OPA's `crypto.*` hashes and HMACs, which regorus
//! lacks, and OPA's answer for the two built-ins where regorus 0.14 gives another shape: `graph.reachable` (a
//! set, not an array) and `json.match_schema` (`[true, []]` / `[false, [errors]]`, not `[true, null]`).
//!
//! Extensions are looked up before regorus' own built-ins, so registering `graph.reachable` replaces regorus'.

use std::collections::BTreeSet;

use anyhow::{anyhow, bail, Result};
use regorus::Value;

/// Name and argument count of every extension.
pub const EXTENSIONS: &[(&str, u8)] = &[
    ("crypto.md5", 1),
    ("crypto.sha1", 1),
    ("crypto.sha256", 1),
    ("crypto.hmac.md5", 2),
    ("crypto.hmac.sha1", 2),
    ("crypto.hmac.sha256", 2),
    ("crypto.hmac.sha512", 2),
    ("crypto.hmac.equal", 2),
    ("graph.reachable", 2),
    ("json.match_schema", 2),
    ("net.cidr_intersects", 2),
    // Deprecated in OPA 1.0 but common in v0 policies.
    ("net.cidr_overlap", 2),
    ("re_match", 2),
    ("any", 1),
    ("all", 1),
    ("set_diff", 2),
    ("cast_array", 1),
    ("cast_set", 1),
    ("cast_string", 1),
    ("cast_boolean", 1),
    ("cast_null", 1),
    ("cast_object", 1),
];

/// Built-ins regorus provides that dbpolicy turns off on purpose, with the reason shown when a module calls one.
pub const REFUSED: &[(&str, &str)] = &[(
    "http.send",
    "network access is off in dbpolicy: policies are evaluated on the plan alone (put the data in --data instead)",
)];

/// Adds every extension to `engine`.
pub fn register(engine: &mut regorus::Engine) -> Result<(), crate::engine::EngineError> {
    let add = |engine: &mut regorus::Engine,
               name: &str,
               n: u8,
               f: Box<dyn regorus::Extension>|
     -> Result<(), crate::engine::EngineError> {
        engine
            .add_extension(name.to_string(), n, f)
            .map_err(|e| crate::engine::EngineError::Rego {
                location: "<built-ins>".into(),
                message: format!("cannot add built-in {name}: {e}"),
            })
    };
    add(
        engine,
        "crypto.md5",
        1,
        Box::new(|a: Vec<Value>| hash(&a, "crypto.md5", Algo::Md5)),
    )?;
    add(
        engine,
        "crypto.sha1",
        1,
        Box::new(|a: Vec<Value>| hash(&a, "crypto.sha1", Algo::Sha1)),
    )?;
    add(
        engine,
        "crypto.sha256",
        1,
        Box::new(|a: Vec<Value>| hash(&a, "crypto.sha256", Algo::Sha256)),
    )?;
    add(
        engine,
        "crypto.hmac.md5",
        2,
        Box::new(|a: Vec<Value>| hmac(&a, "crypto.hmac.md5", Algo::Md5)),
    )?;
    add(
        engine,
        "crypto.hmac.sha1",
        2,
        Box::new(|a: Vec<Value>| hmac(&a, "crypto.hmac.sha1", Algo::Sha1)),
    )?;
    add(
        engine,
        "crypto.hmac.sha256",
        2,
        Box::new(|a: Vec<Value>| hmac(&a, "crypto.hmac.sha256", Algo::Sha256)),
    )?;
    add(
        engine,
        "crypto.hmac.sha512",
        2,
        Box::new(|a: Vec<Value>| hmac(&a, "crypto.hmac.sha512", Algo::Sha512)),
    )?;
    add(engine, "crypto.hmac.equal", 2, Box::new(hmac_equal))?;
    add(engine, "graph.reachable", 2, Box::new(graph_reachable))?;
    add(engine, "json.match_schema", 2, Box::new(json_match_schema))?;
    add(engine, "net.cidr_intersects", 2, Box::new(cidr_intersects))?;
    add(engine, "net.cidr_overlap", 2, Box::new(cidr_overlap))?;
    add(engine, "re_match", 2, Box::new(re_match))?;
    add(
        engine,
        "any",
        1,
        Box::new(|a: Vec<Value>| any_all(&a, "any", true)),
    )?;
    add(
        engine,
        "all",
        1,
        Box::new(|a: Vec<Value>| any_all(&a, "all", false)),
    )?;
    add(engine, "set_diff", 2, Box::new(set_diff))?;
    add(engine, "cast_array", 1, Box::new(cast_array))?;
    add(engine, "cast_set", 1, Box::new(cast_set))?;
    for (name, want) in [
        ("cast_string", "string"),
        ("cast_boolean", "boolean"),
        ("cast_null", "null"),
        ("cast_object", "object"),
    ] {
        add(
            engine,
            name,
            1,
            Box::new(move |a: Vec<Value>| cast_same(&a, name, want)),
        )?;
    }
    Ok(())
}

/// Whether `name` is callable: a regorus built-in that is not refused, `print`, or an extension.
pub fn is_builtin(name: &str) -> bool {
    name == "print"
        || EXTENSIONS.iter().any(|(n, _)| *n == name)
        || (regorus::unstable::BUILTINS.contains_key(name)
            && !REFUSED.iter().any(|(n, _)| *n == name))
}

/// Every available built-in with its argument count, sorted by name.
pub fn all_builtins() -> Vec<(String, u8)> {
    let mut v: Vec<(String, u8)> = regorus::unstable::BUILTINS
        .iter()
        .filter(|(n, _)| !REFUSED.iter().any(|(r, _)| r == *n))
        .map(|(n, f)| (n.to_string(), f.1))
        .collect();
    for (n, a) in EXTENSIONS {
        if !v.iter().any(|(x, _)| x == n) {
            v.push((n.to_string(), *a));
        }
    }
    v.push(("print".into(), 0));
    v.sort();
    v
}

#[derive(Clone, Copy)]
enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

fn string_arg<'a>(args: &'a [Value], i: usize, name: &str) -> Result<&'a str> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_ref()),
        Some(other) => bail!(
            "{name}: operand {} must be a string, got {}",
            i + 1,
            type_name(other)
        ),
        None => bail!("{name}: missing operand {}", i + 1),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

fn digest(algo: Algo, data: &[u8]) -> Vec<u8> {
    use sha2_v011::Digest as _;
    match algo {
        Algo::Md5 => md5::Md5::digest(data).to_vec(),
        Algo::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Algo::Sha256 => sha2_v011::Sha256::digest(data).to_vec(),
        Algo::Sha512 => sha2_v011::Sha512::digest(data).to_vec(),
    }
}

fn hash(args: &[Value], name: &str, algo: Algo) -> Result<Value> {
    let s = string_arg(args, 0, name)?;
    Ok(Value::from(crate::hex::lower(&digest(algo, s.as_bytes()))))
}

fn hmac(args: &[Value], name: &str, algo: Algo) -> Result<Value> {
    use hmac::{KeyInit, Mac};
    let msg = string_arg(args, 0, name)?.as_bytes();
    let key = string_arg(args, 1, name)?.as_bytes();
    let bad_key = |e: hmac::digest::InvalidLength| anyhow!("{name}: invalid key: {e}");
    let out = match algo {
        Algo::Md5 => {
            let mut m = hmac::Hmac::<md5::Md5>::new_from_slice(key).map_err(bad_key)?;
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        Algo::Sha1 => {
            let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(key).map_err(bad_key)?;
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        Algo::Sha256 => {
            let mut m = hmac::Hmac::<sha2_v011::Sha256>::new_from_slice(key).map_err(bad_key)?;
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        Algo::Sha512 => {
            let mut m = hmac::Hmac::<sha2_v011::Sha512>::new_from_slice(key).map_err(bad_key)?;
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
    };
    Ok(Value::from(crate::hex::lower(&out)))
}

fn hmac_equal(args: Vec<Value>) -> Result<Value> {
    let a = string_arg(&args, 0, "crypto.hmac.equal")?.as_bytes();
    let b = string_arg(&args, 1, "crypto.hmac.equal")?.as_bytes();
    // Constant time in the length of the inputs, as OPA's.
    let mut diff = a.len() ^ b.len();
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= usize::from(x ^ y);
    }
    Ok(Value::from(diff == 0))
}

/// OPA's `graph.reachable(graph, initial)`: the set of vertices reachable from `initial` (array or set),
/// following edges given as arrays or sets; vertices missing from the graph are still reachable themselves.
fn graph_reachable(args: Vec<Value>) -> Result<Value> {
    let graph = match args.first() {
        Some(Value::Object(o)) => o.clone(),
        Some(other) => bail!(
            "graph.reachable: operand 1 must be object, got {}",
            type_name(other)
        ),
        None => bail!("graph.reachable: missing operand 1"),
    };
    let mut work: Vec<Value> = match args.get(1) {
        Some(Value::Array(a)) => a.iter().cloned().collect(),
        Some(Value::Set(s)) => s.iter().cloned().collect(),
        Some(other) => bail!(
            "graph.reachable: operand 2 must be one of {{array, set}}, got {}",
            type_name(other)
        ),
        None => bail!("graph.reachable: missing operand 2"),
    };
    let mut seen: BTreeSet<Value> = BTreeSet::new();
    while let Some(v) = work.pop() {
        if !seen.insert(v.clone()) {
            continue;
        }
        match graph.get(&v) {
            Some(Value::Array(a)) => work.extend(a.iter().cloned()),
            Some(Value::Set(s)) => work.extend(s.iter().cloned()),
            _ => {}
        }
    }
    let mut out = Value::new_set();
    let set = out.as_set_mut()?;
    for v in seen {
        set.insert(v);
    }
    Ok(out)
}

/// OPA's `json.match_schema(document, schema)`: `[true, []]` when the document matches, else
/// `[false, [{"error", "type", "field", "desc"}...]]`. Either operand may be a JSON string or a value.
fn json_match_schema(args: Vec<Value>) -> Result<Value> {
    let as_json = |v: Option<&Value>, what: &str| -> Result<serde_json::Value> {
        match v {
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|e| anyhow!("json.match_schema: {what} is not valid JSON: {e}")),
            Some(v) => serde_json::from_str(&v.to_json_str()?)
                .map_err(|e| anyhow!("json.match_schema: {what}: {e}")),
            None => bail!("json.match_schema: missing {what}"),
        }
    };
    let doc = as_json(args.first(), "document")?;
    let schema = as_json(args.get(1), "schema")?;
    let validator = jsonschema_v060::validator_for(&schema)
        .map_err(|e| anyhow!("json.match_schema: invalid schema: {e}"))?;
    let mut errors: Vec<serde_json::Value> = Vec::new();
    for e in validator.iter_errors(&doc) {
        let field = e.instance_path().to_string();
        let field = field.trim_start_matches('/').replace('/', ".");
        let field = if field.is_empty() {
            "(root)".to_string()
        } else {
            field
        };
        let desc = e.to_string();
        errors.push(serde_json::json!({
            "error": format!("{field}: {desc}"),
            "type": opa_error_type(&format!("{:?}", e.kind())),
            "field": field,
            "desc": desc,
        }));
    }
    let ok = errors.is_empty();
    Ok(Value::from(serde_json::json!([ok, errors])))
}

fn net_arg(args: &[Value], i: usize, name: &str) -> Result<ipnet::IpNet> {
    let s = string_arg(args, i, name)?;
    if s.contains('/') {
        s.parse::<ipnet::IpNet>()
            .map_err(|e| anyhow!("{name}: {s} is not a CIDR: {e}"))
    } else {
        s.parse::<std::net::IpAddr>()
            .map(ipnet::IpNet::from)
            .map_err(|e| anyhow!("{name}: {s} is not an IP address: {e}"))
    }
}

/// OPA's `net.cidr_intersects(cidr1, cidr2)`: whether the two ranges share an address.
fn cidr_intersects(args: Vec<Value>) -> Result<Value> {
    let a = net_arg(&args, 0, "net.cidr_intersects")?;
    let b = net_arg(&args, 1, "net.cidr_intersects")?;
    Ok(Value::from(
        a.contains(&b.network()) || b.contains(&a.network()),
    ))
}

/// OPA's deprecated `net.cidr_overlap(cidr, ip)`: `net.cidr_contains` under its old name.
fn cidr_overlap(args: Vec<Value>) -> Result<Value> {
    let a = net_arg(&args, 0, "net.cidr_overlap")?;
    let b = net_arg(&args, 1, "net.cidr_overlap")?;
    Ok(Value::from(a.contains(&b)))
}

/// OPA's deprecated `re_match(pattern, value)`: `regex.match`.
fn re_match(args: Vec<Value>) -> Result<Value> {
    let pattern = string_arg(&args, 0, "re_match")?;
    let value = string_arg(&args, 1, "re_match")?;
    let re = regex::Regex::new(pattern).map_err(|e| anyhow!("re_match: {e}"))?;
    Ok(Value::from(re.is_match(value)))
}

fn items(v: Option<&Value>, name: &str) -> Result<Vec<Value>> {
    match v {
        Some(Value::Array(a)) => Ok(a.iter().cloned().collect()),
        Some(Value::Set(s)) => Ok(s.iter().cloned().collect()),
        Some(other) => bail!(
            "{name}: operand 1 must be one of {{array, set}}, got {}",
            type_name(other)
        ),
        None => bail!("{name}: missing operand 1"),
    }
}

/// OPA's deprecated `any(collection)` / `all(collection)` over booleans.
fn any_all(args: &[Value], name: &str, any: bool) -> Result<Value> {
    let v = items(args.first(), name)?;
    let t = Value::from(true);
    Ok(Value::from(if any {
        v.contains(&t)
    } else {
        v.iter().all(|x| *x == t)
    }))
}

fn to_set(v: Vec<Value>) -> Result<Value> {
    let mut out = Value::new_set();
    let set = out.as_set_mut()?;
    for x in v {
        set.insert(x);
    }
    Ok(out)
}

/// OPA's deprecated `set_diff(a, b)`: `a - b`.
fn set_diff(args: Vec<Value>) -> Result<Value> {
    let (Some(Value::Set(a)), Some(Value::Set(b))) = (args.first(), args.get(1)) else {
        bail!("set_diff: both operands must be sets");
    };
    to_set(a.iter().filter(|x| !b.contains(x)).cloned().collect())
}

/// OPA's deprecated `cast_array`: an array or a set as an array.
fn cast_array(args: Vec<Value>) -> Result<Value> {
    Ok(Value::from(items(args.first(), "cast_array")?))
}

/// OPA's deprecated `cast_set`: an array or a set as a set.
fn cast_set(args: Vec<Value>) -> Result<Value> {
    to_set(items(args.first(), "cast_set")?)
}

/// OPA's deprecated `cast_string`, `cast_boolean`, `cast_null`, `cast_object`: the value when it has that type.
fn cast_same(args: &[Value], name: &str, want: &str) -> Result<Value> {
    match args.first() {
        Some(v) if type_name(v) == want => Ok(v.clone()),
        Some(v) => bail!("{name}: operand 1 must be {want}, got {}", type_name(v)),
        None => bail!("{name}: missing operand 1"),
    }
}

/// gojsonschema's error type names (what OPA reports) for the validator's error kinds.
fn opa_error_type(kind_debug: &str) -> String {
    let kind = kind_debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "Type" => "invalid_type",
        "Required" => "required",
        "Enum" => "enum",
        "Constant" => "const",
        "AdditionalProperties" => "additional_property_not_allowed",
        "MinLength" => "string_gte",
        "MaxLength" => "string_lte",
        "Minimum" => "number_gte",
        "Maximum" => "number_lte",
        "ExclusiveMinimum" => "number_gt",
        "ExclusiveMaximum" => "number_lt",
        "Pattern" => "pattern",
        "MinItems" => "array_min_items",
        "MaxItems" => "array_max_items",
        "UniqueItems" => "unique",
        "Format" => "format",
        _ => return kind.to_lowercase(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(q: &str) -> serde_json::Value {
        let mut e = regorus::Engine::new();
        register(&mut e).unwrap();
        e.add_policy(
            "t.rego".into(),
            format!("package t\nimport rego.v1\nx := {q}\n"),
        )
        .unwrap();
        serde_json::to_value(e.eval_rule("data.t.x".into()).unwrap()).unwrap()
    }

    #[test]
    fn hashes_match_known_digests() {
        assert_eq!(
            eval(r#"crypto.sha256("abc")"#),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            eval(r#"crypto.md5("abc")"#),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            eval(r#"crypto.sha1("abc")"#),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            eval(r#"crypto.hmac.sha256("what do ya want for nothing?", "Jefe")"#),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(eval(r#"crypto.hmac.equal("ab", "ab")"#), true);
    }

    #[test]
    fn deprecated_v0_builtins_and_cidr_intersects() {
        assert_eq!(eval(r#"re_match("^a+$", "aaa")"#), true);
        assert_eq!(eval(r#"any([false, true])"#), true);
        assert_eq!(eval(r#"all({true, false})"#), false);
        assert_eq!(
            eval(r#"set_diff({1, 2, 3}, {2})"#),
            serde_json::json!([1, 3])
        );
        assert_eq!(
            eval(r#"cast_array({"b", "a"})"#),
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            eval(r#"net.cidr_intersects("10.0.0.0/8", "10.1.0.0/16")"#),
            true
        );
        assert_eq!(
            eval(r#"net.cidr_intersects("10.0.0.0/16", "10.1.0.0/16")"#),
            false
        );
        assert_eq!(eval(r#"net.cidr_overlap("10.0.0.0/8", "10.2.3.4")"#), true);
    }

    #[test]
    fn graph_reachable_is_a_set() {
        let v = eval(r#"graph.reachable({"a": ["b"], "b": {"c"}, "c": [], "d": ["a"]}, ["a"])"#);
        assert_eq!(v, serde_json::json!(["a", "b", "c"]));
        let mut e = regorus::Engine::new();
        register(&mut e).unwrap();
        e.add_policy(
            "t.rego".into(),
            "package t\nimport rego.v1\nx if { is_set(graph.reachable({\"a\": []}, {\"a\"})) }\n"
                .into(),
        )
        .unwrap();
        assert_eq!(e.eval_rule("data.t.x".into()).unwrap(), Value::from(true));
    }

    #[test]
    fn match_schema_has_opas_shape() {
        let schema = r#"{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}"#;
        assert_eq!(
            eval(&format!(r#"json.match_schema({{"name": "x"}}, {schema})"#)),
            serde_json::json!([true, []])
        );
        let v = eval(&format!(r#"json.match_schema({{"name": 1}}, {schema})"#));
        assert_eq!(v[0], false);
        assert_eq!(v[1][0]["field"], "name");
        assert_eq!(v[1][0]["type"], "invalid_type");
    }
}
