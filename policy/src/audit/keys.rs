//! Ed25519 signing keys for the audit log: generation, PEM files (PKCS#8 / SPKI, readable by openssl), signatures.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;

use super::error::AuditError;
use super::hashing::sha256_tagged;
use super::record::Signature;

/// A short, stable name of a public key: first 16 hex digits of sha256 over its 32 raw bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    let h = sha256_tagged(key.as_bytes());
    h["sha256:".len().."sha256:".len() + 16].to_string()
}

/// Generates a fresh key from the operating system's random source.
pub fn generate() -> SigningKey {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    SigningKey::from_bytes(&seed)
}

/// The path of the public key written beside a private key file: `FILE.pub`.
pub fn public_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_os_string();
    s.push(".pub");
    PathBuf::from(s)
}

/// Writes `out` (private key, PKCS#8 PEM, mode 0600) and `out.pub` (public key, SPKI PEM); never overwrites.
pub fn write_keypair(key: &SigningKey, out: &Path) -> Result<(PathBuf, String), AuditError> {
    let pub_path = public_path(out);
    for p in [out, pub_path.as_path()] {
        if p.exists() {
            return Err(AuditError::Key {
                path: p.to_path_buf(),
                detail: "already exists; refusing to overwrite a key (choose another --out or move the old key away)"
                    .into(),
            });
        }
    }
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| AuditError::Key {
            path: out.to_path_buf(),
            detail: format!("cannot encode the private key: {e}"),
        })?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| AuditError::Key {
            path: pub_path.clone(),
            detail: format!("cannot encode the public key: {e}"),
        })?;
    write_new(out, private_pem.as_bytes(), 0o600)?;
    write_new(&pub_path, public_pem.as_bytes(), 0o644)?;
    Ok((pub_path, key_id(&key.verifying_key())))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AuditError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts
        .open(path)
        .map_err(|e| AuditError::io(path, "create key file", e))?;
    f.write_all(bytes)
        .map_err(|e| AuditError::io(path, "write key file", e))?;
    f.sync_all()
        .map_err(|e| AuditError::io(path, "sync key file", e))
}

/// Reads a private key written by `dbpolicy audit keygen` (PKCS#8 PEM).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, AuditError> {
    let text = std::fs::read_to_string(path).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        detail: format!(
            "cannot read the private key: {e} (create one with `dbpolicy audit keygen --out FILE`)"
        ),
    })?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        detail: format!("not an Ed25519 private key in PKCS#8 PEM ({e}); use the file written by `dbpolicy audit keygen`"),
    })
}

/// Reads a public key (`FILE.pub` from keygen, SPKI PEM).
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, AuditError> {
    let text = std::fs::read_to_string(path).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        detail: format!("cannot read the public key: {e}"),
    })?;
    VerifyingKey::from_public_key_pem(&text).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        detail: format!(
            "not an Ed25519 public key in SPKI PEM ({e}); pass the .pub file written by `dbpolicy audit keygen`"
        ),
    })
}

/// Signs the canonical bytes of a record.
pub fn sign(key: &SigningKey, bytes: &[u8]) -> Signature {
    let sig = key.sign(bytes);
    Signature {
        alg: "ed25519".into(),
        key_id: key_id(&key.verifying_key()),
        value: base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()),
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigProblem {
    /// No `sig` on the record.
    Missing,
    /// Signed, but by another key.
    WrongKey { found: String, expected: String },
    /// The right key id, but the signature does not match the bytes (or is malformed).
    Invalid(String),
}

/// Checks a record's `sig` (as JSON) against the canonical bytes and the expected key.
pub fn check(
    key: &VerifyingKey,
    sig: Option<&serde_json::Value>,
    bytes: &[u8],
) -> Result<(), SigProblem> {
    let Some(sig) = sig else {
        return Err(SigProblem::Missing);
    };
    let parsed: Signature = serde_json::from_value(sig.clone())
        .map_err(|e| SigProblem::Invalid(format!("malformed sig field: {e}")))?;
    if parsed.alg != "ed25519" {
        return Err(SigProblem::Invalid(format!(
            "unsupported algorithm {:?}",
            parsed.alg
        )));
    }
    let expected = key_id(key);
    if parsed.key_id != expected {
        return Err(SigProblem::WrongKey {
            found: parsed.key_id,
            expected,
        });
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(parsed.value.as_bytes())
        .map_err(|e| SigProblem::Invalid(format!("signature is not base64: {e}")))?;
    let arr: [u8; 64] = raw.as_slice().try_into().map_err(|_| {
        SigProblem::Invalid(format!("signature has {} bytes, expected 64", raw.len()))
    })?;
    let s = ed25519_dalek::Signature::from_bytes(&arr);
    key.verify(bytes, &s)
        .map_err(|_| SigProblem::Invalid("signature does not match the record".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypair_round_trips_through_pem_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("audit-key");
        let key = generate();
        let (pub_path, id) = write_keypair(&key, &out).unwrap();
        assert_eq!(pub_path, dir.path().join("audit-key.pub"));
        assert_eq!(id.len(), 16);
        let k2 = load_signing_key(&out).unwrap();
        let v = load_verifying_key(&pub_path).unwrap();
        assert_eq!(k2.to_bytes(), key.to_bytes());
        let sig = serde_json::to_value(sign(&k2, b"abc")).unwrap();
        assert_eq!(check(&v, Some(&sig), b"abc"), Ok(()));
        assert!(matches!(
            check(&v, Some(&sig), b"abd"),
            Err(SigProblem::Invalid(_))
        ));
        let other = generate().verifying_key();
        assert!(matches!(
            check(&other, Some(&sig), b"abc"),
            Err(SigProblem::WrongKey { .. })
        ));
        let err = write_keypair(&key, &out).unwrap_err().to_string();
        assert!(err.contains("refusing to overwrite"), "{err}");
        let pem = std::fs::read_to_string(&out).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    }

    #[test]
    fn loading_a_public_key_as_private_names_the_file_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("k");
        write_keypair(&generate(), &out).unwrap();
        let err = load_signing_key(&public_path(&out))
            .unwrap_err()
            .to_string();
        assert!(err.contains("k.pub") && err.contains("keygen"), "{err}");
    }
}
