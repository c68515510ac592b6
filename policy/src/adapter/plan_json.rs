//! `terraform show -json PLANFILE` (format 0.1, 0.2 and 1.x) -> one normalized [`Input`] per database resource.
//!
//! The plan is parsed once (it can be tens of MiB); every `resource_changes` entry of a type the policy reads
//! becomes an input, related parameter groups and replica sources are resolved inside the same plan (by name, or
//! through the `configuration` references when a name is unknown until apply), and everything else is counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::address::{self, module_config_path};
use super::normalize::{
    self, base_kind, finish_related, unresolved_group, wanted_parameter_group, RawResource,
};
use crate::model::{
    Action, Input, Kind, PlanContext, Related, RelatedParameterGroup, RelatedSource,
};

/// Why a plan file could not be read; every message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error(
        "{file}: the file is empty; write the plan with `terraform show -json PLANFILE > {file}`"
    )]
    Empty { file: String },
    #[error("{file}: not JSON: {message} at line {line} column {column}")]
    NotJson {
        file: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error(
        "{file}: the JSON ends early at line {line} column {column}: the file is truncated; write it again with `terraform show -json PLANFILE > {file}`"
    )]
    Truncated {
        file: String,
        line: usize,
        column: usize,
    },
    #[error("{file}: not a Terraform plan: {message}")]
    NotAPlan { file: String, message: String },
    #[error(
        "{file}: plan format_version {version:?} is not supported; dbpolicy reads 0.1, 0.2 and 1.x (`terraform show -json` of Terraform 0.12 or later)"
    )]
    UnsupportedFormat { file: String, version: String },
    #[error("{file}: {location}: {message}")]
    WrongType {
        file: String,
        location: String,
        message: String,
    },
}

/// Where a resource is declared, for reports that point at configuration (SARIF, GitHub annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigLocation {
    /// Module path without instance keys (`module.data`), `""` for the root module.
    pub module: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
}

/// Everything the CLI needs from one plan file.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    /// One input per database-related resource change, in plan order (empty without
    /// [`ParseOptions::keep_inputs`]).
    pub inputs: Vec<Input>,
    /// How many database-related resource changes the plan has.
    pub resources: usize,
    /// Resource changes of other types (and data sources, deposed objects): type -> count.
    pub skipped: BTreeMap<String, usize>,
    /// The whole plan, for rules written against raw plan JSON (conftest mode); with
    /// [`ParseOptions::keep_raw`] off, an object holding only the plan's `configuration` (what locations need).
    pub raw: Value,
    pub terraform_version: Option<String>,
    pub format_version: String,
    /// Input address -> where the resource is declared.
    pub locations: BTreeMap<String, ConfigLocation>,
}

/// Whether this adapter reads a plan `format_version`.
pub fn supported_format(v: &str) -> bool {
    match v {
        "0.1" | "0.2" => true,
        _ => v
            .strip_prefix("1.")
            .is_some_and(|minor| !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit())),
    }
}

/// What [`parse_plan_with`] keeps besides the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Keep the whole plan as a JSON tree in [`PlanInputs::raw`] (for rules over raw plan JSON). Without it only
    /// the plan's `configuration` is kept there: the whole tree of a large plan costs several times its size.
    pub keep_raw: bool,
    /// Keep the inputs. Without it each input is still built (and checked) but dropped at once; only
    /// [`PlanInputs::resources`] counts them (for a check with no dbplatform rules to evaluate).
    pub keep_inputs: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            keep_raw: false,
            keep_inputs: true,
        }
    }
}

/// Told which bytes of the plan text the adapter has finished reading (offsets into the text), so a caller
/// holding the text in a file mapping can give those pages back while the rest is still being read.
pub type DoneWith<'r> = &'r (dyn Fn(std::ops::Range<usize>) + Sync);

/// Parses a plan JSON file; `origin` names it in errors. Keeps the whole plan in [`PlanInputs::raw`].
pub fn parse_plan(bytes: &[u8], origin: &str) -> Result<PlanInputs, AdapterError> {
    parse_plan_with(
        bytes,
        origin,
        ParseOptions {
            keep_raw: true,
            ..ParseOptions::default()
        },
    )
}

