//! OpenID Connect token signatures for STS AssumeRoleWithWebIdentity: fetching an issuer's
//! keys as AWS does (`https://<provider url>/.well-known/openid-configuration` → `jwks_uri`
//! → JWKS) over HTTPS, trusting the server's chain if it verifies against the public web
//! roots OR if the SHA-1 thumbprint of the top certificate the server sends is in the
//! provider's ThumbprintList (IAM User Guide, "Obtain the thumbprint for an OpenID Connect
//! identity provider"); caching each issuer's JWKS for a few minutes of nimbus's clock; and
//! verifying a JWT's RS256/RS384/RS512/PS256/PS384/PS512/ES256/ES384 signature with the key
//! of its `kid`. Fetches are async, time-bounded and size-bounded.

use crate::errors::IamError;
use base64::Engine;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long a fetched JWKS is used before it is fetched again (nimbus's clock).
const CACHE_MS: u64 = 5 * 60 * 1000;
/// Bound on each HTTPS exchange (connect, handshake, request, body).
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on a discovery document or JWKS body.
const MAX_BODY: usize = 1 << 20;

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

/// Why an issuer's keys could not be had.
#[derive(Debug)]
enum FetchError {
    /// The server's certificate chain is neither publicly trusted nor thumbprinted.
    Untrusted,
    /// Anything else: unreachable, timeout, non-200, too large, not JSON, no jwks_uri.
    Unavailable(String),
}

impl From<FetchError> for IamError {
    fn from(e: FetchError) -> IamError {
        match e {
            FetchError::Untrusted => IamError::InvalidIdentityToken(BAD_THUMBPRINT.into()),
            FetchError::Unavailable(why) => {
                tracing::debug!(why, "OIDC issuer keys unavailable");
                IamError::IdpCommunication(NO_KEY.into())
            }
        }
    }
}

/// An issuer's JWKS `keys` and when (nimbus's clock, ms) they were fetched.
type Fetched = (u64, Arc<Vec<Value>>);

/// Each issuer's JWKS keys with the time they were fetched, keyed by provider url and
/// thumbprints (a provider's thumbprints decide whether a fetch succeeds).
#[derive(Default)]
pub struct JwksCache {
    entries: Mutex<HashMap<String, Fetched>>,
}

/// A JWT split into its parts.
struct Jwt<'a> {
    header: Value,
    signed: &'a str,
    signature: Vec<u8>,
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

fn parse_jwt(token: &str) -> Option<Jwt<'_>> {
    let mut parts = token.split('.');
    let (header, _payload, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header = serde_json::from_slice(&b64url(header)?).ok()?;
    Some(Jwt { header, signed: &token[..token.rfind('.')?], signature: b64url(sig)? })
}

/// The ring algorithm for a JWS `alg` nimbus verifies; `none` and HMAC are refused.
fn algorithm(alg: &str) -> Option<&'static dyn ring::signature::VerificationAlgorithm> {
    use ring::signature as s;
    Some(match alg {
        "RS256" => &s::RSA_PKCS1_2048_8192_SHA256,
        "RS384" => &s::RSA_PKCS1_2048_8192_SHA384,
        "RS512" => &s::RSA_PKCS1_2048_8192_SHA512,
        "PS256" => &s::RSA_PSS_2048_8192_SHA256,
        "PS384" => &s::RSA_PSS_2048_8192_SHA384,
        "PS512" => &s::RSA_PSS_2048_8192_SHA512,
        "ES256" => &s::ECDSA_P256_SHA256_FIXED,
        "ES384" => &s::ECDSA_P384_SHA384_FIXED,
        _ => return None,
    })
}

