//! HTTP subscribers: the POST of a SubscriptionConfirmation or Notification with SNS's
//! `x-amz-sns-*` headers, and the retry policy of the subscription's (or topic's)
//! `DeliveryPolicy` — `healthyRetryPolicy` / `http.defaultHealthyRetryPolicy`, AWS's
//! default 3 retries 20 s apart. A 2xx answer is delivered; 429, 5xx, a refused
//! connection or a timeout is retried; another 4xx is a client-side error, not retried.
//! `https://` endpoints are not called (recorded only; no TLS client yet).
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

/// One POST to `url` with `headers` and `body`.
pub async fn post(url: &str, headers: &[(String, String)], body: String) -> Outcome {
    let Some(rest) = url.strip_prefix("http://") else { return Outcome::Permanent(format!("{url}: only http:// endpoints are called by nimbus")) };
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
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let exchange = async {
        let tcp = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| e.to_string())?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut request = hyper::Request::builder().method("POST").uri(path.as_str()).header("host", authority).header("content-length", body.len());
        for (k, v) in headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let _ = response.into_body().collect().await;
        Ok::<u16, String>(status)
    };
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Err(_) => Outcome::Retry(format!("{url}: no answer within 15 s")),
        Ok(Err(e)) => Outcome::Retry(format!("{url}: {e}")),
        Ok(Ok(s)) if (200..300).contains(&s) => Outcome::Delivered,
        Ok(Ok(s)) if s == 429 || s >= 500 => Outcome::Retry(format!("{url}: HTTP {s}")),
        Ok(Ok(s)) => Outcome::Permanent(format!("{url}: HTTP {s}")),
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