/// Maps a serde_json error to the one-line file error.
fn json_error(e: serde_json::Error, file: &str) -> AdapterError {
    let file = file.to_string();
    if e.is_eof() {
        AdapterError::Truncated {
            file,
            line: e.line(),
            column: e.column(),
        }
    } else {
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        AdapterError::NotJson {
            file,
            message,
            line: e.line(),
            column: e.column(),
        }
    }
}

/// The error of a file the fast (borrowed) reading rejected: the full JSON tree parser's, so messages and
/// positions are those of a plain JSON parse of the file.
fn syntax_error(bytes: &[u8], file: &str, fast: serde_json::Error) -> AdapterError {
    match serde_json::from_slice::<Value>(bytes) {
        Err(e) => json_error(e, file),
        Ok(_) => json_error(fast, file),
    }
}

/// Parses one section of the plan (already checked to be JSON) into a tree.
fn section(raw: &RawValue, bytes: &[u8], file: &str) -> Result<Value, AdapterError> {
    serde_json::from_str(raw.get()).map_err(|e| syntax_error(bytes, file, e))
}

/// Parses a plan JSON file; `origin` names it in errors.
///
/// Only the sections the adapter reads are turned into JSON trees, one resource change at a time (the rest,
/// `planned_values`, `prior_state`..., is only checked to be JSON), so memory stays near the file size.
pub fn parse_plan_with(
    bytes: &[u8],
    origin: &str,
    opts: ParseOptions,
) -> Result<PlanInputs, AdapterError> {
    parse_plan_releasing(bytes, origin, opts, &|_| {})
}

/// Like [`parse_plan_with`], telling `done` which bytes it will not read again: all but the resource changes
/// once the plan's top level is read, then each run of resource changes once its inputs are built.
pub fn parse_plan_releasing(
    bytes: &[u8],
    origin: &str,
    opts: ParseOptions,
    done: DoneWith<'_>,
) -> Result<PlanInputs, AdapterError> {
    let sections = read_sections(bytes, origin, opts)?;
    match sections.changes.first().zip(sections.changes.last()) {
        Some((first, last)) => {
            done(0..span_in(bytes, first.get()).start);
            done(span_in(bytes, last.get()).end..bytes.len());
        }
        None => done(0..bytes.len()),
    }
    build_plan(sections, origin, opts, bytes, done)
}

/// Where `part` (a slice of `whole`) lies in `whole`, for [`DoneWith`].
pub(crate) fn span_in(whole: &[u8], part: &str) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    start..start + part.len()
}

/// The plan sections the adapter reads, checked; resource changes stay borrowed text of the file.
struct Sections<'a> {
    format_version: String,
    terraform_version: Option<String>,
    /// Each `resource_changes` entry as its JSON text in the file.
    changes: Vec<&'a RawValue>,
    configuration: Option<Value>,
    /// The whole plan, with [`ParseOptions::keep_raw`].
    raw: Option<Value>,
}

