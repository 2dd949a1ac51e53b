//! The trace of one HTTP API request: read from `X-Amzn-Trace-Id` or started (sampled),
//! handed to the integration (Lambda's invocation, an HTTP_PROXY upstream's header, the
//! Lambda event's headers) with the stage's segment as the parent, returned to the client
//! in `X-Amzn-Trace-Id`, and the stage segment recorded (`<apiId>/<stage>`,
//! `AWS::ApiGateway::Stage`, the request's `http` facts), as API Gateway's active tracing
//! does (<https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-xray.html>).
//! AWS records this segment for REST APIs only; nimbus records it for HTTP APIs too
//! (docs/observability.md).

use nimbus_core::data_plane::DataRequest;
use nimbus_core::trace::{self, Segment, TraceHeader};
use serde_json::json;

pub struct StageTrace {
    header: TraceHeader,
    /// The stage segment's id, when it is recorded.
    segment: Option<String>,
    start_ms: u64,
}

impl StageTrace {
    /// Reads the client's header or starts a trace; rewrites the request's
    /// `X-Amzn-Trace-Id` to what the integration gets.
    pub fn begin(req: &mut DataRequest, now_ms: u64) -> StageTrace {
        let sent = req.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).and_then(TraceHeader::parse);
        let mut header = sent.unwrap_or_else(|| TraceHeader::new_root(now_ms));
        if header.sampled.is_none() {
            header.sampled = Some(true);
        }
        let segment = (header.is_sampled() && trace::recording()).then(trace::new_segment_id);
        let t = StageTrace { header, segment, start_ms: now_ms };
        if let Ok(v) = http::HeaderValue::from_str(&t.downstream()) {
            req.headers.insert("x-amzn-trace-id", v);
        }
        t
    }

    /// The header the integration gets: the stage segment as the parent.
    pub fn downstream(&self) -> String {
        match &self.segment {
            Some(id) => self.header.with_parent(id).render(),
            None => self.header.render(),
        }
    }

    /// The response's `X-Amzn-Trace-Id`: the trace's root (and sampling).
    pub fn response_header(&self) -> String {
        TraceHeader { parent: None, extra: Vec::new(), ..self.header.clone() }.render()
    }

    /// Records the stage segment (when sampled and recorded).
    #[allow(clippy::too_many_arguments)]
    pub fn finish(self, req: &DataRequest, api_id: &str, stage: &str, request_id: &str, status: u16, length: usize, end_ms: u64) {
        let Some(id) = self.segment else { return };
        let user_agent = req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let url = format!("http://{}/{}", req.host, req.path);
        // X-Ray names allow letters, digits, whitespace and `_.:/%&#=+\-@`: `$default`
        // is named `default`.
        let name: String = format!("{api_id}/{stage}").chars().filter(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(*c)).collect();
        let segment = Segment::new(&name, &self.header.root, &id, self.header.parent.as_deref(), self.start_ms, end_ms)
            .origin("AWS::ApiGateway::Stage")
            .aws("api_id", api_id)
            .aws("stage", stage)
            .aws("request_id", request_id)
            .http_status(status)
            .field(
                "http",
                json!({
                    "request": { "method": req.method, "url": url, "client_ip": req.source_ip.to_string(), "user_agent": user_agent },
                    "response": { "status": status, "content_length": length },
                }),
            );
        trace::record(segment);
    }
}
