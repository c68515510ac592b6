//! An input straight into the engine's value type: a serde `Serializer` that builds `regorus::Value`s from the
//! Rust types, keeping only the members the bundle can read ([`Selection`]). Writing each input as JSON text and
//! parsing it back was a third of evaluating a migration and much of a plan's; the value built here is the one
//! that round trip produced (same numbers, same `null`s, same skipped members: see the tests).

use std::collections::{BTreeMap, HashMap, HashSet};

use regorus::{Rc, Value};
use serde::ser::{self, Serialize};

use crate::engine::input_fields::Selection;

/// Why a value could not be converted (a map key that JSON cannot hold, or a type's own `Serialize` error).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ToValueError(String);

impl ser::Error for ToValueError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ToValueError(msg.to_string())
    }
}

/// The struct name serde_json gives a `RawValue` when serializing it.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The whole value below a member that is read whole, and inside arrays (a selection names object members).
static WHOLE: Selection = Selection::Whole;

/// Hashes a struct field name's address: a few dozen distinct `&'static str`s, looked up once per member of
/// every object converted (SipHash was 4% of a migration check).
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// Object keys built once per conversion: the same few member names repeat in every element of an array.
#[derive(Default)]
struct Keys {
    /// Struct field names, by address and length (they are `&'static str` from the derive).
    fields: HashMap<(usize, usize), Value, std::hash::BuildHasherDefault<AddressHasher>>,
    /// Map keys, by content.
    dynamic: HashSet<Rc<str>>,
}

impl Keys {
    fn field(&mut self, name: &'static str) -> Value {
        self.fields
            .entry((name.as_ptr() as usize, name.len()))
            .or_insert_with(|| Value::from(name))
            .clone()
    }

    fn dynamic(&mut self, name: String) -> Value {
        if let Some(k) = self.dynamic.get(name.as_str()) {
            return Value::String(k.clone());
        }
        let k: Rc<str> = name.into();
        self.dynamic.insert(k.clone());
        Value::String(k)
    }
}

/// `value` as the engine sees it, with only the parts `selection` names (the same as serializing it to JSON,
/// pruning that with [`Selection::prune`] and parsing the text with `regorus::Value::from_json_str`).
pub(crate) fn to_value<T: Serialize + ?Sized>(
    value: &T,
    selection: &Selection,
) -> Result<Value, ToValueError> {
    let mut keys = Keys::default();
    value.serialize(ValueSerializer {
        sel: selection,
        keys: &mut keys,
    })
}

struct ValueSerializer<'a> {
    sel: &'a Selection,
    keys: &'a mut Keys,
}

/// Which selection a member gets, or `None` when no rule can read it.
fn member<'s>(sel: &'s Selection, key: &str) -> Option<&'s Selection> {
    match sel.members() {
        None => Some(&WHOLE),
        Some(m) => m.get(key),
    }
}

/// An integer as JSON text reads back: non-negative ones as unsigned.
fn int(v: i64) -> Value {
    if v >= 0 {
        Value::from(v as u64)
    } else {
        Value::from(v)
    }
}

/// JSON has no NaN or infinity: serde_json writes them as `null`.
fn float(v: f64) -> Value {
    if v.is_finite() {
        Value::from(v)
    } else {
        Value::Null
    }
}