fn read_sections<'a>(
    bytes: &'a [u8],
    origin: &str,
    opts: ParseOptions,
) -> Result<Sections<'a>, AdapterError> {
    let file = origin.to_string();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AdapterError::Empty { file });
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let raw: Value = serde_json::from_slice(bytes).map_err(|e| json_error(e, &file))?;
        return Err(AdapterError::NotAPlan {
            file,
            message: format!("the top level is {}, not an object; expected `terraform show -json PLANFILE` output", kind_of(&raw)),
        });
    }
    // Top-level keys -> their JSON text, borrowed from `bytes` (a repeated key keeps the last, as a tree would).
    let plan: HashMap<String, &'a RawValue> =
        serde_json::from_slice(bytes).map_err(|e| syntax_error(bytes, &file, e))?;
    let get = |key: &str| -> Result<Option<Value>, AdapterError> {
        plan.get(key).map(|r| section(r, bytes, &file)).transpose()
    };
    let format_version = match get("format_version")? {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(AdapterError::WrongType {
                file,
                location: "format_version".into(),
                message: format!("must be a string, got {}", kind_of(&other)),
            })
        }
        None => {
            return Err(AdapterError::NotAPlan {
                file,
                message: "no `format_version`; expected `terraform show -json PLANFILE` output"
                    .into(),
            })
        }
    };
    if !plan.contains_key("resource_changes") && !plan.contains_key("planned_values") {
        let hint = if plan.contains_key("values") {
            "this looks like a state file (`terraform show -json` without a plan file); pass the plan: `terraform plan -out=tfplan && terraform show -json tfplan`"
        } else {
            "expected `terraform show -json PLANFILE` output"
        };
        return Err(AdapterError::NotAPlan {
            file,
            message: format!("no `resource_changes` or `planned_values`; {hint}"),
        });
    }
    if !supported_format(&format_version) {
        return Err(AdapterError::UnsupportedFormat {
            file,
            version: format_version,
        });
    }
    let terraform_version = match get("terraform_version")? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(AdapterError::WrongType {
                file,
                location: "terraform_version".into(),
                message: format!("must be a string, got {}", kind_of(&other)),
            })
        }
    };
    let changes: Vec<&'a RawValue> = match plan.get("resource_changes") {
        None => vec![],
        Some(r) if r.get().starts_with('[') => {
            serde_json::from_str(r.get()).map_err(|e| syntax_error(bytes, &file, e))?
        }
        Some(r) => match section(r, bytes, &file)? {
            Value::Null => vec![],
            other => {
                return Err(AdapterError::WrongType {
                    file,
                    location: "resource_changes".into(),
                    message: format!("must be a list, got {}", kind_of(&other)),
                })
            }
        },
    };
    let configuration = get("configuration")?;
    let raw = if opts.keep_raw {
        Some(serde_json::from_slice(bytes).map_err(|e| json_error(e, &file))?)
    } else {
        None
    };
    Ok(Sections {
        format_version,
        terraform_version,
        changes,
        configuration,
        raw,
    })
}

/// Builds the inputs from the sections (each resource change parsed on its own, its tree dropped once built).
fn build_plan(
    sections: Sections<'_>,
    origin: &str,
    opts: ParseOptions,
    bytes: &[u8],
    done: DoneWith<'_>,
) -> Result<PlanInputs, AdapterError> {
    let file = origin.to_string();
    let Sections {
        format_version,
        terraform_version,
        changes,
        configuration,
        raw,
    } = sections;
    let config = ConfigIndex::new(configuration.as_ref());
    let context = PlanContext {
        source: "plan".into(),
        terraform_version: terraform_version.clone(),
        format_version: Some(format_version.clone()),
    };

    let built = build_changes(&changes, &config, &context, &file, opts, bytes, done)?;
    drop(changes);
    let mut inputs = Vec::with_capacity(built.len());
    let mut metas = Vec::with_capacity(built.len());
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut locations = BTreeMap::new();
    let mut resources = 0;
    for b in built {
        match b {
            Built::Skipped(name) => *skipped.entry(name).or_default() += 1,
            Built::Counted => resources += 1,
            Built::Input(b) => {
                resources += 1;
                let BuiltInput {
                    input,
                    location,
                    meta,
                } = *b;
                locations.insert(input.address.clone(), location);
                metas.push(meta);
                inputs.push(input);
            }
        }
    }
    resolve_related(&mut inputs, &mut metas);
    drop(config);
    let raw = raw.unwrap_or_else(|| {
        let mut m = Map::new();
        if let Some(c) = configuration {
            m.insert("configuration".into(), c);
        }
        Value::Object(m)
    });
    Ok(PlanInputs {
        inputs,
        resources,
        skipped,
        raw,
        terraform_version,
        format_version,
        locations,
    })
}

/// What one resource change gives.
enum Built<'a> {
    /// Not a resource the policy reads: counted under this name.
    Skipped(String),
    Input(Box<BuiltInput<'a>>),
    /// An input built and dropped ([`ParseOptions::keep_inputs`] off).
    Counted,
}

