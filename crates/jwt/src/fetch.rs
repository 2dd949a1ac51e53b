//! Getting an issuer's keys: `<issuer>/.well-known/openid-configuration` → `jwks_uri` →
//! the JWKS's `keys`, each a GET on a fresh connection over `https://` (rustls, with the
//! configuration the caller gives; core's `outbound_tls` by default) or plain `http://`. Bounded in time and size.

use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Bound on each exchange (connect, handshake, request, body).
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on a discovery document or JWKS body.
const MAX_BODY: usize = 1 << 20;

/// Why an issuer's keys could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The server's certificate was refused by the TLS configuration's verifier.
    Untrusted,
    /// Anything else: unreachable, timeout, non-200, too large, not JSON, no jwks_uri.
    Unavailable(String),
}

/// The outbound-TLS pieces are core's (`nimbus_core::outbound_tls`), shared with SNS's
/// HTTPS delivery: the ring provider, and the web roots plus the extra CA bundle
/// (`--ca-bundle` / `NIMBUS_CA_BUNDLE`), under the names this crate's callers use.
pub use nimbus_core::outbound_tls::{client_config as web_roots_config, provider, verifier as web_roots};

/// Discovery document → `jwks_uri` → the JWKS's `keys`. `issuer` is a base URL with its
/// scheme (`https://host[:port][/path]` or `http://…`), without a trailing slash. An https
/// issuer's `jwks_uri` must be https too (no downgrade to plain http).
pub async fn fetch_keys(issuer: &str, tls: &Arc<rustls::ClientConfig>) -> Result<Vec<Value>, FetchError> {
    let issuer = issuer.trim_end_matches('/');
    let config = get_json(&format!("{issuer}/.well-known/openid-configuration"), tls).await?;
    let jwks_uri = config.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| FetchError::Unavailable("no jwks_uri".into()))?;
    if issuer.starts_with("https://") && !jwks_uri.starts_with("https://") {
        return Err(FetchError::Unavailable(format!("{jwks_uri}: an https issuer's jwks_uri must be https")));
    }
    let jwks = get_json(jwks_uri, tls).await?;
    match jwks.get("keys") {
        Some(Value::Array(keys)) => Ok(keys.clone()),
        _ => Err(FetchError::Unavailable("JWKS has no keys".into())),
    }
}

/// An `http(s)://host[:port]/path` URL split up.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn parse_url(url: &str) -> Option<Target> {
    let (tls, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, p.parse().ok()?),
        _ => (authority, default_port),
    };
    if host.is_empty() {
        return None;
    }
    Some(Target { tls, host: host.to_string(), port, path })
}

/// A GET of `url` whose 200 body is JSON.
pub async fn get_json(url: &str, tls: &Arc<rustls::ClientConfig>) -> Result<Value, FetchError> {
    let body = tokio::time::timeout(FETCH_TIMEOUT, get(url, tls)).await.map_err(|_| FetchError::Unavailable(format!("{url}: timed out")))??;
    serde_json::from_slice(&body).map_err(|e| FetchError::Unavailable(format!("{url}: {e}")))
}

/// One GET on a fresh connection; the body, if the answer is 200 and small enough.
async fn get(url: &str, tls: &Arc<rustls::ClientConfig>) -> Result<bytes::Bytes, FetchError> {
    let unavailable = |e: &dyn std::fmt::Display| FetchError::Unavailable(format!("{url}: {e}"));
    let target = parse_url(url).ok_or_else(|| unavailable(&"not an http(s) URL"))?;
    let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| unavailable(&e))?;
    if !target.tls {
        return exchange(url, TokioIo::new(tcp), &target).await;
    }
    let name = ServerName::try_from(target.host.clone()).map_err(|e| unavailable(&e))?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp).await.map_err(|e| tls_error(url, e))?;
    exchange(url, TokioIo::new(stream), &target).await
}

async fn exchange<IO>(url: &str, io: IO, target: &Target) -> Result<bytes::Bytes, FetchError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let unavailable = |e: &dyn std::fmt::Display| FetchError::Unavailable(format!("{url}: {e}"));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| unavailable(&e))?;
    tokio::spawn(conn);
    let default_port = if target.tls { 443 } else { 80 };
    let authority = if target.port == default_port { target.host.clone() } else { format!("{}:{}", target.host, target.port) };
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

/// A handshake refused for the server's certificate is `Untrusted`; anything else is the
/// issuer being unavailable.
fn tls_error(url: &str, e: std::io::Error) -> FetchError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(_)) => FetchError::Untrusted,
        _ => FetchError::Unavailable(format!("{url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse_url("https://127.0.0.1:8443/jwks.json").expect("url");
        assert_eq!((t.tls, t.host.as_str(), t.port, t.path.as_str()), (true, "127.0.0.1", 8443, "/jwks.json"));
        let t = parse_url("https://token.actions.githubusercontent.com").expect("url");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("token.actions.githubusercontent.com", 443, "/"));
        let t = parse_url("http://localhost/x").expect("url");
        assert_eq!((t.tls, t.port), (false, 80));
        assert!(parse_url("ftp://x/").is_none());
        assert!(parse_url("https://:1/").is_none());
    }
}
