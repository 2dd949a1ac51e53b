//! HTTP/S subscribers: the POST of a SubscriptionConfirmation or Notification with SNS's
//! `x-amz-sns-*` headers (the retry schedule is `delivery_policy.rs`'s). A 2xx answer is delivered; 429, 5xx, a refused
//! connection or a timeout is retried; another 4xx is a client-side error, not retried.
//! `https://` endpoints are called over core's outbound TLS (`outbound_tls.rs`: the web
//! roots plus `--ca-bundle`); a certificate the trust store refuses is not retried.
//! https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// AWS gives an endpoint 15 s to answer.
const TIMEOUT: Duration = Duration::from_secs(15);

/// How one HTTP attempt ended.
pub enum Outcome {
    Delivered,
    /// Server-side: retried per the policy.
    Retry(String),
    /// Client-side (a 4xx other than 429): not retried.
    Permanent(String),
}

/// One POST to `url` (`http://` or `https://`) with `headers` and `body`.
pub async fn post(url: &str, headers: &[(String, String)], body: String) -> Outcome {
    // The scheme in any case, as Subscribe accepts it.
    let scheme = |s: &str| url.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s));
    let (tls, rest) = match (scheme("https://"), scheme("http://")) {
        (true, _) => (true, &url[8..]),
        (false, true) => (false, &url[7..]),
        _ => return Outcome::Permanent(format!("{url}: not an http(s) URL")),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') { format!("/{path}") } else { path.to_string() };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => match p.parse::<u16>() {
            Ok(port) => (h, port),
            Err(_) => return Outcome::Permanent(format!("{url}: bad port")),
        },
        _ => (authority, if tls { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let request = Request { authority, path: &path, headers, body };
    let exchange = async {
        let tcp = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| Failure::Retry(e.to_string()))?;
        if !tls {
            return request.send(TokioIo::new(tcp)).await;
        }
        let config = nimbus_core::outbound_tls::client_config();
        match nimbus_core::outbound_tls::connect(&config, host, tcp).await {
            Ok(stream) => request.send(TokioIo::new(stream)).await,
            // AWS delivers only to endpoints whose certificate a trusted CA signed: a refused
            // certificate is the endpoint's (client-side) error, not retried.
            Err(e) if nimbus_core::outbound_tls::is_untrusted(&e) => Err(Failure::Permanent(format!("certificate not trusted: {e}"))),
            Err(e) => Err(Failure::Retry(format!("TLS: {e}"))),
        }
    };
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Err(_) => Outcome::Retry(format!("{url}: no answer within 15 s")),
        Ok(Err(Failure::Retry(e))) => Outcome::Retry(format!("{url}: {e}")),
        Ok(Err(Failure::Permanent(e))) => Outcome::Permanent(format!("{url}: {e}")),
        Ok(Ok(s)) if (200..300).contains(&s) => Outcome::Delivered,
        Ok(Ok(s)) if s == 429 || s >= 500 => Outcome::Retry(format!("{url}: HTTP {s}")),
        Ok(Ok(s)) => Outcome::Permanent(format!("{url}: HTTP {s}")),
    }
}

/// Why an exchange ended without a status.
enum Failure {
    Retry(String),
    Permanent(String),
}

/// One POST, over whichever stream the scheme gave.
struct Request<'a> {
    authority: &'a str,
    path: &'a str,
    headers: &'a [(String, String)],
    body: String,
}

impl Request<'_> {
    async fn send<IO>(self, io: IO) -> Result<u16, Failure>
    where
        IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let retry = |e: &dyn std::fmt::Display| Failure::Retry(e.to_string());
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| retry(&e))?;
        tokio::spawn(conn);
        let mut request = hyper::Request::builder().method("POST").uri(self.path).header("host", self.authority).header("content-length", self.body.len());
        for (k, v) in self.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let request = request.body(Full::new(Bytes::from(self.body))).map_err(|e| retry(&e))?;
        let response = sender.send_request(request).await.map_err(|e| retry(&e))?;
        let status = response.status().as_u16();
        let _ = response.into_body().collect().await;
        Ok(status)
    }
}