struct BuiltInput<'a> {
    input: Input,
    location: ConfigLocation,
    meta: Meta<'a>,
}

/// One copy of each distinct `paths` map: resources of one type and shape all have the same one.
#[derive(Default)]
struct SharedPaths(std::collections::HashSet<std::sync::Arc<BTreeMap<String, String>>>);

impl SharedPaths {
    fn share(
        &mut self,
        paths: std::sync::Arc<BTreeMap<String, String>>,
    ) -> std::sync::Arc<BTreeMap<String, String>> {
        if let Some(existing) = self.0.get(&*paths) {
            return existing.clone();
        }
        self.0.insert(paths.clone());
        paths
    }
}

/// Resource changes built between two hand-backs of their text to [`DoneWith`].
const RELEASE_EVERY: usize = 64;

/// Resource changes per thread below which a second thread is not worth starting.
const MIN_CHANGES_PER_THREAD: usize = 256;

/// Builds every resource change, in parallel over the available cores; results keep plan order and the
/// error reported is the first in plan order.
fn build_changes<'a>(
    changes: &[&RawValue],
    config: &ConfigIndex<'a>,
    context: &PlanContext,
    file: &str,
    opts: ParseOptions,
    bytes: &[u8],
    done: DoneWith<'_>,
) -> Result<Vec<Built<'a>>, AdapterError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(changes.len().div_ceil(MIN_CHANGES_PER_THREAD))
        .max(1);
    let run = |offset: usize, part: &[&RawValue]| -> Result<Vec<Built<'a>>, AdapterError> {
        let mut shared = SharedPaths::default();
        let mut out = Vec::with_capacity(part.len());
        // This worker's text runs from its first change to its last; what it has built is handed back in runs.
        let mut unreleased = part.first().map_or(0, |rc| span_in(bytes, rc.get()).start);
        for (j, rc) in part.iter().enumerate() {
            let mut built = build_change(offset + j, rc, config, context, file)?;
            if let Built::Input(b) = &mut built {
                if opts.keep_inputs {
                    b.input.paths = shared.share(std::mem::take(&mut b.input.paths));
                } else {
                    built = Built::Counted;
                }
            }
            out.push(built);
            if (j + 1) % RELEASE_EVERY == 0 || j + 1 == part.len() {
                let end = span_in(bytes, rc.get()).end;
                done(unreleased..end);
                unreleased = end;
            }
        }
        Ok(out)
    };
    if threads == 1 {
        return run(0, changes);
    }
    let chunk = changes.len().div_ceil(threads);
    let parts: Vec<Result<Vec<Built<'a>>, AdapterError>> = std::thread::scope(|s| {
        let handles: Vec<_> = changes
            .chunks(chunk)
            .enumerate()
            .map(|(k, part)| s.spawn(move || run(k * chunk, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(AdapterError::NotAPlan {
                        file: file.to_string(),
                        message: "reading resource changes failed (a worker thread panicked)"
                            .into(),
                    })
                })
            })
            .collect()
    });
    let mut all = Vec::with_capacity(changes.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

/// One `resource_changes` entry -> its input, or the name it is skipped under.
fn build_change<'a>(
    i: usize,
    rc_text: &RawValue,
    config: &ConfigIndex<'a>,
    context: &PlanContext,
    file: &str,
) -> Result<Built<'a>, AdapterError> {
    // The whole file was read as JSON already: only a nesting deeper than the parser allows fails here.
    let mut rc: Value = serde_json::from_str(rc_text.get()).map_err(|e| json_error(e, file))?;
    // Moved out (not cloned) into the input; checked below in the same order as every other field.
    let (before, after) = match rc.get_mut("change").and_then(Value::as_object_mut) {
        Some(c) => (c.remove("before"), c.remove("after")),
        None => (None, None),
    };
    let wrong = |location: String, message: String| AdapterError::WrongType {
        file: file.to_string(),
        location,
        message,
    };
    let Some(rc) = rc.as_object() else {
        return Err(wrong(
            format!("resource_changes[{i}]"),
            format!("must be an object, got {}", kind_of(&rc)),
        ));
    };
    let addr = str_field(rc, "address").ok_or_else(|| {
        wrong(
            format!("resource_changes[{i}]"),
            "has no `address` string".into(),
        )
    })?;
    let loc = format!("resource_changes[{i}] ({addr})");
    let rtype =
        str_field(rc, "type").ok_or_else(|| wrong(loc.clone(), "has no `type` string".into()))?;
    let mode = str_field(rc, "mode").unwrap_or("managed");
    if mode == "data" {
        return Ok(Built::Skipped(format!("data.{rtype}")));
    }
    if base_kind(rtype).is_none() {
        return Ok(Built::Skipped(rtype.to_string()));
    }
    if rc.get("deposed").is_some_and(|d| !d.is_null()) {
        return Ok(Built::Skipped(format!("{rtype} (deposed)")));
    }
    let parsed = address::parse(addr);
    let name = match str_field(rc, "name") {
        Some(n) => n.to_string(),
        None => parsed
            .as_ref()
            .map(|p| p.name.clone())
            .ok_or_else(|| wrong(loc.clone(), "has no `name` string".into()))?,
    };
    let module = match str_field(rc, "module_address") {
        Some(m) => m.to_string(),
        None => parsed
            .as_ref()
            .map(|p| p.module.clone())
            .unwrap_or_default(),
    };
    let index = match rc.get("index") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.clone()),
    };
    let Some(change) = rc.get("change").and_then(Value::as_object) else {
        return Err(wrong(loc, "has no `change` object".into()));
    };
    let actions: Vec<&str> = match change.get("actions") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => {
            return Err(wrong(
                loc,
                "change.actions must be a list of strings".into(),
            ))
        }
    };
    let action = Action::from_plan_actions(&actions).ok_or_else(|| {
        wrong(
            loc.clone(),
            format!("change.actions {actions:?} is not an action Terraform plans"),
        )
    })?;
    for (key, v) in [("before", &before), ("after", &after)] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_null() && !v.is_object()) {
            return Err(wrong(
                loc,
                format!("change.{key} must be an object or null, got {}", kind_of(v)),
            ));
        }
    }
    let mut unknown = BTreeSet::new();
    if let Some(t) = change.get("after_unknown") {
        normalize::true_paths(t, "", &mut unknown);
    }
    let mut sensitive = BTreeSet::new();
    for key in ["before_sensitive", "after_sensitive"] {
        if let Some(t) = change.get(key) {
            normalize::true_paths(t, "", &mut sensitive);
        }
    }
    let cfg_module = module_config_path(&module);
    let cfg = config.resource(&cfg_module, rtype, &name);
    let provider_cfg = config.provider_for(cfg, rtype);
    let backend = if rtype.starts_with("aws_") {
        "aws".to_string()
    } else {
        provider_cfg
            .and_then(|p| p.pointer("/expressions/backend/constant_value"))
            .and_then(Value::as_str)
            .unwrap_or("aws")
            .to_string()
    };
    let raw = RawResource {
        address: addr.to_string(),
        module: module.clone(),
        resource_type: rtype.to_string(),
        name: name.clone(),
        index,
        action,
        before: before.filter(|v| !v.is_null()),
        after: after.filter(|v| !v.is_null()),
        unknown: unknown.into_iter().collect(),
        sensitive: sensitive.into_iter().collect(),
        backend,
        default_tags: provider_cfg.map(default_tags).unwrap_or_default(),
        context: context.clone(),
    };
    let input = normalize::build(raw).map_err(|m| wrong(loc.clone(), m))?;
    let lookups = Lookups::of(&input);
    Ok(Built::Input(Box::new(BuiltInput {
        input,
        location: ConfigLocation {
            module: cfg_module,
            resource_type: rtype.to_string(),
            name,
        },
        meta: Meta {
            config: cfg,
            lookups,
        },
    })))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

