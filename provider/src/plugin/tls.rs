//! AutoMTLS as go-plugin does it: a fresh self-signed server certificate per start (its DER goes into the
//! handshake line) and a client-certificate check that accepts exactly the certificate Terraform put in
//! `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is a self-signed CA certificate on ECDSA P-521. A webpki chain check would
//! reject it (`CaUsedAsEndEntity`), and chains are meaningless here anyway: the trust decision is "is this the
//! exact certificate our parent process generated", so [`ExactClientCert`] compares DER bytes and only uses the
//! crypto provider to check the handshake signatures (proof the peer holds the private key).

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use thiserror::Error;

/// Why mTLS could not be set up; shown to the user (via Terraform's log) before exiting.
#[derive(Debug, Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` did not hold a PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate ({0}); it is set by Terraform, do not set it by hand")]
    BadClientCert(String),
    /// Generating the server certificate failed.
    #[error("could not generate the plugin's TLS server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("could not configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The per-start server certificate and its private key.
pub struct ServerIdentity {
    /// DER of the self-signed certificate; base64 of this goes into the handshake line.
    pub cert_der: Vec<u8>,
    key_pkcs8: Vec<u8>,
}

impl ServerIdentity {
    /// Generates an ECDSA P-256 certificate shaped like go-plugin's: SAN and CN "localhost", a CA (Terraform
    /// trusts it as its own root), key usages digital signature + certificate signing, EKU server + client auth.
    pub fn generate() -> Result<Self, TlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "dbplatform");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_der: cert.der().to_vec(),
            key_pkcs8: key.serialize_der(),
        })
    }
}

/// Parses the PEM certificate from `PLUGIN_CLIENT_CERT` (the first certificate in it).
pub fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    // rustls' own PEM reader (rustls-pki-types), which replaced the unmaintained rustls-pemfile.
    let first = CertificateDer::pem_slice_iter(pem.as_bytes()).next();
    match first {
        Some(Ok(c)) => Ok(c),
        Some(Err(e)) => Err(TlsError::BadClientCert(e.to_string())),
        None => Err(TlsError::BadClientCert(
            "no CERTIFICATE block found".to_string(),
        )),
    }
}

/// The rustls server configuration: TLS 1.2 and 1.3 on the aws-lc-rs provider, HTTP/2 via ALPN, and a client
/// certificate that must be exactly `client_cert`.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = ExactClientCert::new(client_cert, &provider);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_pkcs8.clone()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![CertificateDer::from(identity.cert_der.clone())], key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly one client certificate (byte-for-byte DER match) and checks handshake signatures with the
/// crypto provider's algorithms (ECDSA P-256/P-384/P-521, RSA, Ed25519).
#[derive(Debug)]
pub struct ExactClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ExactClientCert {
    /// A verifier for `expected`, verifying signatures with `provider`'s algorithms.
    pub fn new(expected: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        Self {
            expected,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for ExactClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!(
                "refused a TLS client whose certificate is not the one Terraform announced"
            );
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_parses_and_configures() {
        let id = ServerIdentity::generate().unwrap();
        assert!(id.cert_der.len() > 100);
        let other = ServerIdentity::generate().unwrap();
        assert_ne!(id.cert_der, other.cert_der, "a fresh certificate per start");
        let client = CertificateDer::from(other.cert_der.clone());
        server_config(&id, client).unwrap();
    }

    #[test]
    fn exact_match_only() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let a = CertificateDer::from(ServerIdentity::generate().unwrap().cert_der);
        let b = CertificateDer::from(ServerIdentity::generate().unwrap().cert_der);
        let v = ExactClientCert::new(a.clone(), &provider);
        assert!(v.verify_client_cert(&a, &[], UnixTime::now()).is_ok());
        assert!(v.verify_client_cert(&b, &[], UnixTime::now()).is_err());
        assert!(v
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn bad_pem_is_a_clear_error() {
        let err = parse_client_cert("not a certificate").unwrap_err();
        assert!(err.to_string().contains("PLUGIN_CLIENT_CERT"), "{err}");
    }
}
