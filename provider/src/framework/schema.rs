//! Schema builder: one description of a resource drives the codec, Terraform's schema and plan modifiers.

use std::collections::BTreeMap;

use super::types::Type;
use super::value::Value;

/// A per-attribute rule applied while planning, as terraform-plugin-framework's plan modifiers.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanModifier {
    /// A change to this attribute destroys and recreates the resource.
    RequiresReplace,
    /// A computed attribute keeps its prior state value instead of becoming unknown on update.
    UseStateForUnknown,
    /// Value used when the configuration leaves an optional+computed attribute null.
    Default(Value),
}

/// One attribute of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: Option<String>,
    pub plan_modifiers: Vec<PlanModifier>,
    /// Write-only (protocol 6.8, Terraform 1.11+): read from configuration at apply, never in plan or state.
    pub write_only: bool,
}

impl Attribute {
    fn new(name: &str, ty: Type, description: &str) -> Self {
        Self {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: None,
            plan_modifiers: Vec::new(),
            write_only: false,
        }
    }

    /// An attribute the configuration must set.
    pub fn required(name: &str, ty: Type, description: &str) -> Self {
        Self {
            required: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute the configuration may set.
    pub fn optional(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute only the provider sets.
    pub fn computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute the configuration may set and the provider fills when it does not.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecated = Some(message.to_string());
        self
    }

    /// Marks the attribute write-only: Terraform 1.11+ never stores it; older clients are refused at validate.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }

    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }

    pub fn default_value(mut self, v: Value) -> Self {
        self.plan_modifiers.push(PlanModifier::Default(v));
        self
    }

    pub fn has_modifier(&self, m: &PlanModifier) -> bool {
        self.plan_modifiers.iter().any(|x| x == m)
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

/// A nested block (e.g. `timeouts { ... }`).
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

/// A block: attributes plus nested blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn new(description: &str) -> Self {
        Self {
            description: description.to_string(),
            ..Default::default()
        }
    }

    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    pub fn block(mut self, type_name: &str, nesting: Nesting, block: Block) -> Self {
        let max_items = if nesting == Nesting::Single { 1 } else { 0 };
        self.blocks.push(NestedBlock {
            type_name: type_name.to_string(),
            nesting,
            block,
            min_items: 0,
            max_items,
        });
        self
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Names of the top-level write-only attributes.
    pub fn write_only_attributes(&self) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|a| a.write_only)
            .map(|a| a.name.as_str())
            .collect()
    }

    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// The object type of this block's values, as the codec needs it.
    pub fn implied_type(&self) -> Type {
        let mut fields = BTreeMap::new();
        for a in &self.attributes {
            fields.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            let inner = b.block.implied_type();
            let t = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
                Nesting::Map => Type::Map(Box::new(inner)),
            };
            fields.insert(b.type_name.clone(), t);
        }
        Type::Object(fields)
    }
}

/// A versioned schema of a resource, data source or provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Self { version, block }
    }
}
