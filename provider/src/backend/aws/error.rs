//! Turns AWS SDK errors into [`BackendError`]s a Terraform user can act on, and sorts out which ones are
//! worth retrying (throttling, 5xx, timeouts, dropped connections) from which ones are final.

use aws_sdk_rds::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::backend::BackendError;

/// One failed RDS call, reduced to what the backend needs to decide and report.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    /// AWS error code ("DBInstanceNotFound", "Throttling"), or a transport kind ("timeout", "dispatch").
    pub code: String,
    pub message: String,
    /// HTTP status when a response arrived.
    pub status: Option<u16>,
    /// Throttling, a 5xx, a timeout or a broken connection: asking again may succeed.
    pub transient: bool,
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "PriorRequestNotComplete",
];

impl ApiFailure {
    /// Classifies an SDK error.
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + HasStatus,
    {
        match err {
            SdkError::ServiceError(se) => {
                let code = se.err().code().unwrap_or("Unknown").to_string();
                let message = se.err().message().unwrap_or("").to_string();
                let status = se.raw().status_code();
                let transient = THROTTLING_CODES.contains(&code.as_str())
                    || status.map(|s| s >= 500).unwrap_or(false);
                Self {
                    code,
                    message,
                    status,
                    transient,
                }
            }
            SdkError::TimeoutError(_) => Self {
                code: "timeout".into(),
                message: "no response before the attempt timeout".into(),
                status: None,
                transient: true,
            },
            SdkError::DispatchFailure(_) => Self {
                code: "dispatch".into(),
                message: format!("{}", DisplayErrorContext(err)),
                status: None,
                transient: true,
            },
            SdkError::ResponseError(re) => Self {
                code: "response".into(),
                message: format!("{}", DisplayErrorContext(err)),
                status: re.raw().status_code(),
                transient: true,
            },
            _ => Self {
                code: "sdk".into(),
                message: format!("{}", DisplayErrorContext(err)),
                status: None,
                transient: false,
            },
        }
    }

    /// The error shown to the user: which call on what failed, the AWS code and message, and what to try.
    pub fn into_backend(self, what: impl Into<String>) -> BackendError {
        let hint = if self.transient {
            " (a throttling, server or network error that persisted through retries; run terraform apply again, or raise max_retries in the provider's aws block)"
        } else if self.code == "InvalidClientTokenId"
            || self.code == "SignatureDoesNotMatch"
            || self.code == "ExpiredToken"
        {
            " (check the AWS credentials: AWS_ACCESS_KEY_ID / AWS_PROFILE)"
        } else {
            ""
        };
        let status = match self.status {
            Some(s) => format!("{} HTTP {s}", self.code),
            None => self.code,
        };
        BackendError::Command {
            what: what.into(),
            status,
            output: format!("{}{hint}", self.message),
        }
    }
}

/// Access to the HTTP status of a raw response, whatever the SDK's response type is.
pub trait HasStatus {
    fn status_code(&self) -> Option<u16>;
}

impl HasStatus for aws_sdk_rds::config::http::HttpResponse {
    fn status_code(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_say_how_to_recover() {
        let f = ApiFailure {
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
            status: Some(400),
            transient: true,
        };
        let e = f.into_backend("creating RDS instance \"a\"");
        let text = e.to_string();
        assert!(
            text.starts_with(
                "creating RDS instance \"a\" failed (Throttling HTTP 400): Rate exceeded"
            ),
            "{text}"
        );
        assert!(text.contains("max_retries"), "{text}");
    }
}
