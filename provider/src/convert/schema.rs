//! Framework schema -> `tfplugin6.Schema`, in the shape Terraform's schema validation accepts.

use crate::framework::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::proto::tfplugin6 as pb;

/// Converts a versioned schema.
pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block, s.version)),
    }
}

/// Converts a block; `version` is repeated in the block as the protocol wants.
pub fn block_to_proto(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute_to_proto).collect(),
        block_types: b.blocks.iter().map(nested_block_to_proto).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Plain as i32,
        deprecated: b.deprecated,
    }
}

/// Converts an attribute; its type is the JSON type constraint (`"string"`, `["list","string"]`, ...).
pub fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    let description = match &a.deprecated {
        Some(msg) if !msg.is_empty() => {
            if a.description.is_empty() {
                format!("Deprecated: {msg}")
            } else {
                format!("{} (Deprecated: {msg})", a.description)
            }
        }
        _ => a.description.clone(),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json().to_string().into_bytes(),
        nested_type: None,
        description,
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Plain as i32,
        deprecated: a.deprecated.is_some(),
        write_only: a.write_only,
    }
}

/// Converts a nested block. Terraform rejects item limits that do not fit the nesting mode (single: both 0 or
/// both 1; group and map: both 0), so they are normalized here rather than trusted.
pub fn nested_block_to_proto(n: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let (nesting, min_items, max_items) = match n.nesting {
        Nesting::Single if n.min_items >= 1 => (NestingMode::Single, 1, 1),
        Nesting::Single => (NestingMode::Single, 0, 0),
        Nesting::Group => (NestingMode::Group, 0, 0),
        Nesting::Map => (NestingMode::Map, 0, 0),
        Nesting::List => (NestingMode::List, n.min_items.max(0), n.max_items.max(0)),
        Nesting::Set => (NestingMode::Set, n.min_items.max(0), n.max_items.max(0)),
    };
    pb::schema::NestedBlock {
        type_name: n.type_name.clone(),
        block: Some(block_to_proto(&n.block, 0)),
        nesting: nesting as i32,
        min_items,
        max_items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Type;

    #[test]
    fn attributes_blocks_and_flags() {
        let block = Block::new("A database.")
            .attribute(Attribute::required("name", Type::String, "Name."))
            .attribute(Attribute::optional_computed(
                "tags",
                Type::Map(Box::new(Type::String)),
                "Tags.",
            ))
            .attribute(Attribute::computed("password", Type::String, "Secret.").sensitive())
            .attribute(Attribute::optional("old", Type::Bool, "Old.").deprecated("use new"))
            .block("timeouts", Nesting::Single, Block::new("Timeouts."))
            .block(
                "rule",
                Nesting::List,
                Block::new("Rules.").attribute(Attribute::required("x", Type::Number, "")),
            );
        let s = schema_to_proto(&Schema::new(2, block));
        assert_eq!(s.version, 2);
        let b = s.block.unwrap();
        assert_eq!(b.version, 2);
        assert_eq!(b.description, "A database.");
        let name = &b.attributes[0];
        assert_eq!(
            (
                name.name.as_str(),
                name.required,
                name.optional,
                name.computed
            ),
            ("name", true, false, false)
        );
        assert_eq!(name.r#type, br#""string""#.to_vec());
        assert_eq!(b.attributes[1].r#type, br#"["map","string"]"#.to_vec());
        assert!(b.attributes[1].optional && b.attributes[1].computed);
        assert!(b.attributes[2].sensitive);
        assert!(b.attributes[3].deprecated);
        assert!(b.attributes[3].description.contains("Deprecated: use new"));
        let t = &b.block_types[0];
        assert_eq!(t.type_name, "timeouts");
        assert_eq!(
            t.nesting,
            pb::schema::nested_block::NestingMode::Single as i32
        );
        assert_eq!(
            (t.min_items, t.max_items),
            (0, 0),
            "single blocks: Terraform wants min == max"
        );
        let r = &b.block_types[1];
        assert_eq!(
            r.nesting,
            pb::schema::nested_block::NestingMode::List as i32
        );
        assert_eq!(
            r.block.as_ref().unwrap().attributes[0].r#type,
            br#""number""#.to_vec()
        );
    }
}
