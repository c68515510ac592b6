//! Registry-style reference docs generated from the schema descriptions, so `docs/` cannot drift from the code.
//!
//! Each page under `docs/resources/` and `docs/data-sources/` keeps its hand-written parts (front matter, prose,
//! Example Usage, Import, notes); only the section between [`BEGIN_MARKER`] and [`END_MARKER`] is generated, in
//! the terraform-plugin-docs layout ("Argument Reference" with Required / Optional, nested block schemas,
//! "Attribute Reference" for computed-only attributes). `gen-docs` rewrites that section, and the
//! `docs_sync` integration test fails when it is out of date.

use std::path::{Path, PathBuf};

use crate::config::ConfigEnv;
use crate::config::DbPlatformProvider;
use crate::framework::{
    Attribute, Block, DataSource, NestedBlock, Nesting, PlanModifier, Provider, Resource, Type,
    Value,
};

/// Line opening the generated section of a page.
pub const BEGIN_MARKER: &str =
    "<!-- schema:begin (generated from the provider schema by `make docs`; do not edit) -->";
/// Line closing the generated section of a page.
pub const END_MARKER: &str = "<!-- schema:end -->";
/// Prefix every type name of this provider carries; stripped for the page file name.
const TYPE_PREFIX: &str = "dbplatform_";

/// Why a page could not be generated or checked.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// A page exists but its generated-section markers are missing, repeated or out of order.
    #[error("{path}: {problem}; the page needs exactly one line `{begin}` followed later by one line `{end}` (put them where the argument reference belongs, then run `make docs`)", begin = BEGIN_MARKER, end = END_MARKER)]
    Markers { path: String, problem: String },
    /// Reading or writing a page failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Whether a page documents a resource or a data source (directory, title and wording differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Resource,
    DataSource,
    /// An ephemeral resource (Terraform 1.10+).
    Ephemeral,
}

/// One reference page: where it lives and the schema block it documents.
#[derive(Debug, Clone)]
pub struct DocPage {
    /// Terraform type name, e.g. `dbplatform_database`.
    pub type_name: String,
    pub kind: PageKind,
    /// Path relative to the `docs/` directory, e.g. `resources/database.md`.
    pub rel_path: PathBuf,
    pub block: Block,
}

impl DocPage {
    fn new(type_name: &str, kind: PageKind, block: Block) -> Self {
        let dir = match kind {
            PageKind::Resource => "resources",
            PageKind::DataSource => "data-sources",
            PageKind::Ephemeral => "ephemeral-resources",
        };
        let short = type_name.strip_prefix(TYPE_PREFIX).unwrap_or(type_name);
        Self {
            type_name: type_name.to_string(),
            kind,
            rel_path: Path::new(dir).join(format!("{short}.md")),
            block,
        }
    }

    /// The generated section of this page, markers included.
    pub fn generated_section(&self) -> String {
        format!(
            "{BEGIN_MARKER}\n{}{END_MARKER}\n",
            render_block_reference(&self.block, self.kind)
        )
    }

    /// A page for a type that has none yet: front matter, title, the schema's description, a placeholder
    /// Example Usage built from the required arguments, and the generated section.
    pub fn new_page_text(&self) -> String {
        let (what, kw) = match self.kind {
            PageKind::Resource => ("Resource", "resource"),
            PageKind::DataSource => ("Data Source", "data"),
            PageKind::Ephemeral => ("Ephemeral Resource", "ephemeral"),
        };
        let mut ex = format!("{kw} \"{}\" \"example\" {{\n", self.type_name);
        let req: Vec<&Attribute> = self
            .block
            .attributes
            .iter()
            .filter(|a| a.required)
            .collect();
        let width = req.iter().map(|a| a.name.len()).max().unwrap_or(0);
        for a in req {
            ex.push_str(&format!("  {:width$} = {}\n", a.name, placeholder(&a.ty)));
        }
        ex.push_str("}\n");
        format!(
            "---\npage_title: \"{t} {what} - dbplatform\"\nsubcategory: \"\"\ndescription: |-\n  {d}\n---\n\n# {t} ({what})\n\n{d}\n\n## Example Usage\n\n```terraform\n{ex}```\n\n{gen}",
            t = self.type_name,
            d = self.block.description,
            gen = self.generated_section(),
        )
    }

