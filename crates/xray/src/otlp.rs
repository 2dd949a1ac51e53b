//! Export to an OpenTelemetry collector (`--otlp-endpoint http://host:4318`): every
//! finished document the store commits is turned into OTLP spans (the segment and each
//! subsegment in it) and POSTed in batches to `<endpoint>/v1/traces` with the OTLP/HTTP
//! JSON encoding. Spans are grouped into one `resourceSpans` entry per service
//! (`service.name` = the segment's name). In the background on a bounded channel: a slow
//! or absent collector loses spans (counted in the log), it never slows a request.
//! <https://opentelemetry.io/docs/specs/otlp/#otlphttp>

use crate::segments::Doc;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use std::time::Duration;
use tokio::sync::mpsc;

/// Batches waiting for the exporter at most.
const QUEUE: usize = 1024;
/// Spans per POST at most.
const MAX_SPANS: usize = 512;
/// How long spans wait for more before they are sent.
const LINGER: Duration = Duration::from_millis(200);
const TIMEOUT: Duration = Duration::from_secs(10);

/// The collector's address.
#[derive(Debug, Clone)]
pub struct Exporter {
    tls: bool,
    host: String,
    port: u16,
    authority: String,
    path: String,
}

impl Exporter {
    /// `http://host:port[/base]` or `https://…`; spans go to `<base>/v1/traces`.
    pub fn parse(endpoint: &str) -> Result<Exporter, String> {
        let (tls, rest) = if let Some(r) = endpoint.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = endpoint.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!("--otlp-endpoint must start with http:// or https://, got {endpoint}"));
        };
        let (authority, base) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().map_err(|_| format!("--otlp-endpoint: bad port in {endpoint}"))?),
            _ => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(format!("--otlp-endpoint: no host in {endpoint}"));
        }
        let path = if base.ends_with("/v1/traces") { base.to_string() } else { format!("{base}/v1/traces") };
        Ok(Exporter { tls, host: host.trim_start_matches('[').trim_end_matches(']').to_string(), port, authority: authority.to_string(), path })
    }

    /// Starts the exporting task; committed documents are sent to the returned channel.
    pub fn start(self) -> mpsc::Sender<Vec<Doc>> {
        let (tx, mut rx) = mpsc::channel::<Vec<Doc>>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut docs = first;
                let deadline = tokio::time::sleep(LINGER);
                tokio::pin!(deadline);
                while docs.len() < MAX_SPANS {
                    tokio::select! {
                        more = rx.recv() => match more { Some(m) => docs.extend(m), None => break },
                        _ = &mut deadline => break,
                    }
                }
                let body = encode(&docs);
                if body["resourceSpans"].as_array().is_some_and(|r| r.is_empty()) {
                    continue;
                }
                if let Err(e) = self.post(body.to_string()).await {
                    tracing::warn!(error = %e, spans = docs.len(), "OTLP export failed; these spans are lost");
                }
            }
        });
        tx
    }

    async fn post(&self, body: String) -> Result<u16, String> {
        let exchange = async {
            let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await.map_err(|e| e.to_string())?;
            if self.tls {
                let config = nimbus_core::outbound_tls::client_config();
                let stream = nimbus_core::outbound_tls::connect(&config, &self.host, tcp).await.map_err(|e| e.to_string())?;
                self.send(TokioIo::new(stream), body).await
            } else {
                self.send(TokioIo::new(tcp), body).await
            }
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Err(_) => Err("no answer within 10 s".into()),
            Ok(Ok(s)) if (200..300).contains(&s) => Ok(s),
            Ok(Ok(s)) => Err(format!("HTTP {s}")),
            Ok(Err(e)) => Err(e),
        }
    }

    async fn send<IO>(&self, io: IO, body: String) -> Result<u16, String>
    where
        IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let request = hyper::Request::builder()
            .method("POST")
            .uri(self.path.as_str())
            .header("host", self.authority.as_str())
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let _ = response.into_body().collect().await;
        Ok(status)
    }
}

/// The OTLP trace id of an X-Ray trace id: its 32 hex digits without `1-` and `-`.
pub fn otlp_trace_id(xray: &str) -> String {
    xray.strip_prefix("1-").unwrap_or(xray).replace('-', "")
}

fn nanos(secs: f64) -> String {
    format!("{}", (secs * 1e9).round() as u64)
}

fn attr(key: &str, v: &Value) -> Option<Value> {
    let value = match v {
        Value::String(s) => json!({ "stringValue": s }),
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Number(n) if n.is_i64() => json!({ "intValue": n.to_string() }),
        Value::Number(n) => json!({ "doubleValue": n.as_f64() }),
        _ => return None,
    };
    Some(json!({ "key": key, "value": value }))
}

