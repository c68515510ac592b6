//! Conversions between protobuf messages and framework types.