/// Constant default tags of a provider configuration (`default_tags { tags = {...} }` block or a map attribute).
fn default_tags(provider: &Value) -> BTreeMap<String, String> {
    let Some(dt) = provider.pointer("/expressions/default_tags") else {
        return BTreeMap::new();
    };
    let constant = match dt {
        Value::Array(blocks) => blocks
            .first()
            .and_then(|b| b.pointer("/tags/constant_value")),
        other => other.get("constant_value"),
    };
    match constant {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The plan's `configuration` section indexed by module path and resource, to read references and providers.
struct ConfigIndex<'a> {
    resources: HashMap<String, &'a Value>,
    providers: Option<&'a Map<String, Value>>,
}

impl<'a> ConfigIndex<'a> {
    fn new(config: Option<&'a Value>) -> Self {
        let mut resources = HashMap::new();
        if let Some(root) = config.and_then(|c| c.get("root_module")) {
            Self::walk(root, "", &mut resources);
        }
        let providers = config
            .and_then(|c| c.get("provider_config"))
            .and_then(Value::as_object);
        ConfigIndex {
            resources,
            providers,
        }
    }

    fn walk(module: &'a Value, path: &str, out: &mut HashMap<String, &'a Value>) {
        if let Some(rs) = module.get("resources").and_then(Value::as_array) {
            for r in rs {
                if r.get("mode").and_then(Value::as_str) == Some("data") {
                    continue;
                }
                if let (Some(t), Some(n)) = (
                    r.get("type").and_then(Value::as_str),
                    r.get("name").and_then(Value::as_str),
                ) {
                    out.insert(join(path, &format!("{t}.{n}")), r);
                }
            }
        }
        if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
            for (name, call) in calls {
                if let Some(m) = call.get("module") {
                    Self::walk(m, &join(path, &format!("module.{name}")), out);
                }
            }
        }
    }

    fn resource(&self, module_path: &str, rtype: &str, name: &str) -> Option<&'a Value> {
        self.resources
            .get(&join(module_path, &format!("{rtype}.{name}")))
            .copied()
    }

    /// The provider configuration a resource uses: its `provider_config_key`, else the root config of its provider.
    fn provider_for(&self, resource: Option<&Value>, rtype: &str) -> Option<&'a Value> {
        let providers = self.providers?;
        if let Some(key) = resource
            .and_then(|r| r.get("provider_config_key"))
            .and_then(Value::as_str)
        {
            if let Some(p) = providers.get(key) {
                return Some(p);
            }
            if let Some((_, short)) = key.rsplit_once(':') {
                if let Some(p) = providers.get(short) {
                    return Some(p);
                }
            }
        }
        let local = rtype.split('_').next().unwrap_or(rtype);
        providers.get(local)
    }
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// What related-resource resolution needs of a resource besides its input, gathered while it is built.
struct Meta<'a> {
    config: Option<&'a Value>,
    lookups: Lookups,
}