    /// `existing` with its generated section replaced by the current one.
    pub fn update(&self, existing: &str) -> Result<String, DocsError> {
        splice(
            existing,
            &self.generated_section(),
            &self.rel_path.display().to_string(),
        )
    }
}

/// Every resource and data source page of the dbplatform provider, in registration order.
pub fn provider_pages() -> Vec<DocPage> {
    let p = DbPlatformProvider::with_env(ConfigEnv::default());
    pages_of(&p)
}

/// Every resource and data source page of `provider` (separate from [`provider_pages`] for tests).
pub fn pages_of(provider: &dyn Provider) -> Vec<DocPage> {
    let res = provider.resources();
    let ds = provider.data_sources();
    let mut out: Vec<DocPage> = res
        .iter()
        .map(|r: &std::sync::Arc<dyn Resource>| {
            DocPage::new(r.type_name(), PageKind::Resource, r.schema().block)
        })
        .collect();
    out.extend(ds.iter().map(|d: &std::sync::Arc<dyn DataSource>| {
        DocPage::new(d.type_name(), PageKind::DataSource, d.schema().block)
    }));
    out.extend(
        provider
            .ephemeral_resources()
            .iter()
            .map(|e| DocPage::new(e.type_name(), PageKind::Ephemeral, e.schema().block)),
    );
    out
}

/// Replaces the text between the markers of `existing` with `section` (which carries the markers itself).
pub fn splice(existing: &str, section: &str, path: &str) -> Result<String, DocsError> {
    let err = |problem: &str| DocsError::Markers {
        path: path.to_string(),
        problem: problem.to_string(),
    };
    let lines: Vec<&str> = existing.split_inclusive('\n').collect();
    let begins: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_end() == BEGIN_MARKER)
        .collect();
    let ends: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_end() == END_MARKER)
        .collect();
    match (begins.as_slice(), ends.as_slice()) {
        ([], _) => Err(err("no begin marker")),
        (_, []) => Err(err("no end marker")),
        ([b], [e]) if b < e => {
            let mut out: String = lines[..*b].concat();
            out.push_str(section);
            out.push_str(&lines[e + 1..].concat());
            Ok(out)
        }
        ([_], [_]) => Err(err("the end marker comes before the begin marker")),
        _ => Err(err("more than one begin or end marker")),
    }
}

/// The generated section's text of an existing page (markers included), to compare with the schema.
pub fn current_section(existing: &str, path: &str) -> Result<String, DocsError> {
    // Splicing an empty section and diffing would lose the text; extract it directly instead.
    let start = existing.find(BEGIN_MARKER);
    let end = existing.find(END_MARKER);
    match (start, end) {
        (Some(s), Some(e)) if s < e => {
            let stop = e + END_MARKER.len();
            let stop = if existing[stop..].starts_with('\n') {
                stop + 1
            } else {
                stop
            };
            // Validate uniqueness the same way the writer does.
            splice(existing, "", path)?;
            Ok(existing[s..stop].to_string())
        }
        _ => splice(existing, "", path).map(|_| String::new()),
    }
}

/// The reference section of a schema block: arguments (required, then optional), computed-only attributes,
/// and a "Nested Schema" part for every nested block, in the terraform-plugin-docs layout.
pub fn render_block_reference(block: &Block, kind: PageKind) -> String {
    let mut out = String::from("## Argument Reference\n\n");
    let required: Vec<&Attribute> = block.attributes.iter().filter(|a| a.required).collect();
    let optional: Vec<&Attribute> = block
        .attributes
        .iter()
        .filter(|a| a.optional && !a.required)
        .collect();
    let req_blocks: Vec<&NestedBlock> = block.blocks.iter().filter(|b| b.min_items > 0).collect();
    let opt_blocks: Vec<&NestedBlock> = block.blocks.iter().filter(|b| b.min_items == 0).collect();
    if !required.is_empty() || !req_blocks.is_empty() {
        out.push_str("### Required\n\n");
        for a in &required {
            out.push_str(&attribute_line(a, kind));
        }
        for b in &req_blocks {
            out.push_str(&block_line(b, &[]));
        }
        out.push('\n');
    }
    if !optional.is_empty() || !opt_blocks.is_empty() {
        out.push_str("### Optional\n\n");
        for a in &optional {
            out.push_str(&attribute_line(a, kind));
        }
        for b in &opt_blocks {
            out.push_str(&block_line(b, &[]));
        }
        out.push('\n');
    }
    if required.is_empty() && optional.is_empty() && block.blocks.is_empty() {
        out.push_str("This type takes no arguments.\n\n");
    }
    let computed: Vec<&Attribute> = block
        .attributes
        .iter()
        .filter(|a| a.computed && !a.optional && !a.required)
        .collect();
    out.push_str("## Attribute Reference\n\n");
    if computed.is_empty() {
        out.push_str("This type exports no attributes besides its arguments.\n\n");
    } else {
        out.push_str("In addition to the arguments above, these attributes are exported:\n\n");
        for a in &computed {
            out.push_str(&attribute_line(a, kind));
        }
        out.push('\n');
    }
    render_nested(&block.blocks, &[], kind, &mut out);
    out
}

