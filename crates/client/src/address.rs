//! Where the service is, and which certificates prove it is the service.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls_platform_verifier::BuilderVerifierExt;
use tokio_tungstenite::Connector;

use crate::ClientError;

/// Which certificate authorities an `https://` service address must be signed by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Trust {
    /// The operating system's trust store.
    #[default]
    System,
    /// Only the authorities in this PEM file (a private CA, a self-signed service).
    CaFile(PathBuf),
}

impl Trust {
    /// `CaFile` when a file is named, else the system's trust store.
    pub fn from_ca_file(ca_file: Option<PathBuf>) -> Self {
        ca_file.map_or(Trust::System, Trust::CaFile)
    }
}

/// A checked service address (`http://host:port` or `https://host:port`) with the
/// TLS settings every connection to it uses: the REST calls and the WebSocket alike.
#[derive(Clone, Debug)]
pub struct ServiceAddress {
    base: String,
    http: reqwest::Client,
    tls: Option<Arc<ClientConfig>>,
}

impl ServiceAddress {
    pub fn new(server: &str, trust: &Trust) -> Result<Self, ClientError> {
        let base = server.trim_end_matches('/');
        let secure = if base.starts_with("https://") {
            true
        } else if base.starts_with("http://") {
            false
        } else {
            return Err(ClientError::BadUrl(server.to_owned()));
        };
        let tls = match trust {
            Trust::CaFile(path) => Some(config_trusting_file(path)?),
            Trust::System if secure => Some(config_trusting_system()?),
            Trust::System => None,
        };
        let mut http = reqwest::Client::builder();
        if let (true, Some(tls)) = (secure, &tls) {
            http = http.tls_backend_preconfigured(ClientConfig::clone(tls));
        }
        let http = http
            .build()
            .map_err(|error| ClientError::Tls(format!("cannot set up HTTP: {error}")))?;
        Ok(Self { base: base.to_owned(), http, tls: tls.filter(|_| secure) })
    }

    /// A plain address with the system's trust store, for code that has only a URL.
    pub fn parse(server: &str) -> Result<Self, ClientError> {
        Self::new(server, &Trust::System)
    }

    /// `http(s)://host:port`, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The service's host name (or address) and port, from the base URL.
    pub(crate) fn host_and_port(&self) -> Option<(String, u16)> {
        let url = reqwest::Url::parse(&self.base).ok()?;
        let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned();
        Some((host, url.port_or_known_default()?))
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn websocket_url(&self) -> String {
        format!("ws{}/ws", self.base.strip_prefix("http").unwrap_or(&self.base))
    }

    pub(crate) fn websocket_connector(&self) -> Option<Connector> {
        self.tls.clone().map(Connector::Rustls)
    }
}

/// rustls can be built with several crypto back ends; naming one keeps the choice
/// out of process-wide state.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn config_trusting_system() -> Result<Arc<ClientConfig>, ClientError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|error| ClientError::Tls(format!("cannot use the system trust store: {error}")))?
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn config_trusting_file(path: &Path) -> Result<Arc<ClientConfig>, ClientError> {
    let bad_file = |message: String| ClientError::CaFile { path: path.to_owned(), message };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| bad_file(error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| bad_file(error.to_string()))?;
    if certificates.is_empty() {
        return Err(bad_file("it holds no PEM certificate".into()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        roots.add(certificate).map_err(|error| bad_file(error.to_string()))?;
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| ClientError::Tls(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_must_say_http_or_https() {
        assert!(matches!(ServiceAddress::parse("127.0.0.1:7300"), Err(ClientError::BadUrl(_))));
        let plain = ServiceAddress::parse("http://127.0.0.1:7300/").unwrap();
        assert_eq!(plain.base(), "http://127.0.0.1:7300");
        assert_eq!(plain.websocket_url(), "ws://127.0.0.1:7300/ws");
        assert!(plain.websocket_connector().is_none());
        let secure = ServiceAddress::parse("https://park.example:7300").unwrap();
        assert_eq!(secure.websocket_url(), "wss://park.example:7300/ws");
        assert!(secure.websocket_connector().is_some());
    }

    #[test]
    fn a_ca_file_that_is_missing_or_empty_is_named() {
        let missing = ServiceAddress::new(
            "https://127.0.0.1:7300",
            &Trust::CaFile("/nonexistent/ca.pem".into()),
        )
        .unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/ca.pem"), "{missing}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error =
            ServiceAddress::new("https://127.0.0.1:7300", &Trust::CaFile(empty)).unwrap_err();
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
        assert_eq!(error.code(), "bad_ca_file");
    }
}
