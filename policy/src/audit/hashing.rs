//! Canonical form (RFC 8785 JCS) and hashes of records: what the chain and the signatures are computed over.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::AuditError;

/// Prefix of every hash in the log.
pub const HASH_PREFIX: &str = "sha256:";

/// `sha256:` + lowercase hex of sha256 over `bytes`.
pub fn sha256_tagged(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(HASH_PREFIX.len() + 64);
    s.push_str(HASH_PREFIX);
    s.push_str(&crate::hex::lower(&digest));
    s
}

/// RFC 8785 canonical bytes of any JSON value.
pub fn canonical_bytes(value: &Value) -> Result<Vec<u8>, AuditError> {
    serde_jcs::to_vec(value).map_err(|e| AuditError::Encode(e.to_string()))
}

/// The bytes a record's `hash` and `sig` are computed over: the record object without `hash` and `sig`, in JCS form.
pub fn signed_bytes(record: &Value) -> Result<Vec<u8>, AuditError> {
    let Value::Object(map) = record else {
        return Err(AuditError::Encode("a record must be a JSON object".into()));
    };
    let mut m = map.clone();
    m.remove("hash");
    m.remove("sig");
    canonical_bytes(&Value::Object(m))
}

/// The hash a record should carry.
pub fn record_hash(record: &Value) -> Result<String, AuditError> {
    Ok(sha256_tagged(&signed_bytes(record)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_change_the_hash() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":[1,2,{"y":"x","c":true}],"hash":"x"}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{ "a" : [1,2,{"c":true,"y":"x"}], "b" : 1 }"#).unwrap();
        assert_eq!(record_hash(&a).unwrap(), record_hash(&b).unwrap());
        assert_eq!(
            String::from_utf8(signed_bytes(&a).unwrap()).unwrap(),
            r#"{"a":[1,2,{"c":true,"y":"x"}],"b":1}"#
        );
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = json!({"seq": 1, "x": "a"});
        let b = json!({"seq": 1, "x": "b"});
        assert_ne!(record_hash(&a).unwrap(), record_hash(&b).unwrap());
        assert!(record_hash(&a).unwrap().starts_with("sha256:"));
        assert_eq!(record_hash(&a).unwrap().len(), 7 + 64);
    }
}
