//! `HTTP_PROXY` integrations of HTTP APIs ("Work with HTTP proxy integrations for HTTP APIs",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-http.html):
//! the upstream URL from `IntegrationUri` (path variables such as `{id}` and `{proxy}`
//! substituted; a URI without a path gets the request's path), and one HTTP/1.1 exchange
//! with hyper: method, headers (hop-by-hop ones dropped, `Host` the upstream's,
//! `X-Forwarded-For` / `-Port` / `-Proto` and `Forwarded` added), body; the upstream's
//! status, headers and body come back. `https://` upstreams are not supported yet.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;

/// The largest upstream answer passed on (API Gateway's payload quota is 10 MB).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the proxy sets itself.
const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host", "content-length"];

pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
}

#[derive(Debug)]
pub enum ProxyError {
    /// The URI is not one nimbus can call (`https://`, not a URL).
    Unsupported(String),
    /// Connecting or talking to the upstream failed.
    Unreachable(String),
}

/// An upstream's answer.
pub struct Upstream {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// An `http://host[:port]/path?query` URI in parts.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub path: String,
    pub query: String,
}

pub fn parse_uri(uri: &str) -> Result<Target, ProxyError> {
    if uri.starts_with("https://") {
        return Err(ProxyError::Unsupported("HTTPS integration endpoints are not supported by nimbus yet".into()));
    }
    let rest = uri.strip_prefix("http://").ok_or_else(|| ProxyError::Unsupported(format!("Invalid integration URI: {uri}")))?;
    let (authority, path_query) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse().map_err(|_| ProxyError::Unsupported(format!("Invalid integration URI: {uri}")))?),
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(ProxyError::Unsupported(format!("Invalid integration URI: {uri}")));
    }
    Ok(Target { host: host.trim_start_matches('[').trim_end_matches(']').to_string(), port, path: path.to_string(), query: query.to_string() })
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// The URI's path with `{name}` / `{name+}` replaced by the route's path parameters
/// (re-encoded); a URI without a path gets `request_path`.
pub fn upstream_path(uri_path: &str, request_path: &str, params: &HashMap<String, String>) -> String {
    if uri_path.is_empty() {
        return request_path.to_string();
    }
    let mut out = String::new();
    let mut rest = uri_path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..open + close];
        match params.get(name.trim_end_matches('+')) {
            Some(v) => out.extend(percent_encoding::utf8_percent_encode(v, SEGMENT)),
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// One exchange with the upstream on a fresh connection.
pub async fn send(method: &str, target: &Target, path_and_query: &str, headers: &[(String, String)], body: Bytes) -> Result<Upstream, ProxyError> {
    let unreachable = |e: &dyn std::fmt::Display| ProxyError::Unreachable(format!("{}:{}: {e}", target.host, target.port));
    let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| unreachable(&e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| unreachable(&e))?;
    tokio::spawn(conn);
    let authority = if target.port == 80 { target.host.clone() } else { format!("{}:{}", target.host, target.port) };
    let mut request = hyper::Request::builder().method(method).uri(path_and_query).header("host", authority);
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    if !body.is_empty() || !matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS") {
        request = request.header("content-length", body.len());
    }
    let request = request.body(Full::new(body)).map_err(|e| unreachable(&e))?;
    let response = sender.send_request(request).await.map_err(|e| unreachable(&e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(k, _)| !is_hop_by_hop(k.as_str()))
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = Limited::new(response.into_body(), MAX_BODY).collect().await.map_err(|e| unreachable(&e))?.to_bytes();
    Ok(Upstream { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_uris_and_refuses_others() {
        let t = parse_uri("http://127.0.0.1:8080/a/{proxy}?x=1").expect("uri");
        assert_eq!(t, Target { host: "127.0.0.1".into(), port: 8080, path: "/a/{proxy}".into(), query: "x=1".into() });
        let t = parse_uri("http://example.com").expect("uri");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("example.com", 80, ""));
        assert!(matches!(parse_uri("https://example.com"), Err(ProxyError::Unsupported(m)) if m.contains("not supported by nimbus yet")));
        assert!(parse_uri("ftp://x").is_err());
        assert!(parse_uri("http://:80/").is_err());
    }

    #[test]
    fn substitutes_path_variables() {
        let params = HashMap::from([("proxy".to_string(), "a/b c".to_string()), ("id".to_string(), "7".to_string())]);
        assert_eq!(upstream_path("/up/{proxy}", "/x", &params), "/up/a/b%20c");
        assert_eq!(upstream_path("/pets/{id}/{missing}", "/x", &params), "/pets/7/{missing}");
        assert_eq!(upstream_path("", "/req/path", &params), "/req/path");
    }
}
