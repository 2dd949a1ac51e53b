//! Data planes: endpoints the binary registers on the router that are not AWS API calls
//! (API Gateway's execute-api endpoint). A data plane gets its requests as the client sent
//! them — no AWS protocol, no signature — and answers them itself. It may also take over
//! the connection when the client asks to switch protocols (a WebSocket upgrade): the
//! router hands it the request, sends the plane's answer (`101 Switching Protocols` and
//! its headers), then gives the plane the raw connection. The router knows nothing of the
//! protocol spoken after the switch.

use crate::service::BoxFuture;
use bytes::Bytes;
use http::HeaderMap;

/// A request to a data plane (an API Gateway API invoked by path or host), as the client
/// sent it: no AWS protocol, no signature.
pub struct DataRequest {
    pub method: String,
    /// The path after the data plane's prefix, still percent-encoded.
    pub path: String,
    /// The raw query string (without `?`), `""` when there is none.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub host: String,
    pub source_ip: std::net::IpAddr,
    pub request_id: String,
}

/// What a data plane answers.
pub struct DataResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// The connection after a protocol switch: bytes both ways, with tokio's I/O traits.
pub type UpgradedIo = hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>;

/// What runs on the switched connection: `Some(io)` once the switch completed, `None` when
/// it failed (the client left before the `101` reached it), so the plane can clean up.
pub type OnUpgrade = Box<dyn FnOnce(Option<UpgradedIo>) -> BoxFuture<'static, ()> + Send>;

/// A data plane's answer to an upgrade request.
pub enum UpgradeAnswer {
    /// An ordinary response; the connection stays HTTP.
    Respond(DataResponse),
    /// Switch protocols: `response` (status 101 and the plane's headers, e.g.
    /// `Sec-WebSocket-Accept`) goes out, then `then` runs on the connection.
    Switch { response: DataResponse, then: OnUpgrade },
}

/// Serves requests under a path prefix or host suffix that are not AWS API calls (the API
/// Gateway crate's execute-api endpoint). Registered by the binary with
/// `Router::add_data_plane` / `Router::add_host_data_plane`.
pub trait DataPlane: Send + Sync {
    fn handle<'a>(&'a self, req: DataRequest) -> BoxFuture<'a, DataResponse>;

    /// A request asking to switch protocols ([`is_upgrade`]: a WebSocket handshake, or
    /// e.g. curl's `Upgrade: h2c`). By default answered like any other request.
    fn upgrade<'a>(&'a self, req: DataRequest) -> BoxFuture<'a, UpgradeAnswer> {
        Box::pin(async move { UpgradeAnswer::Respond(self.handle(req).await) })
    }
}

/// Whether a request asks to switch protocols: `Connection: upgrade` (one of its tokens)
/// and an `Upgrade` header.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    let connection_upgrade = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    connection_upgrade && headers.contains_key(http::header::UPGRADE)
}

#[cfg(test)]
mod tests {
    use super::is_upgrade;
    use http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn upgrade_needs_both_headers() {
        assert!(is_upgrade(&headers(&[("connection", "Upgrade"), ("upgrade", "websocket")])));
        assert!(is_upgrade(&headers(&[("connection", "keep-alive, Upgrade"), ("upgrade", "websocket")])));
        assert!(!is_upgrade(&headers(&[("upgrade", "websocket")])));
        assert!(!is_upgrade(&headers(&[("connection", "keep-alive"), ("upgrade", "websocket")])));
        assert!(!is_upgrade(&headers(&[("connection", "upgrade")])));
    }
}
