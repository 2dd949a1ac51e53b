//! Outbound TLS, shared by every service that calls out over `https://` (SNS's HTTPS
//! subscribers, the JWKS fetch of API Gateway's JWT authorizers and STS's web identity):
//! rustls on ring, trusting the public web roots (webpki-roots) plus, opt-in, the extra
//! root certificates of a PEM bundle (`--ca-bundle` / `NIMBUS_CA_BUNDLE`) for local CAs.
//! One place, so every outbound connection trusts the same roots.

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::{Arc, OnceLock};

/// Extra roots (set once at start, before the first outbound connection).
static EXTRA_ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();

/// Why a CA bundle could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleError {
    Unreadable(String),
    NoCertificates(String),
    BadCertificate(String),
    AlreadySet,
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BundleError::Unreadable(e) => write!(f, "CA bundle unreadable: {e}"),
            BundleError::NoCertificates(p) => write!(f, "CA bundle {p} holds no PEM certificate"),
            BundleError::BadCertificate(e) => write!(f, "CA bundle: {e}"),
            BundleError::AlreadySet => write!(f, "the extra CA bundle is already set"),
        }
    }
}

impl std::error::Error for BundleError {}

/// Trusts the certificates of the PEM file at `path` in addition to the web roots, for
/// every outbound TLS connection of this process. Call once, before serving.
pub fn trust_ca_bundle(path: &std::path::Path) -> Result<usize, BundleError> {
    let pem = std::fs::read(path).map_err(|e| BundleError::Unreadable(format!("{}: {e}", path.display())))?;
    let certs = parse_bundle(&pem).map_err(|e| match e {
        BundleError::NoCertificates(_) => BundleError::NoCertificates(path.display().to_string()),
        other => other,
    })?;
    let n = certs.len();
    EXTRA_ROOTS.set(certs).map_err(|_| BundleError::AlreadySet)?;
    Ok(n)
}

/// The certificates of a PEM bundle, each checked to be usable as a trust anchor.
fn parse_bundle(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, BundleError> {
    let certs = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(|e| BundleError::BadCertificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(BundleError::NoCertificates(String::new()));
    }
    let mut store = rustls::RootCertStore::empty();
    for c in &certs {
        store.add(c.clone()).map_err(|e| BundleError::BadCertificate(e.to_string()))?;
    }
    Ok(certs)
}

/// ring as rustls's crypto provider (one per process).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

/// A verifier over the public web roots and the extra CA bundle, if any.
pub fn verifier() -> Arc<WebPkiServerVerifier> {
    static VERIFIER: OnceLock<Arc<WebPkiServerVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let mut store = rustls::RootCertStore::empty();
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            // Checked when the bundle was read (`parse_bundle`).
            for c in EXTRA_ROOTS.get().into_iter().flatten() {
                let _ = store.add(c.clone());
            }
            // A builder over a non-empty root store with the ring provider cannot fail.
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider()).build().expect("web roots verifier")
        })
        .clone()
}

/// A client configuration trusting the roots of [`verifier`].
pub fn client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let config = rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_webpki_verifier(verifier())
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// A TLS session over `tcp` to `host`, with `config`.
pub async fn connect(
    config: &Arc<rustls::ClientConfig>,
    host: &str,
    tcp: tokio::net::TcpStream,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let name = ServerName::try_from(host.to_string()).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp).await
}

/// Whether a handshake failed because the server's certificate was refused.
pub fn is_untrusted(e: &std::io::Error) -> bool {
    matches!(e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()), Some(rustls::Error::InvalidCertificate(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_without_certificates_are_refused() {
        assert_eq!(parse_bundle(b"not pem"), Err(BundleError::NoCertificates(String::new())));
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(parse_bundle(garbage), Err(BundleError::BadCertificate(_))));
    }
}