/// Lookup tables over the plan's inputs for resolving related resources.
struct Tables {
    by_base: HashMap<String, Vec<usize>>,
    by_name: HashMap<(&'static str, String), Vec<usize>>,
    /// [`Lookups`] of each input, by index.
    lookups: Vec<Lookups>,
}

fn group_class(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::ParameterGroup => Some("db"),
        Kind::ClusterParameterGroup => Some("cluster"),
        _ => None,
    }
}

/// The attributes cross-resource resolution reads by name.
const LOOKUP_KEYS: [&str; 6] = [
    "name",
    "identifier",
    "arn",
    "id",
    "cluster_identifier",
    "replicate_source_db",
];

/// The string attributes in [`LOOKUP_KEYS`] of an input (after the change, or before it on delete), read with
/// one pass over its raw text instead of one per attribute.
#[derive(Default)]
struct Lookups([Option<String>; LOOKUP_KEYS.len()]);

impl Lookups {
    fn of(input: &Input) -> Self {
        let mut out = Lookups::default();
        let Some(raw) = input.after.as_ref().or(input.before.as_ref()) else {
            return out;
        };
        let Ok(map) = serde_json::from_str::<HashMap<&str, &RawValue>>(raw.as_str()) else {
            return out;
        };
        for (slot, key) in out.0.iter_mut().zip(LOOKUP_KEYS) {
            *slot = map
                .get(key)
                .and_then(|v| serde_json::from_str::<Value>(v.get()).ok())
                .and_then(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                });
        }
        out
    }

    fn get(&self, key: &str) -> Option<&str> {
        let i = LOOKUP_KEYS.iter().position(|k| *k == key)?;
        self.0[i].as_deref()
    }
}

