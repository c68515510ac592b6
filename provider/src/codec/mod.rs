//! DynamicValue codec: msgpack and JSON by schema, with null and unknown.