fn anchor(path: &[&str]) -> String {
    format!("nestedblock--{}", path.join("--"))
}

fn block_line(b: &NestedBlock, parent: &[&str]) -> String {
    let mut path = parent.to_vec();
    path.push(&b.type_name);
    let mut kind = match b.nesting {
        Nesting::Single | Nesting::Group => "Block".to_string(),
        Nesting::List => "Block List".to_string(),
        Nesting::Set => "Block Set".to_string(),
        Nesting::Map => "Block Map".to_string(),
    };
    if b.min_items > 0 {
        kind.push_str(&format!(", Min: {}", b.min_items));
    }
    if b.max_items > 0 && !matches!(b.nesting, Nesting::Single | Nesting::Group) {
        kind.push_str(&format!(", Max: {}", b.max_items));
    }
    let desc = if b.block.description.is_empty() {
        String::new()
    } else {
        format!("{} ", escape(&b.block.description))
    };
    format!(
        "- `{}` ({kind}) {desc}(see [below for nested schema](#{}))\n",
        b.type_name,
        anchor(&path)
    )
}

fn render_nested(blocks: &[NestedBlock], parent: &[&str], kind: PageKind, out: &mut String) {
    for b in blocks {
        let mut path = parent.to_vec();
        path.push(&b.type_name);
        out.push_str(&format!(
            "<a id=\"{}\"></a>\n### Nested Schema for `{}`\n\n",
            anchor(&path),
            path.join(".")
        ));
        type Pick = fn(&Attribute) -> bool;
        let groups: [(&str, Pick); 3] = [
            ("Required", |a| a.required),
            ("Optional", |a| a.optional && !a.required),
            ("Read-Only", |a| a.computed && !a.optional && !a.required),
        ];
        for (title, pick) in groups.iter() {
            let attrs: Vec<&Attribute> = b.block.attributes.iter().filter(|a| pick(a)).collect();
            let inner: Vec<&NestedBlock> = b
                .block
                .blocks
                .iter()
                .filter(|nb| match *title {
                    "Required" => nb.min_items > 0,
                    "Optional" => nb.min_items == 0,
                    _ => false,
                })
                .collect();
            if attrs.is_empty() && inner.is_empty() {
                continue;
            }
            out.push_str(&format!("{title}:\n\n"));
            for a in attrs {
                out.push_str(&attribute_line(a, kind));
            }
            for nb in inner {
                out.push_str(&block_line(nb, &path));
            }
            out.push('\n');
        }
        render_nested(&b.block.blocks, &path, kind, out);
    }
}

/// One `- \`name\` (Type, flags) description. Default: ... Forces replacement.` line.
fn attribute_line(a: &Attribute, kind: PageKind) -> String {
    let mut tags = vec![type_name(&a.ty)];
    if a.sensitive {
        tags.push("Sensitive".into());
    }
    if a.deprecated.is_some() {
        tags.push("Deprecated".into());
    }
    if a.write_only {
        tags.push("Write-only".into());
    }
    let mut text = escape(a.description.trim());
    let mut add = |s: String| {
        if !text.is_empty() && !text.ends_with('.') {
            text.push('.');
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&s);
    };
    for m in &a.plan_modifiers {
        if let PlanModifier::Default(v) = m {
            add(format!("Default: `{}`.", hcl_value(v)));
        }
    }
    // Some descriptions already say it; do not say it twice.
    let says_replace = a.description.to_lowercase().contains("forces replacement");
    if kind == PageKind::Resource && a.has_modifier(&PlanModifier::RequiresReplace) && !says_replace
    {
        add("Forces replacement.".into());
    }
    if let Some(msg) = &a.deprecated {
        add(format!("**Deprecated:** {}", escape(msg)));
    }
    format!("- `{}` ({}) {}\n", a.name, tags.join(", "), text).replace(" \n", "\n")
}