fn resolve_related(inputs: &mut [Input], metas: &mut [Meta]) {
    let mut t = Tables {
        by_base: HashMap::new(),
        by_name: HashMap::new(),
        lookups: metas
            .iter_mut()
            .map(|m| std::mem::take(&mut m.lookups))
            .collect(),
    };
    for (i, inp) in inputs.iter().enumerate() {
        let base = format!(
            "{}{}.{}",
            if inp.module.is_empty() {
                String::new()
            } else {
                format!("{}.", inp.module)
            },
            inp.resource_type,
            inp.name
        );
        t.by_base.entry(base).or_default().push(i);
        if inp.action == Action::Delete {
            continue;
        }
        if let Some(class) = group_class(inp.kind) {
            if let Some(n) = t.lookups[i].get("name") {
                t.by_name.entry((class, n.to_string())).or_default().push(i);
            }
        }
        match inp.resource_type.as_str() {
            "aws_db_instance" => {
                for k in ["identifier", "arn", "id"] {
                    if let Some(v) = t.lookups[i].get(k) {
                        t.by_name
                            .entry(("instance", v.to_string()))
                            .or_default()
                            .push(i);
                    }
                }
            }
            "aws_rds_cluster" => {
                for k in ["cluster_identifier", "arn", "id"] {
                    if let Some(v) = t.lookups[i].get(k) {
                        t.by_name
                            .entry(("cluster", v.to_string()))
                            .or_default()
                            .push(i);
                    }
                }
            }
            _ => {}
        }
    }
    let mut related = Vec::with_capacity(inputs.len());
    for (i, inp) in inputs.iter().enumerate() {
        related.push(related_of(inputs, i, inp, &metas[i], &t));
    }
    for (inp, rel) in inputs.iter_mut().zip(related) {
        finish_related(inp, rel);
    }
}

fn group_of(inp: &Input, look: &Lookups) -> RelatedParameterGroup {
    let unknown = inp.unknown.iter().any(|u| u == "settings.parameters");
    let parameters = inp
        .settings
        .as_ref()
        .and_then(|s| s.parameters.clone())
        .unwrap_or_default();
    RelatedParameterGroup {
        address: Some(inp.address.clone()),
        name: look.get("name").map(str::to_string),
        parameters,
        known: !unknown,
    }
}

fn source_of(inp: &Input) -> RelatedSource {
    let encrypted_unknown = inp
        .unknown
        .iter()
        .any(|u| u == "settings.storage_encrypted");
    let s = inp.settings.as_ref().or(inp.settings_before.as_ref());
    RelatedSource {
        address: inp.address.clone(),
        storage_encrypted: if encrypted_unknown {
            None
        } else {
            s.and_then(|s| s.storage_encrypted)
        },
        kms_key_id: s.and_then(|s| s.kms_key_id.clone()).flatten(),
    }
}

