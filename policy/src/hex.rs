//! Lowercase hex of bytes: how digests are written in bundle hashes, decision ids, audit hashes and the
//! `crypto.*` Rego built-ins. One helper so every digest the product prints looks the same.

use std::fmt::Write as _;

/// Lowercase hex, two digits per byte.
pub fn lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_lowercase_digits_per_byte() {
        assert_eq!(super::lower(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(super::lower(&[]), "");
    }
}
