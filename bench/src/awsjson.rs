//! Raw AWS JSON-protocol calls (`POST /`, `X-Amz-Target: <prefix>.<Op>`, JSON 1.0 or
//! 1.1) for the workloads that speak them without an SDK (`sfn`, `kinesis`): the
//! pre-built headers of one operation, and one call on a keep-alive connection that
//! returns the answer's JSON.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use serde_json::Value;

use crate::client::{status_error, RawConn};
use crate::payload;

/// One JSON-protocol service as seen from the bench: which `X-Amz-Target` prefix, which
/// JSON version, which service name in the (unverified) SigV4 credential scope.
#[derive(Clone, Copy)]
pub struct Service {
    /// e.g. `AWSStepFunctions`, `Kinesis_20131202`.
    pub target_prefix: &'static str,
    /// `application/x-amz-json-1.0` or `-1.1`.
    pub content_type: &'static str,
    /// The credential scope's service, e.g. `states`, `kinesis`.
    pub signing_name: &'static str,
}

impl Service {
    /// The headers of `op` on `host`, built once and cloned into each request.
    pub fn headers(&self, host: &str, op: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("localhost")));
        h.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        h.insert("x-amz-date", HeaderValue::from_static(payload::AMZ_DATE));
        let auth = payload::AUTHORIZATION.replace("/sqs/", &format!("/{}/", self.signing_name));
        if let Ok(v) = HeaderValue::from_str(&auth) {
            h.insert(AUTHORIZATION, v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("{}.{op}", self.target_prefix)) {
            h.insert("x-amz-target", v);
        }
        h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
        h
    }
}

/// One call with pre-built headers and body; the answer parsed as JSON (`Null` if empty).
pub async fn call_raw(conn: &mut RawConn, headers: &HeaderMap, op: &str, body: Bytes) -> Result<Value, String> {
    let (status, answer) = conn.call(headers, body).await?;
    if !status.is_success() {
        return Err(status_error(op, status, &answer));
    }
    if answer.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&answer).map_err(|e| format!("{op}: bad JSON ({e})"))
}

/// One call of `op` with `body`, building the headers on the way (setup calls).
pub async fn call(conn: &mut RawConn, service: Service, host: &str, op: &str, body: Value) -> Result<Value, String> {
    let h = service.headers(host, op);
    call_raw(conn, &h, op, Bytes::from(body.to_string())).await
}

/// The `p` quantile (0..1) of a histogram of microseconds, in milliseconds (0 if empty).
pub fn ms_at(h: &hdrhistogram::Histogram<u64>, p: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(p) as f64 / 1000.0
    }
}

/// The median of `v` (0 if empty); the upper middle of an even count.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