fn related_of(inputs: &[Input], i: usize, inp: &Input, meta: &Meta, t: &Tables) -> Related {
    let mut rel = Related::default();
    if inp.action == Action::Delete {
        return rel;
    }
    let class = match inp.kind {
        Kind::Cluster => Some(("cluster", &["aws_rds_cluster_parameter_group"][..])),
        Kind::Instance | Kind::Replica | Kind::ClusterMember => Some((
            "db",
            &["aws_db_parameter_group", "dbplatform_parameter_group"][..],
        )),
        _ => None,
    };
    if let Some((class, types)) = class {
        match wanted_parameter_group(inp) {
            None => {}
            Some(Some(name)) => match t
                .by_name
                .get(&(class, name.clone()))
                .and_then(|v| v.first())
            {
                Some(&j) => rel
                    .parameter_groups
                    .push(group_of(&inputs[j], &t.lookups[j])),
                None => rel.parameter_groups.push(unresolved_group(Some(name))),
            },
            Some(None) => {
                let attr = inp
                    .paths
                    .get("parameter_group_name")
                    .map(String::as_str)
                    .unwrap_or("parameter_group_name");
                match config_ref(meta, attr) {
                    RefLookup::NoExpression => {}
                    RefLookup::Refs(refs) => match find_ref(inputs, &refs, inp, types, t) {
                        Some(j) => rel
                            .parameter_groups
                            .push(group_of(&inputs[j], &t.lookups[j])),
                        None => rel.parameter_groups.push(unresolved_group(None)),
                    },
                    RefLookup::NoConfig => rel.parameter_groups.push(unresolved_group(None)),
                }
            }
        }
    }
    let source = match inp.kind {
        Kind::Replica => Some(("replicate_source_db", "instance", &["aws_db_instance"][..])),
        Kind::ClusterMember => Some(("cluster_identifier", "cluster", &["aws_rds_cluster"][..])),
        _ => None,
    };
    if let Some((attr, class, types)) = source {
        let found = match t.lookups[i].get(attr) {
            Some(v) if !v.is_empty() => {
                // An ARN or identifier of an instance/cluster in this plan.
                t.by_name
                    .get(&(class, v.to_string()))
                    .and_then(|c| c.iter().copied().find(|&j| j != i))
            }
            _ => None,
        };
        let found = found.or_else(|| match config_ref(meta, attr) {
            RefLookup::Refs(refs) => find_ref(inputs, &refs, inp, types, t),
            _ => None,
        });
        rel.source = found.map(|j| source_of(&inputs[j]));
    }
    rel
}

enum RefLookup {
    NoConfig,
    NoExpression,
    Refs(Vec<String>),
}

fn config_ref(meta: &Meta, attr: &str) -> RefLookup {
    let Some(cfg) = &meta.config else {
        return RefLookup::NoConfig;
    };
    match cfg.get("expressions").and_then(|e| e.get(attr)) {
        None => RefLookup::NoExpression,
        Some(expr) => RefLookup::Refs(
            expr.get("references")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        ),
    }
}

/// The input a configuration reference (`aws_db_parameter_group.pg.name`, `aws_db_instance.db[0].arn`) points at,
/// in the same module instance as the referencing resource.
fn find_ref(
    inputs: &[Input],
    refs: &[String],
    inp: &Input,
    types: &[&str],
    t: &Tables,
) -> Option<usize> {
    for r in refs {
        let Some(steps) = address::steps(r) else {
            continue;
        };
        if steps.len() < 2 || !types.contains(&steps[0]) {
            continue;
        }
        let Some((name, index)) = address::split_index(steps[1]) else {
            continue;
        };
        let base = join(&inp.module, &format!("{}.{}", steps[0], name));
        let Some(cands) = t.by_base.get(&base) else {
            continue;
        };
        let pick = match &index {
            // `aws_db_instance.db[0]`: exactly that instance.
            Some(ix) => cands
                .iter()
                .copied()
                .find(|&j| inputs[j].index.as_ref() == Some(ix)),
            // `aws_db_parameter_group.pg` from a counted resource: usually `pg[count.index]`, so the same key.
            None if cands.len() > 1 => cands
                .iter()
                .copied()
                .find(|&j| inputs[j].index == inp.index)
                .or(cands.first().copied()),
            None => cands.first().copied(),
        };
        if pick.is_some() {
            return pick;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_versions() {
        for ok in ["0.1", "0.2", "1.0", "1.2", "1.10"] {
            assert!(supported_format(ok), "{ok}");
        }
        for bad in ["0.3", "2.0", "1.", "1.x", ""] {
            assert!(!supported_format(bad), "{bad}");
        }
    }
}
