//! Codec tests: exact wire bytes where cty fixes them, user-facing messages, and property tests (round trips of
//! random schemas and values, random and corrupted input never panicking).

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{canonical_set, json, msgpack, number_from_f64, CodecError};
use crate::framework::{AttributePath, Number, Type, Value};

fn obj(fields: &[(&str, Type)]) -> Type {
    Type::Object(
        fields
            .iter()
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect(),
    )
}

fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}

fn tags_type() -> Type {
    obj(&[
        ("name", Type::String),
        ("tags", Type::Map(Box::new(Type::String))),
    ])
}

#[test]
fn wrong_type_names_path_and_types() {
    // {"name": "a", "tags": {"owner": 7}}
    let bytes = [
        0x82, 0xa4, b'n', b'a', b'm', b'e', 0xa1, b'a', 0xa4, b't', b'a', b'g', b's', 0x81, 0xa5,
        b'o', b'w', b'n', b'e', b'r', 0x07,
    ];
    let err = msgpack::decode(&bytes, &tags_type()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at tags[\"owner\"]: expected string, got integer"
    );
    assert_eq!(
        err.path(),
        Some(&AttributePath::attr("tags").join_key("owner"))
    );

    let err = json::decode(br#"{"name": "a", "tags": {"owner": [1]}}"#, &tags_type()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at tags[\"owner\"]: expected string, got array"
    );
}

#[test]
fn unknown_attribute_is_rejected_and_missing_ones_are_null() {
    let err = json::decode(br#"{"nmae": "a"}"#, &tags_type()).unwrap_err();
    assert_eq!(err.to_string(), "at the top level: unsupported attribute \"nmae\"; this object's attributes are: name, tags");
    let err = msgpack::decode(&[0x81, 0xa1, b'x', 0xc0], &tags_type()).unwrap_err();
    assert!(
        matches!(err, CodecError::UnsupportedAttribute { ref name, .. } if name == "x"),
        "{err}"
    );

    let v = msgpack::decode(
        &[0x81, 0xa4, b'n', b'a', b'm', b'e', 0xa1, b'a'],
        &tags_type(),
    )
    .unwrap();
    assert_eq!(
        v,
        Value::object([("name", Value::string("a")), ("tags", Value::Null)])
    );
    let v = json::decode(b"{}", &tags_type()).unwrap();
    assert_eq!(
        v,
        Value::object([("name", Value::Null), ("tags", Value::Null)])
    );

    let lenient = json::DecodeOptions {
        ignore_undefined_attributes: true,
    };
    let v = json::decode_with(br#"{"name":"a","gone":1}"#, &tags_type(), lenient).unwrap();
    assert_eq!(v.get("name"), &Value::string("a"));
}

#[test]
fn decode_value_reads_parsed_json() {
    let doc = serde_json::json!({"name": "a", "tags": {"owner": "x"}, "removed_attr": true});
    let err = json::decode_value(&doc, &tags_type()).unwrap_err();
    assert!(
        matches!(err, CodecError::UnsupportedAttribute { ref name, .. } if name == "removed_attr"),
        "{err}"
    );
    let opts = json::DecodeOptions {
        ignore_undefined_attributes: true,
    };
    let v = json::decode_value_with(&doc, &tags_type(), opts).unwrap();
    assert_eq!(v.get("tags").get("owner"), &Value::string("x"));
    let n = json::decode_value(&serde_json::json!(2.5), &Type::Number).unwrap();
    assert_eq!(n, num("2.5"));
}

#[test]
fn unknown_is_cty_extension_zero() {
    assert_eq!(
        msgpack::encode(&Value::Unknown, &Type::String).unwrap(),
        vec![0xd4, 0x00, 0x00]
    );
    // Any extension (cty's refined unknowns use type 12) decodes as unknown.
    assert_eq!(
        msgpack::decode(&[0xd4, 0x00, 0x00], &Type::Number).unwrap(),
        Value::Unknown
    );
    assert_eq!(
        msgpack::decode(&[0xc7, 0x02, 0x0c, 0x81, 0x01], &Type::String).unwrap(),
        Value::Unknown
    );
    let err = json::encode(
        &Value::object([("name", Value::Unknown), ("tags", Value::Null)]),
        &tags_type(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "at name: an unknown value cannot be encoded as JSON (state must be wholly known)"
    );
}

#[test]
fn numbers_follow_cty_encoding() {
    assert_eq!(
        msgpack::encode(&Value::int(5), &Type::Number).unwrap(),
        vec![0x05]
    );
    assert_eq!(
        msgpack::encode(&Value::int(-300), &Type::Number).unwrap(),
        vec![0xd1, 0xfe, 0xd4]
    );
    let mut f = vec![0xcb];
    f.extend_from_slice(&1.5f64.to_be_bytes());
    assert_eq!(msgpack::encode(&num("1.5"), &Type::Number).unwrap(), f);
    // 0.1 is not exactly a float64: it travels as its decimal text, like cty.
    assert_eq!(
        msgpack::encode(&num("0.1"), &Type::Number).unwrap(),
        vec![0xa3, b'0', b'.', b'1']
    );
    let big = "123456789012345678901234567890.000000000000000000001";
    let bytes = msgpack::encode(&num(big), &Type::Number).unwrap();
    assert_eq!(msgpack::decode(&bytes, &Type::Number).unwrap(), num(big));
    // Decode accepts every number form.
    assert_eq!(
        msgpack::decode(
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &Type::Number
        )
        .unwrap(),
        num("18446744073709551615")
    );
    let mut f32b = vec![0xca];
    f32b.extend_from_slice(&0.25f32.to_be_bytes());
    assert_eq!(msgpack::decode(&f32b, &Type::Number).unwrap(), num("0.25"));
    let mut f64b = vec![0xcb];
    f64b.extend_from_slice(&0.1f64.to_be_bytes());
    assert_eq!(
        msgpack::decode(&f64b, &Type::Number).unwrap(),
        num("0.1000000000000000055511151231257827021181583404541015625")
    );
    let err = msgpack::decode(&[0xa3, b'a', b'b', b'c'], &Type::Number).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at the top level: expected number, got \"abc\" which is not a finite decimal number"
    );
    let mut nan = vec![0xcb];
    nan.extend_from_slice(&f64::NAN.to_be_bytes());
    assert!(msgpack::decode(&nan, &Type::Number).is_err());
}

#[test]
fn json_numbers_keep_every_digit() {
    let t = obj(&[("n", Type::Number)]);
    let v = json::decode(
        br#"{"n": 123456789012345678901234567890.123456789012345678901}"#,
        &t,
    )
    .unwrap();
    assert_eq!(
        v.get("n"),
        &num("123456789012345678901234567890.123456789012345678901")
    );
    assert_eq!(
        json::encode(&v, &t).unwrap(),
        br#"{"n":123456789012345678901234567890.123456789012345678901}"#.to_vec()
    );
    let v = json::decode(br#"{"n": "42"}"#, &t).unwrap();
    assert_eq!(v.get("n"), &Value::int(42));
    assert!(json::decode(br#"{"n": 01}"#, &t).is_err());
}

#[test]
fn sets_ignore_order_and_duplicates() {
    let t = Type::Set(Box::new(Type::String));
    let ab = msgpack::decode(&[0x92, 0xa1, b'b', 0xa1, b'a'], &t).unwrap();
    let ba = msgpack::decode(&[0x92, 0xa1, b'a', 0xa1, b'b'], &t).unwrap();
    assert_eq!(ab, ba);
    assert_eq!(ab, Value::Set(vec![Value::string("a"), Value::string("b")]));
    let dup = json::decode(br#"["a","a","b"]"#, &t).unwrap();
    assert_eq!(dup, ab);
    // Encoding sorts too, so resources may build sets in any order.
    let enc = msgpack::encode(
        &Value::Set(vec![Value::string("b"), Value::string("a")]),
        &t,
    )
    .unwrap();
    assert_eq!(enc, vec![0x92, 0xa1, b'a', 0xa1, b'b']);
    // Unknown elements are never merged.
    assert_eq!(canonical_set(vec![Value::Unknown, Value::Unknown]).len(), 2);
}

#[test]
fn dynamic_values_carry_their_type_like_cty() {
    let bytes = msgpack::encode(&Value::string("hi"), &Type::Dynamic).unwrap();
    let mut want = vec![0x92, 0xc4, 8];
    want.extend_from_slice(b"\"string\"");
    want.extend_from_slice(&[0xa2, b'h', b'i']);
    assert_eq!(bytes, want);
    assert_eq!(
        msgpack::decode(&bytes, &Type::Dynamic).unwrap(),
        Value::string("hi")
    );
    assert_eq!(
        msgpack::encode(&Value::Null, &Type::Dynamic).unwrap(),
        vec![0xc0]
    );
    assert_eq!(
        msgpack::encode(&Value::Unknown, &Type::Dynamic).unwrap(),
        vec![0xd4, 0, 0]
    );

    // A tuple from Terraform (e.g. `["a", 1]`) decodes as a list and re-encodes as the same tuple.
    let v = json::decode(
        br#"{"value": ["a", 1], "type": ["tuple", ["string", "number"]]}"#,
        &Type::Dynamic,
    )
    .unwrap();
    assert_eq!(v, Value::List(vec![Value::string("a"), Value::int(1)]));
    assert_eq!(
        json::encode(&v, &Type::Dynamic).unwrap(),
        br#"{"value":["a",1],"type":["tuple",["string","number"]]}"#.to_vec()
    );
    let err = json::decode(br#"{"value": 1}"#, &Type::Dynamic).unwrap_err();
    assert!(
        err.to_string()
            .contains("both \"value\" and \"type\" are required"),
        "{err}"
    );
}

#[test]
fn dynamic_inference_keeps_really_different_elements_apart() {
    // Found by the property test: a set whose elements differ in type is `set(dynamic)`, which must not
    // unify with a sibling `set(string)` (the list holding both becomes a tuple).
    let v = Value::List(vec![
        Value::Set(vec![Value::string("")]),
        Value::Set(canonical_set(vec![Value::string(""), Value::List(vec![])])),
    ]);
    for ty in [Type::Dynamic, Type::List(Box::new(Type::Dynamic))] {
        let wrapped = if ty == Type::Dynamic {
            v.clone()
        } else {
            Value::List(vec![v.clone()])
        };
        let bytes = msgpack::encode(&wrapped, &ty).unwrap();
        assert_eq!(msgpack::decode(&bytes, &ty).unwrap(), wrapped);
        let bytes = json::encode(&wrapped, &ty).unwrap();
        assert_eq!(json::decode(&bytes, &ty).unwrap(), wrapped);
    }
    // Nulls and empty collections constrain nothing: `[[], ["a"], null]` is a list of lists of strings.
    let v = Value::List(vec![
        Value::List(vec![]),
        Value::List(vec![Value::string("a")]),
        Value::Null,
    ]);
    assert_eq!(
        super::infer_type(&v),
        Type::List(Box::new(Type::List(Box::new(Type::String))))
    );
}

#[test]
fn malformed_input_is_an_error() {
    let t = tags_type();
    let full = msgpack::encode(
        &Value::object([("name", Value::string("abc")), ("tags", Value::Null)]),
        &t,
    )
    .unwrap();
    for cut in 0..full.len() {
        let err = msgpack::decode(&full[..cut], &t).unwrap_err();
        assert!(
            matches!(err, CodecError::MalformedMsgpack { .. }),
            "cut {cut}: {err}"
        );
    }
    let mut trailing = full.clone();
    trailing.push(0xc0);
    assert_eq!(
        msgpack::decode(&trailing, &t).unwrap_err(),
        CodecError::TrailingData { count: 1 }
    );
    // Deep nesting is refused, not a stack overflow.
    let deep = vec![0x91u8; 100_000];
    assert!(msgpack::decode(&deep, &Type::Dynamic).is_err());
    let deep_json = "[".repeat(100_000);
    assert!(json::decode(deep_json.as_bytes(), &Type::Dynamic).is_err());
    let err = json::decode(b"{\"name\": \"a\"", &t).unwrap_err();
    assert!(
        err.to_string().starts_with("malformed JSON at byte 12"),
        "{err}"
    );
}

#[test]
fn encode_rejects_values_that_do_not_fit_the_type() {
    let t = tags_type();
    let err = msgpack::encode(&Value::object([("name", Value::int(1))]), &t).unwrap_err();
    assert_eq!(err.to_string(), "at name: expected string, got number");
    let err = msgpack::encode(&Value::object([("extra", Value::int(1))]), &t).unwrap_err();
    assert!(
        matches!(err, CodecError::UnsupportedAttribute { .. }),
        "{err}"
    );
}

#[test]
fn json_strings_round_trip_unicode_and_escapes() {
    let s = "quote\" back\\ nl\n tab\t ctl\u{1} emoji \u{1F600} é";
    let bytes = json::encode(&Value::string(s), &Type::String).unwrap();
    assert_eq!(
        json::decode(&bytes, &Type::String).unwrap(),
        Value::string(s)
    );
    assert_eq!(
        json::decode(br#""\ud83d\ude00""#, &Type::String).unwrap(),
        Value::string("\u{1F600}")
    );
    assert!(json::decode(br#""\ud83d""#, &Type::String).is_err());
}

// ---------- property tests ----------

fn type_strategy() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic)
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Type::List(Box::new(t))),
            inner.clone().prop_map(|t| Type::Set(Box::new(t))),
            inner.clone().prop_map(|t| Type::Map(Box::new(t))),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4).prop_map(Type::Object),
        ]
    })
}

fn number_strategy() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", number_from_f64),
        "-?[1-9][0-9]{18,40}(\\.[0-9]{1,30})?".prop_filter_map("decimal", |s| Number::parse(&s)),
        "-?0\\.[0-9]{1,25}".prop_filter_map("decimal", |s| Number::parse(&s)),
    ]
}

fn known_value(ty: &Type, unknowns: bool, depth: u32) -> BoxedStrategy<Value> {
    match ty {
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => number_strategy().prop_map(Value::Number).boxed(),
        Type::List(e) => prop::collection::vec(value_of(e, unknowns, depth), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(value_of(e, unknowns, depth), 0..4)
            .prop_map(|v| Value::Set(canonical_set(v)))
            .boxed(),
        Type::Map(e) => {
            prop::collection::btree_map("\\PC{0,6}", value_of(e, unknowns, depth), 0..4)
                .prop_map(Value::Map)
                .boxed()
        }
        Type::Object(fields) => {
            let parts: Vec<BoxedStrategy<(String, Value)>> = fields
                .iter()
                .map(|(k, t)| {
                    let k = k.clone();
                    value_of(t, unknowns, depth)
                        .prop_map(move |v| (k.clone(), v))
                        .boxed()
                })
                .collect();
            parts
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<BTreeMap<_, _>>()))
                .boxed()
        }
        // A dynamic position holds a value of some random concrete type (bounded so recursion ends).
        Type::Dynamic if depth < 2 => type_strategy()
            .prop_flat_map(move |t| value_of(&t, unknowns, depth + 1))
            .boxed(),
        Type::Dynamic => any::<String>().prop_map(Value::String).boxed(),
    }
}

fn value_of(ty: &Type, unknowns: bool, depth: u32) -> BoxedStrategy<Value> {
    let known = known_value(ty, unknowns, depth);
    if unknowns {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    type_strategy().prop_flat_map(move |t| {
        let v = value_of(&t, unknowns, 0);
        (Just(t), v)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn msgpack_round_trips((ty, v) in typed_value(true)) {
        let bytes = msgpack::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = msgpack::decode(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn json_round_trips((ty, v) in typed_value(false)) {
        let bytes = json::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = json::decode(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &v);
        // The JSON we write is JSON any parser accepts.
        prop_assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
    }

    #[test]
    fn floats_convert_to_exact_decimals(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let n = number_from_f64(f).ok_or_else(|| TestCaseError::fail("finite float gave no number"))?;
        prop_assert_eq!(n.as_f64(), Some(f));
        prop_assert_eq!(super::exact_f64(&n), Some(f));
    }

    #[test]
    fn random_bytes_never_panic(ty in type_strategy(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = msgpack::decode(&bytes, &ty);
        let _ = json::decode(&bytes, &ty);
    }

    #[test]
    fn corrupted_encodings_never_panic((ty, v) in typed_value(true), pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = msgpack::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = msgpack::decode(&bytes, &ty);
            let _ = msgpack::decode(&bytes[..i], &ty);
        }
    }

    #[test]
    fn random_json_text_never_panics(ty in type_strategy(), s in "[\\[\\]{}\":,0-9a-z\\\\ .eE+-]{0,40}") {
        let _ = json::decode(s.as_bytes(), &ty);
    }
}