/// One span for `node` (a segment or subsegment) and its subsegments, into `out`.
fn spans(trace_id: &str, node: &Value, parent: Option<&str>, is_segment: bool, out: &mut Vec<Value>) {
    let (Some(id), Some(start)) = (node.get("id").and_then(Value::as_str), node.get("start_time").and_then(Value::as_f64)) else { return };
    let Some(end) = node.get("end_time").and_then(Value::as_f64) else { return };
    let namespace = node.get("namespace").and_then(Value::as_str);
    let kind = match (is_segment, namespace) {
        (true, _) => 2,
        (false, Some("aws" | "remote")) => 3,
        _ => 1,
    };
    let mut attrs = Vec::new();
    if let Some(o) = node.get("origin") {
        attrs.extend(attr("aws.origin", o));
    }
    if let Some(Value::Object(aws)) = node.get("aws") {
        for (k, v) in aws {
            attrs.extend(attr(&format!("aws.{k}"), v));
        }
    }
    let http = node.get("http");
    let req = http.and_then(|h| h.get("request"));
    if let Some(m) = req.and_then(|r| r.get("method")) {
        attrs.extend(attr("http.request.method", m));
    }
    if let Some(u) = req.and_then(|r| r.get("url")) {
        attrs.extend(attr("url.full", u));
    }
    if let Some(s) = http.and_then(|h| h.get("response")).and_then(|r| r.get("status")) {
        attrs.extend(attr("http.response.status_code", s));
    }
    if let Some(Value::Object(ann)) = node.get("annotations") {
        for (k, v) in ann {
            attrs.extend(attr(k, v));
        }
    }
    let flag = |k: &str| node.get(k).and_then(Value::as_bool) == Some(true);
    for f in ["error", "fault", "throttle"] {
        if flag(f) {
            attrs.extend(attr(&format!("aws.xray.{f}"), &Value::Bool(true)));
        }
    }
    let mut span = Map::new();
    span.insert("traceId".into(), otlp_trace_id(trace_id).into());
    span.insert("spanId".into(), id.into());
    if let Some(p) = parent {
        span.insert("parentSpanId".into(), p.into());
    }
    span.insert("name".into(), node.get("name").cloned().unwrap_or(Value::from("segment")));
    span.insert("kind".into(), kind.into());
    span.insert("startTimeUnixNano".into(), nanos(start).into());
    span.insert("endTimeUnixNano".into(), nanos(end).into());
    span.insert("attributes".into(), Value::Array(attrs));
    if flag("error") || flag("fault") {
        let message = node.pointer("/cause/exceptions/0/message").and_then(Value::as_str).unwrap_or(if flag("fault") { "fault" } else { "error" });
        span.insert("status".into(), json!({ "code": 2, "message": message }));
    }
    out.push(Value::Object(span));
    if let Some(subs) = node.get("subsegments").and_then(Value::as_array) {
        for s in subs {
            spans(trace_id, s, Some(id), false, out);
        }
    }
}

/// The OTLP/HTTP JSON `ExportTraceServiceRequest` for finished documents.
pub fn encode(docs: &[Doc]) -> Value {
    let mut by_service: Vec<(String, Vec<Value>)> = Vec::new();
    for d in docs.iter().filter(|d| !d.in_progress()) {
        let service = d.doc.get("name").and_then(Value::as_str).unwrap_or("unknown").to_string();
        let mut out = Vec::new();
        spans(&d.trace_id, &d.doc, d.parent_id.as_deref(), !d.subsegment, &mut out);
        match by_service.iter_mut().find(|(s, _)| *s == service) {
            Some((_, v)) => v.extend(out),
            None => by_service.push((service, out)),
        }
    }
    let resource_spans: Vec<Value> = by_service
        .into_iter()
        .map(|(service, spans)| {
            json!({
                "resource": { "attributes": [ { "key": "service.name", "value": { "stringValue": service } }, { "key": "telemetry.sdk.name", "value": { "stringValue": "nimbus" } } ] },
                "scopeSpans": [ { "scope": { "name": "nimbus.xray", "version": env!("CARGO_PKG_VERSION") }, "spans": spans } ]
            })
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::check;

    #[test]
    fn segments_become_spans() {
        let d = check(json!({"name": "SQS", "id": "a000000000000002", "parent_id": "a000000000000001", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
            "start_time": 1.5, "end_time": 2.25, "fault": true, "aws": {"operation": "SendMessage"},
            "cause": {"exceptions": [{"message": "boom"}]},
            "subsegments": [{"name": "DynamoDB", "id": "a000000000000003", "namespace": "aws", "start_time": 1.6, "end_time": 1.7}]}))
        .unwrap();
        let out = encode(&[d]);
        let spans = &out["resourceSpans"][0]["scopeSpans"][0]["spans"];
        assert_eq!(out["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"], "SQS");
        assert_eq!(spans[0]["traceId"], "5759e988bd862e3fe1be46a994272793");
        assert_eq!(spans[0]["parentSpanId"], "a000000000000001");
        assert_eq!(spans[0]["kind"], 2);
        assert_eq!(spans[0]["startTimeUnixNano"], "1500000000");
        assert_eq!(spans[0]["endTimeUnixNano"], "2250000000");
        assert_eq!(spans[0]["status"]["code"], 2);
        assert_eq!(spans[0]["status"]["message"], "boom");
        assert_eq!(spans[1]["parentSpanId"], "a000000000000002");
        assert_eq!(spans[1]["kind"], 3);
    }

    #[test]
    fn parses_endpoints() {
        let e = Exporter::parse("http://127.0.0.1:4318").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.path.as_str()), ("127.0.0.1", 4318, "/v1/traces"));
        assert_eq!(Exporter::parse("http://collector/otlp/").unwrap().path, "/otlp/v1/traces");
        assert!(Exporter::parse("grpc://x:4317").is_err());
    }
}
