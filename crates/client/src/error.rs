use callpark_session::RequestError;
use callpark_wire::ErrorBody;
use callpark_wire::admin::ApiError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The service refused: its code and message, as it gave them.
    #[error("{}", .0.message)]
    Refused(ApiError),
    #[error("cannot reach the service at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the service sent something this client cannot read: {0}")]
    Protocol(String),
    #[error("the connection to the service is closed")]
    Closed,
    /// The service no longer accepts this sign-in (expired, ended, the account removed).
    #[error("the service refused the device: {0}")]
    SignedOut(String),
    #[error("no reply from the service within {0} s")]
    Timeout(u64),
    #[error("{0:?} is not a service address; use http://host:port or https://host:port")]
    BadUrl(String),
    #[error("cannot use {} as a CA file: {message}", .path.display())]
    CaFile { path: std::path::PathBuf, message: String },
    #[error("{0}")]
    Tls(String),
    #[error("audio: {0}")]
    Media(String),
}

impl ClientError {
    /// The service's machine code for a refusal, or a client-side one.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Refused(error) => &error.code,
            ClientError::Unreachable { .. } => "unreachable",
            ClientError::Protocol(_) => "protocol",
            ClientError::Closed => "closed",
            ClientError::SignedOut(_) => "signed_out",
            ClientError::Timeout(_) => "timeout",
            ClientError::BadUrl(_) => "bad_url",
            ClientError::CaFile { .. } => "bad_ca_file",
            ClientError::Tls(_) => "tls",
            ClientError::Media(_) => "media",
        }
    }
}

impl From<ErrorBody> for ClientError {
    fn from(error: ErrorBody) -> Self {
        ClientError::Refused(ApiError { code: error.code, message: error.message, field: None })
    }
}

impl From<RequestError> for ClientError {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::Refused(error) => ClientError::from(error),
            RequestError::Closed => ClientError::Closed,
            RequestError::Timeout(waited) => ClientError::Timeout(waited.as_secs()),
            RequestError::Protocol(what) => ClientError::Protocol(what),
        }
    }
}

/// An error and every cause under it, so "error sending request" also says why
/// (for example that the certificate is signed by an unknown authority).
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}