/// The public key bytes ring wants for a JWK: RSA as DER RSAPublicKey, EC as an
/// uncompressed point.
fn public_key(jwk: &Value, alg: &str) -> Option<Vec<u8>> {
    let field = |k: &str| jwk.get(k).and_then(Value::as_str).and_then(b64url);
    match jwk.get("kty").and_then(Value::as_str)? {
        "RSA" if alg.starts_with('R') || alg.starts_with('P') => Some(rsa_der(&field("n")?, &field("e")?)),
        "EC" if alg.starts_with('E') => {
            let mut point = vec![4u8];
            point.extend(field("x")?);
            point.extend(field("y")?);
            Some(point)
        }
        _ => None,
    }
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = der_integer(n);
    body.extend(der_integer(e));
    der(0x30, &body)
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[0],
    };
    let mut v = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        v.push(0);
    }
    v.extend_from_slice(trimmed);
    der(0x02, &v)
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

/// The key of the token's `kid` (or the only key when the token names none).
fn find_key<'k>(keys: &'k [Value], kid: Option<&str>) -> Option<&'k Value> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
}

impl JwksCache {
    /// Verifies `token`'s signature with its issuer's published key. `url` is the provider
    /// url without `https://`; `now_ms` is nimbus's clock.
    pub async fn verify(&self, token: &str, url: &str, thumbprints: &[String], now_ms: u64) -> Result<(), IamError> {
        let jwt = parse_jwt(token).ok_or_else(|| IamError::InvalidIdentityToken(NO_KEY.into()))?;
        let alg = jwt.header.get("alg").and_then(Value::as_str).unwrap_or("");
        let verifier = algorithm(alg).ok_or_else(|| IamError::InvalidIdentityToken(BAD_TOKEN.into()))?;
        let kid = jwt.header.get("kid").and_then(Value::as_str);
        let (mut keys, cached) = self.keys(url, thumbprints, now_ms, false).await?;
        if find_key(&keys, kid).is_none() && cached {
            keys = self.keys(url, thumbprints, now_ms, true).await?.0;
        }
        let key = find_key(&keys, kid).ok_or_else(|| IamError::InvalidIdentityToken(NO_KEY.into()))?;
        let der = public_key(key, alg).ok_or_else(|| IamError::InvalidIdentityToken(BAD_TOKEN.into()))?;
        ring::signature::UnparsedPublicKey::new(verifier, der)
            .verify(jwt.signed.as_bytes(), &jwt.signature)
            .map_err(|_| IamError::InvalidIdentityToken(BAD_TOKEN.into()))
    }

    /// The issuer's keys, from the cache unless stale or `refresh`; says whether cached.
    async fn keys(&self, url: &str, thumbprints: &[String], now_ms: u64, refresh: bool) -> Result<(Arc<Vec<Value>>, bool), IamError> {
        let cache_key = format!("{url}|{}", thumbprints.join(",").to_ascii_lowercase());
        if !refresh {
            if let Some((at, keys)) = self.entries.lock().get(&cache_key) {
                if now_ms < at + CACHE_MS {
                    return Ok((keys.clone(), true));
                }
            }
        }
        let keys = Arc::new(fetch_keys(url, thumbprints).await?);
        self.entries.lock().insert(cache_key, (now_ms, keys.clone()));
        Ok((keys, false))
    }
}

/// Discovery document → `jwks_uri` → the JWKS's `keys`.
async fn fetch_keys(url: &str, thumbprints: &[String]) -> Result<Vec<Value>, FetchError> {
    let config = get_json(&format!("https://{url}/.well-known/openid-configuration"), thumbprints).await?;
    let jwks_uri = config.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| FetchError::Unavailable("no jwks_uri".into()))?;
    let jwks = get_json(jwks_uri, thumbprints).await?;
    match jwks.get("keys") {
        Some(Value::Array(keys)) => Ok(keys.clone()),
        _ => Err(FetchError::Unavailable("JWKS has no keys".into())),
    }
}

