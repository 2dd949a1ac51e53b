//! OpenID Connect token signatures for STS AssumeRoleWithWebIdentity: the issuer's keys
//! are fetched as AWS does (`https://<provider url>/.well-known/openid-configuration` →
//! `jwks_uri` → JWKS) by the shared `nimbus-jwt` crate, which also verifies the JWS
//! signature and caches each issuer's keys for a few minutes of nimbus's clock. What is
//! IAM's stays here: trusting the server's chain if it verifies against the public web
//! roots OR if the SHA-1 thumbprint of the top certificate the server sends is in the
//! provider's ThumbprintList (IAM User Guide, "Obtain the thumbprint for an OpenID Connect
//! identity provider"), and STS's error codes and messages.

use crate::errors::IamError;
use nimbus_jwt::token::SignatureError;
use nimbus_jwt::{FetchError, VerifyError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// How long a fetched JWKS is used before it is fetched again (nimbus's clock).
const CACHE_MS: u64 = 5 * 60 * 1000;

/// STS's answer when the issuer's keys cannot be had (IDPCommunicationError) and, as
/// InvalidIdentityToken, when the token names a key the issuer does not publish.
pub const NO_KEY: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
/// STS's answer when the issuer's certificate is neither publicly trusted nor thumbprinted
/// (AWS Knowledge Center, "InvalidIdentityToken - OpenIDConnect provider's HTTPS certificate
/// doesn't match configured thumbprint").
pub const BAD_THUMBPRINT: &str = "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint";
/// STS's description of InvalidIdentityToken (API reference), for a signature that does
/// not verify or an algorithm that is refused.
pub const BAD_TOKEN: &str = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.";

/// Each issuer's JWKS keys, keyed by provider url and thumbprints (a provider's
/// thumbprints decide whether a fetch succeeds).
#[derive(Default)]
pub struct JwksCache {
    inner: nimbus_jwt::JwksCache,
}

fn fetch_error(e: FetchError) -> IamError {
    match e {
        FetchError::Untrusted => IamError::InvalidIdentityToken(BAD_THUMBPRINT.into()),
        FetchError::Unavailable(why) => {
            tracing::debug!(why, "OIDC issuer keys unavailable");
            IamError::IdpCommunication(NO_KEY.into())
        }
    }
}

impl JwksCache {
    /// Verifies `token`'s signature with its issuer's published key. `url` is the provider
    /// url without `https://`; `now_ms` is nimbus's clock.
    pub async fn verify(&self, token: &str, url: &str, thumbprints: &[String], now_ms: u64) -> Result<(), IamError> {
        let cache_key = format!("{url}|{}", thumbprints.join(",").to_ascii_lowercase());
        let tls = client_config(thumbprints);
        match self.inner.verify(token, &format!("https://{url}"), &cache_key, &tls, now_ms, CACHE_MS).await {
            Ok(_) => Ok(()),
            Err(VerifyError::Malformed | VerifyError::UnknownKey) => Err(IamError::InvalidIdentityToken(NO_KEY.into())),
            Err(VerifyError::Signature(SignatureError::Algorithm | SignatureError::KeyMismatch | SignatureError::Invalid)) => Err(IamError::InvalidIdentityToken(BAD_TOKEN.into())),
            Err(VerifyError::Fetch(e)) => Err(fetch_error(e)),
        }
    }
}

fn client_config(thumbprints: &[String]) -> Arc<rustls::ClientConfig> {
    let provider = nimbus_jwt::fetch::provider();
    let verifier = ThumbprintOrWebRoots { web: nimbus_jwt::fetch::web_roots(), thumbprints: thumbprints.to_vec(), provider: provider.clone() };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Arc::new(config)
}

/// Lower-case hex SHA-1 of a certificate (the form of a ThumbprintList entry).
fn thumbprint(cert: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// AWS's trust rule for an OIDC issuer's certificate: the chain verifies against the public
/// web roots, or the top certificate the server sends (the last intermediate, or the
/// server's own for a lone self-signed certificate) has a thumbprint in the provider's
/// ThumbprintList. Handshake signatures are always checked.
#[derive(Debug)]
struct ThumbprintOrWebRoots {
    web: Arc<WebPkiServerVerifier>,
    thumbprints: Vec<String>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ThumbprintOrWebRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let top = thumbprint(intermediates.last().unwrap_or(end_entity));
        if self.thumbprints.iter().any(|t| t.eq_ignore_ascii_case(&top)) {
            return Ok(ServerCertVerified::assertion());
        }
        self.web.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