/// `{variant: value}`, as serde_json writes an enum's non-unit variant.
fn tagged(keys: &mut Keys, variant: &'static str, value: Value) -> Value {
    let mut m = BTreeMap::new();
    m.insert(keys.field(variant), value);
    Value::from(m)
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = Value;
    type Error = ToValueError;
    type SerializeSeq = SeqBuilder<'a>;
    type SerializeTuple = SeqBuilder<'a>;
    type SerializeTupleStruct = SeqBuilder<'a>;
    type SerializeTupleVariant = SeqBuilder<'a>;
    type SerializeMap = MapBuilder<'a>;
    type SerializeStruct = MapBuilder<'a>;
    type SerializeStructVariant = MapBuilder<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value, ToValueError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ToValueError> {
        Ok(int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ToValueError> {
        Ok(int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ToValueError> {
        Ok(int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ToValueError> {
        Ok(int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, ToValueError> {
        Ok(match i64::try_from(v) {
            Ok(v) => int(v),
            Err(_) => Value::from(v),
        })
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ToValueError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ToValueError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ToValueError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ToValueError> {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, ToValueError> {
        Ok(match u64::try_from(v) {
            Ok(v) => Value::from(v),
            Err(_) => Value::from(v),
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ToValueError> {
        Ok(float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ToValueError> {
        Ok(float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ToValueError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ToValueError> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ToValueError> {
        Ok(Value::from(
            v.iter()
                .map(|b| Value::from(u64::from(*b)))
                .collect::<Vec<_>>(),
        ))
    }
    fn serialize_none(self) -> Result<Value, ToValueError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ToValueError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ToValueError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ToValueError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ToValueError> {
        Ok(Value::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, ToValueError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ToValueError> {
        let Some(sel) = member(self.sel, variant) else {
            return Ok(Value::from(BTreeMap::new()));
        };
        let inner = value.serialize(ValueSerializer {
            sel,
            keys: &mut *self.keys,
        })?;
        Ok(tagged(self.keys, variant, inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder<'a>, ToValueError> {
        Ok(SeqBuilder {
            items: Vec::with_capacity(len.unwrap_or(0)),
            keys: self.keys,
            variant: None,
            sel: self.sel,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder<'a>, ToValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'a>, ToValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'a>, ToValueError> {
        let mut b = self.serialize_seq(Some(len))?;
        b.variant = Some(variant);
        Ok(b)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder<'a>, ToValueError> {
        Ok(MapBuilder {
            map: Vec::with_capacity(len.unwrap_or(0)),
            keys: self.keys,
            sel: self.sel,
            pending: None,
            variant: None,
            outer: self.sel,
            raw: None,
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<MapBuilder<'a>, ToValueError> {
        let mut b = self.serialize_map(Some(len))?;
        if name == RAW_VALUE_TOKEN {
            b.raw = Some(String::new());
        }
        Ok(b)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapBuilder<'a>, ToValueError> {
        let outer = self.sel;
        // The struct's members are selected below the variant's name.
        let sel = member(self.sel, variant).unwrap_or(&WHOLE);
        Ok(MapBuilder {
            map: Vec::with_capacity(len),
            keys: self.keys,
            sel,
            pending: None,
            variant: Some(variant),
            outer,
            raw: None,
        })
    }
}

/// An array (or a tuple variant's array) being built.
struct SeqBuilder<'a> {
    items: Vec<Value>,
    keys: &'a mut Keys,
    /// The variant name of a tuple variant (`{variant: [...]}`).
    variant: Option<&'static str>,
    sel: &'a Selection,
}

impl SeqBuilder<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        self.items.push(value.serialize(ValueSerializer {
            sel: &WHOLE,
            keys: &mut *self.keys,
        })?);
        Ok(())
    }

    fn finish(self) -> Result<Value, ToValueError> {
        let array = Value::from(self.items);
        Ok(match self.variant {
            None => array,
            Some(v) if member(self.sel, v).is_none() => Value::from(BTreeMap::new()),
            Some(v) => tagged(self.keys, v, array),
        })
    }
}

/// The four serde sequence traits: every element goes to [`SeqBuilder::push`], the end to its `finish`.
macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for SeqBuilder<'_> {
            type Ok = Value;
            type Error = ToValueError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
                self.push(value)
            }
            fn end(self) -> Result<Value, ToValueError> {
                self.finish()
            }
        }
    )*};
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object (a map, a struct, or a struct variant's members) being built, with only the selected members.
struct MapBuilder<'a> {
    /// The members in the order they come (built into the object at the end, in one go).
    map: Vec<(Value, Value)>,
    keys: &'a mut Keys,
    /// The selection of this object's members.
    sel: &'a Selection,
    /// The key whose value comes next (`serialize_key` then `serialize_value`), or `None` when it is not read.
    pending: Option<Option<(Value, &'a Selection)>>,
    /// The variant name of a struct variant (`{variant: {...}}`).
    variant: Option<&'static str>,
    /// The selection the variant's name is looked up in.
    outer: &'a Selection,
    /// A `serde_json::value::RawValue` (serialized as a struct holding its JSON text): the text.
    raw: Option<String>,
}

impl<'a> MapBuilder<'a> {
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ToValueError> {
        if let Some(raw) = &mut self.raw {
            *raw = value.serialize(KeySerializer)?;
            return Ok(());
        }
        let Some(sel) = member(self.sel, key) else {
            return Ok(());
        };
        let v = value.serialize(ValueSerializer {
            sel,
            keys: &mut *self.keys,
        })?;
        let k = self.keys.field(key);
        self.map.push((k, v));
        Ok(())
    }

    fn finish(self) -> Result<Value, ToValueError> {
        if let Some(raw) = &self.raw {
            // Plan attributes kept as JSON text: pruned as text, then parsed.
            let mut pruned = String::with_capacity(raw.len());
            self.sel.prune(raw, &mut pruned);
            return Value::from_json_str(&pruned).map_err(|e| ToValueError(e.to_string()));
        }
        // Sorted in one go and built in bulk, without a search per member (std keeps the last of equal keys,
        // as parsing JSON does).
        let object = Value::from(self.map.into_iter().collect::<BTreeMap<_, _>>());
        Ok(match self.variant {
            None => object,
            Some(v) if member(self.outer, v).is_none() => Value::from(BTreeMap::new()),
            Some(v) => tagged(self.keys, v, object),
        })
    }
}

impl<'a> ser::SerializeMap for MapBuilder<'a> {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ToValueError> {
        let name = key.serialize(KeySerializer)?;
        self.pending = Some(member(self.sel, &name).map(|sel| (self.keys.dynamic(name), sel)));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        match self.pending.take() {
            Some(Some((k, sel))) => {
                let v = value.serialize(ValueSerializer {
                    sel,
                    keys: &mut *self.keys,
                })?;
                self.map.push((k, v));
                Ok(())
            }
            Some(None) => Ok(()),
            None => Err(ToValueError("a map value came without its key".into())),
        }
    }
    fn end(self) -> Result<Value, ToValueError> {
        self.finish()
    }
}

/// Struct and struct-variant members go to [`MapBuilder::field`], the end to its `finish`.
macro_rules! struct_impl {
    ($($trait:ident),*) => {$(
        impl ser::$trait for MapBuilder<'_> {
            type Ok = Value;
            type Error = ToValueError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), ToValueError> {
                self.field(key, value)
            }
            fn end(self) -> Result<Value, ToValueError> {
                self.finish()
            }
        }
    )*};
}

struct_impl!(SerializeStruct, SerializeStructVariant);

/// Key serializer methods that write the value's text, as serde_json does for non-string keys.
macro_rules! key_as_text {
    ($($method:ident : $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<String, ToValueError> {
            Ok(v.to_string())
        }
    )*};
}

/// A map key as JSON writes it: strings as they are, integers, booleans and unit variants as their text.
struct KeySerializer;

impl KeySerializer {
    fn not_a_key() -> ToValueError {
        ToValueError("an object key must be a string, a number or a boolean".into())
    }
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = ToValueError;
    type SerializeSeq = ser::Impossible<String, ToValueError>;
    type SerializeTuple = ser::Impossible<String, ToValueError>;
    type SerializeTupleStruct = ser::Impossible<String, ToValueError>;
    type SerializeTupleVariant = ser::Impossible<String, ToValueError>;
    type SerializeMap = ser::Impossible<String, ToValueError>;
    type SerializeStruct = ser::Impossible<String, ToValueError>;
    type SerializeStructVariant = ser::Impossible<String, ToValueError>;

    fn serialize_f32(self, _v: f32) -> Result<String, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, ToValueError> {
        Err(Self::not_a_key())
    }
    key_as_text!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char
    );
    fn serialize_str(self, v: &str) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_none(self) -> Result<String, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, ToValueError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, ToValueError> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, ToValueError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, ToValueError> {
        Err(Self::not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ToValueError> {
        Err(Self::not_a_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_built_as_values_equal_the_whole_input_pruned_and_parsed() {
        let plan = serde_json::to_vec(&bench::generate(40, 3)).unwrap();
        let mut inputs = crate::adapter::parse_plan(&plan, "plan.json")
            .unwrap()
            .inputs;
        assert!(inputs.len() > 40);
        inputs[0].tier_assumed = true;
        // Migrations: every statement kind the fixtures hold, with their nested options and actions.
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/migrations");
        for entry in std::fs::read_dir(fixtures).unwrap() {
            let path = entry.unwrap().path();
            let sql = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let m = crate::migration::parse_migration(&name, &sql, &Default::default()).unwrap();
            inputs.push(crate::migration::to_input(m));
        }
        let all = serde_json::to_value(&inputs[0]).unwrap();
        let mut every_member: Vec<String> = all.as_object().unwrap().keys().cloned().collect();
        every_member.push("migration".into());
        assert!(every_member.contains(&"tier_assumed".to_string()));
        let sources = [
            // the default bundle's modules
            crate::bundle::default_files()
                .iter()
                .map(|f| f.content)
                .collect::<Vec<_>>()
                .join("\n"),
            // every member, one by one
            every_member
                .iter()
                .map(|m| format!("x if input.{m}\n"))
                .collect::<String>(),
            "y if input.after.parameters\nz if input.tags.owner\nw if input.nope\nv if input.migration.file\n"
                .to_string(),
            // the whole document
            "u if input\n".to_string(),
        ];
        for src in &sources {
            let sel = crate::engine::input_fields::input_selection([src.as_str()]);
            for input in &inputs {
                let mut pruned = String::new();
                sel.prune(&serde_json::to_string(input).unwrap(), &mut pruned);
                let built = to_value(input, &sel).unwrap();
                assert_eq!(
                    built,
                    regorus::Value::from_json_str(&pruned).unwrap(),
                    "{}",
                    input.address
                );
            }
        }
    }

    #[test]
    fn numbers_keys_and_enums_read_as_their_json_does() {
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            New(i32),
            Tuple(u8, f64),
            Struct { a: i64 },
        }
        #[derive(serde::Serialize)]
        struct S {
            ints: BTreeMap<i64, bool>,
            chars: BTreeMap<char, u128>,
            es: Vec<E>,
            nan: f64,
            neg: i8,
            bytes: serde_bytes_like::Bytes,
        }
        mod serde_bytes_like {
            pub struct Bytes(pub Vec<u8>);
            impl serde::Serialize for Bytes {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(&self.0)
                }
            }
        }
        let v = S {
            ints: [(-3, true), (7, false)].into_iter().collect(),
            chars: [('x', u128::from(u64::MAX) + 1)].into_iter().collect(),
            es: vec![E::Unit, E::New(-1), E::Tuple(2, 0.5), E::Struct { a: 9 }],
            nan: f64::NAN,
            neg: -4,
            bytes: serde_bytes_like::Bytes(vec![1, 255]),
        };
        let via_json = Value::from_json_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(to_value(&v, &WHOLE).unwrap(), via_json);
    }
}