/// An `https://host[:port]/path` URL split up.
struct Target {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Option<Target> {
    let rest = url.strip_prefix("https://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, p.parse().ok()?),
        _ => (authority, 443),
    };
    if host.is_empty() {
        return None;
    }
    Some(Target { host: host.to_string(), port, path })
}

async fn get_json(url: &str, thumbprints: &[String]) -> Result<Value, FetchError> {
    let body = tokio::time::timeout(FETCH_TIMEOUT, get(url, thumbprints))
        .await
        .map_err(|_| FetchError::Unavailable(format!("{url}: timed out")))??;
    serde_json::from_slice(&body).map_err(|e| FetchError::Unavailable(format!("{url}: {e}")))
}

/// One HTTPS GET on a fresh connection; the body, if the answer is 200 and small enough.
async fn get(url: &str, thumbprints: &[String]) -> Result<bytes::Bytes, FetchError> {
    let unavailable = |e: &dyn std::fmt::Display| FetchError::Unavailable(format!("{url}: {e}"));
    let target = parse_url(url).ok_or_else(|| unavailable(&"not an https URL"))?;
    let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| unavailable(&e))?;
    let name = ServerName::try_from(target.host.clone()).map_err(|e| unavailable(&e))?;
    let tls = tokio_rustls::TlsConnector::from(client_config(thumbprints)).connect(name, tcp).await.map_err(|e| tls_error(url, e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| unavailable(&e))?;
    tokio::spawn(conn);
    let authority = if target.port == 443 { target.host.clone() } else { format!("{}:{}", target.host, target.port) };
    let request = hyper::Request::get(target.path.as_str())
        .header("host", authority)
        .header("accept", "application/json")
        .body(Empty::<bytes::Bytes>::new())
        .map_err(|e| unavailable(&e))?;
    let response = sender.send_request(request).await.map_err(|e| unavailable(&e))?;
    if response.status() != hyper::StatusCode::OK {
        return Err(unavailable(&response.status()));
    }
    let body = Limited::new(response.into_body(), MAX_BODY).collect().await.map_err(|e| unavailable(&e))?;
    Ok(body.to_bytes())
}

/// A handshake refused for the server's certificate is `Untrusted`; anything else is
/// the issuer being unavailable.
fn tls_error(url: &str, e: std::io::Error) -> FetchError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(_)) => FetchError::Untrusted,
        _ => FetchError::Unavailable(format!("{url}: {e}")),
    }
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

fn web_roots() -> Arc<WebPkiServerVerifier> {
    static ROOTS: OnceLock<Arc<WebPkiServerVerifier>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut store = rustls::RootCertStore::empty();
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            // A builder over a non-empty root store with the ring provider cannot fail.
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider()).build().expect("web roots verifier")
        })
        .clone()
}

fn client_config(thumbprints: &[String]) -> Arc<rustls::ClientConfig> {
    let verifier = ThumbprintOrWebRoots { web: web_roots(), thumbprints: thumbprints.to_vec(), provider: provider() };
    let config = rustls::ClientConfig::builder_with_provider(provider())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse_url("https://127.0.0.1:8443/jwks.json").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("127.0.0.1", 8443, "/jwks.json"));
        let t = parse_url("https://token.actions.githubusercontent.com").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("token.actions.githubusercontent.com", 443, "/"));
        assert!(parse_url("http://x/").is_none());
    }

    #[test]
    fn refused_algorithms() {
        for alg in ["none", "HS256", "HS384", "HS512", ""] {
            assert!(algorithm(alg).is_none(), "{alg}");
        }
        assert!(algorithm("RS256").is_some());
    }

    #[test]
    fn der_integers_are_positive_and_minimal() {
        assert_eq!(der_integer(&[0x00, 0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_integer(&[0x01, 0x00, 0x01]), vec![0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(der(0x30, &[0u8; 200])[..3], [0x30, 0x81, 200]);
    }

    #[test]
    fn kid_selection() {
        let keys = vec![serde_json::json!({"kid": "a"}), serde_json::json!({"kid": "b"})];
        assert_eq!(find_key(&keys, Some("b")).unwrap()["kid"], "b");
        assert!(find_key(&keys, Some("c")).is_none());
        assert!(find_key(&keys, None).is_none());
        assert!(find_key(&keys[..1], None).is_some());
    }
}
