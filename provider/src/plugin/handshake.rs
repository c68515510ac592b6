//! go-plugin handshake: the magic cookie check, protocol version negotiation and the one stdout line that tells
//! Terraform where to connect. Pure functions over the environment so they can be tested without a process.

use base64::Engine as _;
use thiserror::Error;

/// Environment variable Terraform sets so that a plugin knows it was started by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform puts in [`MAGIC_COOKIE_KEY`] (shared by every Terraform plugin).
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own handshake protocol version (first field of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol major version this provider serves.
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// Why the process cannot serve Terraform; the text is shown to a person, so it says what to do.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// Started by hand (or by something that is not Terraform).
    #[error(
        "This binary is a plugin for Terraform; it is not meant to be run by hand. Use it through terraform \
         init/plan/apply with a configuration that requires the dbplatform/dbplatform provider, or run it with \
         --debug to start it for Terraform to attach to (see --help)."
    )]
    NotStartedByTerraform,
    /// The cookie is present but has another value (a different plugin host).
    #[error(
        "This binary is a plugin for Terraform, but {MAGIC_COOKIE_KEY} has an unexpected value, so the program \
         that started it is not a Terraform version this provider can talk to. Run it through terraform \
         init/plan/apply."
    )]
    WrongCookie,
    /// Terraform offered only protocol versions this provider does not speak.
    #[error(
        "This provider speaks Terraform plugin protocol {APP_PROTOCOL_VERSION}, but the Terraform that started it \
         offered protocol version(s) {offered}. Use Terraform 1.0 or later (which speaks protocol 6)."
    )]
    UnsupportedProtocol {
        /// What PLUGIN_PROTOCOL_VERSIONS contained.
        offered: String,
    },
}

/// Checks the magic cookie Terraform passes in the environment.
pub fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    match value {
        None | Some("") => Err(HandshakeError::NotStartedByTerraform),
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        Some(_) => Err(HandshakeError::WrongCookie),
    }
}

/// Picks the protocol version to serve from `PLUGIN_PROTOCOL_VERSIONS` (a comma list). go-plugin hosts that
/// predate version negotiation set nothing; Terraform 1.x always offers a list.
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(list) = offered.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(HandshakeError::UnsupportedProtocol {
            offered: "none".to_string(),
        });
    };
    let speaks_ours = list
        .split(',')
        .any(|v| v.trim().parse::<u32>().ok() == Some(APP_PROTOCOL_VERSION));
    if speaks_ours {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::UnsupportedProtocol {
            offered: list.to_string(),
        })
    }
}

/// The handshake line go-plugin reads from the plugin's stdout:
/// `CORE|APP|unix|SOCKET|grpc|CERT`, where CERT is the server certificate (DER) in standard base64 without
/// padding, or empty when the connection is plaintext.
pub fn handshake_line(version: u32, socket: &str, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|d| base64::engine::general_purpose::STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{version}|unix|{socket}|grpc|{cert}")
}

/// The `TF_REATTACH_PROVIDERS` value that makes Terraform use an already running provider (debug mode).
pub fn reattach_value(provider_address: &str, pid: u32, socket: &str) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket },
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_missing_wrong_and_right() {
        assert_eq!(
            check_cookie(None),
            Err(HandshakeError::NotStartedByTerraform)
        );
        assert_eq!(
            check_cookie(Some("")),
            Err(HandshakeError::NotStartedByTerraform)
        );
        assert_eq!(check_cookie(Some("abc")), Err(HandshakeError::WrongCookie));
        assert_eq!(check_cookie(Some(MAGIC_COOKIE_VALUE)), Ok(()));
        assert!(HandshakeError::NotStartedByTerraform
            .to_string()
            .contains("not meant to be run by hand"));
    }

    #[test]
    fn version_negotiation() {
        assert_eq!(negotiate_version(Some("6")), Ok(6));
        assert_eq!(negotiate_version(Some("5, 6")), Ok(6));
        let err = negotiate_version(Some("4,5")).unwrap_err();
        assert!(
            err.to_string().contains("offered protocol version(s) 4,5"),
            "{err}"
        );
        assert!(err.to_string().contains("protocol 6"), "{err}");
        assert!(negotiate_version(None)
            .unwrap_err()
            .to_string()
            .contains("version(s) none"));
    }

    #[test]
    fn line_format() {
        assert_eq!(
            handshake_line(6, "/tmp/x/s", None),
            "1|6|unix|/tmp/x/s|grpc|"
        );
        // 3 bytes -> 4 chars, 1 byte -> 2 chars without "==" padding.
        assert_eq!(
            handshake_line(6, "/s", Some(&[0xff])),
            "1|6|unix|/s|grpc|/w"
        );
    }

    #[test]
    fn reattach_json_shape() {
        let v: serde_json::Value = serde_json::from_str(&reattach_value(
            "registry.terraform.io/dbplatform/dbplatform",
            42,
            "/tmp/s",
        ))
        .unwrap();
        let p = &v["registry.terraform.io/dbplatform/dbplatform"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/s");
    }
}
