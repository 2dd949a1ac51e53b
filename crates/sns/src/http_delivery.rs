//! HTTP subscribers: the POST of a SubscriptionConfirmation or Notification with SNS's
//! `x-amz-sns-*` headers, and the retry policy of the subscription's (or topic's)
//! `DeliveryPolicy` — `healthyRetryPolicy` / `http.defaultHealthyRetryPolicy`, AWS's
//! default 3 retries 20 s apart. A 2xx answer is delivered; 429, 5xx, a refused
//! connection or a timeout is retried; another 4xx is a client-side error, not retried.
//! `https://` endpoints are called over core's outbound TLS (`outbound_tls.rs`: the web
//! roots plus `--ca-bundle`); a certificate the trust store refuses is not retried.
//! https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// The retry schedule of an HTTP subscription (AWS's `healthyRetryPolicy`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RetryPolicy {
    pub num_retries: u32,
    pub num_no_delay_retries: u32,
    pub min_delay_s: u64,
    pub max_delay_s: u64,
    pub content_type: String,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { num_retries: 3, num_no_delay_retries: 0, min_delay_s: 20, max_delay_s: 20, content_type: "text/plain; charset=UTF-8".into() }
    }
}

impl RetryPolicy {
    /// The subscription's `DeliveryPolicy` over the topic's `http` section over AWS's default.
    pub fn of(topic_policy: Option<&str>, subscription_policy: Option<&str>) -> RetryPolicy {
        let mut p = RetryPolicy::default();
        let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok());
        if let Some(t) = parse(topic_policy) {
            p.apply(t.pointer("/http/defaultHealthyRetryPolicy"), t.pointer("/http/defaultRequestPolicy/headerContentType"));
        }
        if let Some(s) = parse(subscription_policy) {
            p.apply(s.get("healthyRetryPolicy"), s.pointer("/requestPolicy/headerContentType"));
        }
        p
    }

    fn apply(&mut self, retry: Option<&Value>, content_type: Option<&Value>) {
        if let Some(r) = retry {
            let n = |k: &str| r.get(k).and_then(Value::as_u64);
            if let Some(v) = n("numRetries") {
                self.num_retries = v.min(100) as u32;
            }
            if let Some(v) = n("numNoDelayRetries") {
                self.num_no_delay_retries = v.min(100) as u32;
            }
            if let Some(v) = n("minDelayTarget") {
                self.min_delay_s = v;
            }
            if let Some(v) = n("maxDelayTarget") {
                self.max_delay_s = v.max(self.min_delay_s);
            }
        }
        if let Some(c) = content_type.and_then(Value::as_str) {
            self.content_type = c.to_string();
        }
    }

    /// The wait before retry `n` (1-based): none for the no-delay retries, then linear
    /// from minDelayTarget to maxDelayTarget.
    pub fn delay_ms(&self, n: u32) -> u64 {
        if n <= self.num_no_delay_retries {
            return 0;
        }
        let delayed = self.num_retries.saturating_sub(self.num_no_delay_retries).max(1) as u64;
        let i = (n - self.num_no_delay_retries - 1) as u64;
        let span = self.max_delay_s.saturating_sub(self.min_delay_s);
        (self.min_delay_s + span * i / delayed.saturating_sub(1).max(1)) * 1000
    }
}

/// One POST to `url` (`http://` or `https://`) with `headers` and `body`.
pub async fn post(url: &str, headers: &[(String, String)], body: String) -> Outcome {
    let (tls, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_merge_and_schedule() {
        let p = RetryPolicy::of(None, None);
        assert_eq!((p.num_retries, p.delay_ms(1), p.delay_ms(3)), (3, 20_000, 20_000));
        let sub = r#"{"healthyRetryPolicy":{"numRetries":4,"numNoDelayRetries":1,"minDelayTarget":1,"maxDelayTarget":4},"requestPolicy":{"headerContentType":"application/json"}}"#;
        let p = RetryPolicy::of(Some(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":9}}}"#), Some(sub));
        assert_eq!(p.num_retries, 4);
        assert_eq!(p.content_type, "application/json");
        assert_eq!([p.delay_ms(1), p.delay_ms(2), p.delay_ms(4)], [0, 1000, 4000]);
    }
}