/// The terraform-plugin-docs spelling of a type: `String`, `List of String`, `Map of Number`, `Object`.
pub fn type_name(t: &Type) -> String {
    match t {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
    }
}

/// A value as it would be written in HCL (for defaults).
pub fn hcl_value(v: &Value) -> String {
    match v {
        Value::Unknown => "(known after apply)".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::Value::String(s.clone()).to_string(),
        Value::List(xs) | Value::Set(xs) => format!(
            "[{}]",
            xs.iter().map(hcl_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(m) | Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{k} = {}", hcl_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn placeholder(t: &Type) -> &'static str {
    match t {
        Type::Number => "1",
        Type::Bool => "true",
        Type::List(_) | Type::Set(_) => "[]",
        Type::Map(_) | Type::Object(_) => "{}",
        _ => "\"example\"",
    }
}

/// Escapes `<`, `>` outside code spans, so `<db_name>` is shown rather than taken for an HTML tag.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// The fenced code blocks marked `terraform` or `hcl` of a page, for checking that every example is valid HCL.
pub fn hcl_examples(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    // (text so far, indentation of the opening fence)
    let mut cur: Option<(String, usize)> = None;
    for line in page.lines() {
        let t = line.trim_start();
        match &mut cur {
            None if t.starts_with("```terraform") || t.starts_with("```hcl") => {
                cur = Some((String::new(), line.len() - t.len()))
            }
            Some((buf, _)) if t.starts_with("```") => {
                out.push(std::mem::take(buf));
                cur = None;
            }
            Some((buf, indent)) => {
                // Examples inside list items are indented like their fence; strip that indentation.
                let strip = line.len().min(*indent).min(line.len() - t.len());
                buf.push_str(&line[strip..]);
                buf.push('\n');
            }
            None => {}
        }
    }
    out
}

/// Result of regenerating the pages: which were rewritten and which were created.
#[derive(Debug, Default)]
pub struct GenReport {
    pub updated: Vec<PathBuf>,
    pub created: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
}

/// Rewrites the generated section of every page under `docs_dir`, creating missing pages.
pub fn generate(docs_dir: &Path, pages: &[DocPage]) -> Result<GenReport, DocsError> {
    let mut report = GenReport::default();
    for page in pages {
        let path = docs_dir.join(&page.rel_path);
        let io = |source| DocsError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            std::fs::write(&path, page.new_page_text()).map_err(io)?;
            report.created.push(path);
            continue;
        }
        let old = std::fs::read_to_string(&path).map_err(io)?;
        let new = page.update(&old)?;
        if new == old {
            report.unchanged.push(path);
        } else {
            std::fs::write(&path, new).map_err(io)?;
            report.updated.push(path);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Schema;

    fn sample() -> Block {
        Block::new("A thing.")
            .attribute(Attribute::computed("id", Type::String, "The id."))
            .attribute(Attribute::required("name", Type::String, "Name.").requires_replace())
            .attribute(
                Attribute::optional_computed("engine", Type::String, "Engine")
                    .default_value(Value::string("postgres")),
            )
            .attribute(
                Attribute::optional("password", Type::String, "Secret; defaults to <name>_pw.")
                    .sensitive(),
            )
            .attribute(Attribute::optional("old", Type::Bool, "").deprecated("use new"))
            .attribute(Attribute::optional(
                "tags",
                Type::Map(Box::new(Type::String)),
                "Tags.",
            ))
            .block(
                "timeouts",
                Nesting::Single,
                Block::new("").attribute(Attribute::optional(
                    "create",
                    Type::String,
                    "Default 40m.",
                )),
            )
    }

    #[test]
    fn arguments_show_type_default_replacement_and_flags() {
        let md = render_block_reference(&sample(), PageKind::Resource);
        assert!(
            md.contains("### Required\n\n- `name` (String) Name. Forces replacement.\n"),
            "{md}"
        );
        assert!(
            md.contains("- `engine` (String) Engine. Default: `\"postgres\"`.\n"),
            "{md}"
        );
        assert!(
            md.contains("- `password` (String, Sensitive) Secret; defaults to &lt;name&gt;_pw.\n"),
            "{md}"
        );
        assert!(
            md.contains("- `old` (Boolean, Deprecated) **Deprecated:** use new\n"),
            "{md}"
        );
        assert!(md.contains("- `tags` (Map of String) Tags.\n"), "{md}");
        assert!(md.contains("## Attribute Reference\n\nIn addition to the arguments above, these attributes are exported:\n\n- `id` (String) The id.\n"), "{md}");
        assert!(
            md.contains(
                "- `timeouts` (Block) (see [below for nested schema](#nestedblock--timeouts))"
            ),
            "{md}"
        );
        assert!(md.contains("<a id=\"nestedblock--timeouts\"></a>\n### Nested Schema for `timeouts`\n\nOptional:\n\n- `create` (String) Default 40m.\n"), "{md}");
        // Computed-only attributes are not arguments.
        let args = md
            .split("## Attribute Reference")
            .next()
            .unwrap_or_default();
        assert!(!args.contains("`id`"), "{md}");
    }

    #[test]
    fn data_sources_do_not_say_forces_replacement() {
        let md = render_block_reference(&sample(), PageKind::DataSource);
        assert!(!md.contains("Forces replacement"), "{md}");
    }

    #[test]
    fn splice_keeps_hand_written_text_and_replaces_the_section() {
        let page = format!("# T\n\nintro\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\n## Import\n\nx\n");
        let new = splice(
            &page,
            &format!("{BEGIN_MARKER}\nnew\n{END_MARKER}\n"),
            "p.md",
        )
        .unwrap_or_default();
        assert_eq!(
            new,
            format!("# T\n\nintro\n\n{BEGIN_MARKER}\nnew\n{END_MARKER}\n\n## Import\n\nx\n")
        );
    }

    #[test]
    fn missing_or_repeated_markers_are_errors_naming_the_page() {
        let e = splice("# T\n", "x", "resources/t.md")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("resources/t.md: no begin marker"), "{e}");
        assert!(e.contains("make docs"), "{e}");
        let twice = format!("{BEGIN_MARKER}\n{END_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}\n");
        let e = splice(&twice, "x", "a.md")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than one"), "{e}");
        let reversed = format!("{END_MARKER}\n{BEGIN_MARKER}\n");
        let e = splice(&reversed, "x", "a.md")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("before the begin marker"), "{e}");
    }

    #[test]
    fn every_registered_type_has_a_page_path() {
        let paths: Vec<String> = provider_pages()
            .iter()
            .map(|p| p.rel_path.display().to_string())
            .collect();
        for want in [
            "resources/database.md",
            "resources/parameter_group.md",
            "resources/restore_test.md",
            "data-sources/database.md",
            "data-sources/tier.md",
            "resources/role.md",
            "ephemeral-resources/credentials.md",
        ] {
            assert!(
                paths.iter().any(|p| p == want),
                "{want} missing from {paths:?}"
            );
        }
    }

    #[test]
    fn new_pages_have_an_example_with_the_required_arguments() {
        let page = DocPage::new(
            "dbplatform_thing",
            PageKind::Resource,
            Schema::new(0, sample()).block,
        );
        let text = page.new_page_text();
        assert!(text.contains("# dbplatform_thing (Resource)"), "{text}");
        let ex = hcl_examples(&text);
        assert_eq!(
            ex,
            vec![
                "resource \"dbplatform_thing\" \"example\" {\n  name = \"example\"\n}\n"
                    .to_string()
            ]
        );
        assert!(page.update(&text).is_ok_and(|t| t == text));
    }

    #[test]
    fn current_section_extracts_between_markers() {
        let page = format!("a\n{BEGIN_MARKER}\nbody\n{END_MARKER}\nz\n");
        let s = current_section(&page, "p").unwrap_or_default();
        assert_eq!(s, format!("{BEGIN_MARKER}\nbody\n{END_MARKER}\n"));
    }
}
