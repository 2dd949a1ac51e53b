//! X-Ray for one invocation, as Lambda does it
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html>): the sampling
//! decision (the caller's, else the function's `TracingConfig` — `Active` samples,
//! `PassThrough` only passes a decision on), the `Lambda-Runtime-Trace-Id` the function
//! is handed (`Root=…;Parent=<function segment>;Sampled=…`), and the two segments Lambda
//! records for a sampled invocation: the Lambda service segment (`AWS::Lambda`) and the
//! function segment (`AWS::Lambda::Function`, its child, with `Initialization` on a cold
//! start and `Invocation` subsegments, and the function's error as a fault with its cause).
//!
//! Segments are only built when a recorder is installed and the trace is sampled.

use nimbus_core::trace::{self, Segment, TraceHeader};
use serde_json::{json, Value};

/// A trace header with no sampling decision yet (an invocation that arrives without one:
/// an event source mapping's batch of untraced messages, an untraced async event). The
/// function's tracing mode decides (`begin`).
pub fn fresh_header(now_ms: u64) -> String {
    TraceHeader { root: trace::new_trace_id(now_ms), parent: None, sampled: None, extra: Vec::new() }.render()
}

/// The trace of one invocation being run.
pub struct InvocationTrace {
    /// What the function gets as `Lambda-Runtime-Trace-Id` (and so `_X_AMZN_TRACE_ID`).
    pub header: String,
    /// Set when the invocation's segments are recorded.
    ids: Option<Ids>,
}

struct Ids {
    root: String,
    caller: Option<String>,
    service: String,
    function: String,
}

/// Decides sampling and picks the segment ids for an invocation whose caller handed it
/// `incoming` (a rendered header; something unparseable starts a new trace).
pub fn begin(incoming: &str, active: bool, now_ms: u64) -> InvocationTrace {
    let mut t = TraceHeader::parse(incoming).unwrap_or_else(|| TraceHeader { sampled: None, ..TraceHeader::new_root(now_ms) });
    let sampled = t.sampled.unwrap_or(active);
    t.sampled = Some(sampled);
    if sampled {
        // The function always gets its segment as the parent, as on AWS (an X-Ray SDK in
        // it parents its subsegments there); the segments are built only when recorded.
        let ids = Ids { root: t.root.clone(), caller: t.parent.clone(), service: trace::new_segment_id(), function: trace::new_segment_id() };
        let header = t.with_parent(&ids.function).render();
        InvocationTrace { header, ids: trace::recording().then_some(ids) }
    } else {
        InvocationTrace { header: t.render(), ids: None }
    }
}

/// What ran, for the segments.
pub struct Ran<'a> {
    pub function_name: &'a str,
    pub function_arn: &'a str,
    pub request_id: &'a str,
    pub account: &'a str,
    /// When Lambda took the invocation, when the handler started and when it ended (ms).
    pub received_ms: u64,
    pub started_ms: u64,
    pub ended_ms: u64,
    /// The cold start's init, when this invocation waited for one.
    pub init_ms: Option<f64>,
    /// The error document of a failed invocation.
    pub error: Option<&'a [u8]>,
    /// How a linked (not parent) cause is recorded: `nimbus.linked_from`.
    pub linked_from: Option<&'a str>,
}

impl InvocationTrace {
    /// Records the service and function segments (no-op when not sampled or not recorded).
    pub fn finish(self, ran: Ran<'_>) {
        let Some(ids) = self.ids else { return };
        let failure = ran.error.map(|doc| {
            let v: Value = serde_json::from_slice(doc).unwrap_or(Value::Null);
            let kind = v.get("errorType").and_then(Value::as_str).unwrap_or("Unhandled").to_string();
            let message = v.get("errorMessage").and_then(Value::as_str).unwrap_or("").to_string();
            (kind, message)
        });
        let mut service = Segment::new(ran.function_name, &ids.root, &ids.service, ids.caller.as_deref(), ran.received_ms, ran.ended_ms)
            .origin("AWS::Lambda")
            .aws("request_id", ran.request_id)
            .aws("function_arn", ran.function_arn)
            .aws("resource_names", json!([ran.function_name]))
            .http_status(200);
        if let Some(link) = ran.linked_from {
            service = service.metadata("nimbus", "linked_from", link);
        }
        trace::record(service);
        let mut subsegments = Vec::new();
        let mut invocation_start = ran.started_ms;
        if let Some(init) = ran.init_ms {
            let init_ms = init.round() as u64;
            let init_start = ran.started_ms.saturating_sub(init_ms).max(ran.received_ms);
            subsegments.push(json!({
                "id": trace::new_segment_id(),
                "name": "Initialization",
                "start_time": init_start as f64 / 1000.0,
                "end_time": ran.started_ms as f64 / 1000.0,
                "aws": { "function_arn": ran.function_arn },
            }));
            invocation_start = invocation_start.max(init_start);
        }
        let mut inv = json!({
            "id": trace::new_segment_id(),
            "name": "Invocation",
            "start_time": invocation_start as f64 / 1000.0,
            "end_time": ran.ended_ms.max(invocation_start) as f64 / 1000.0,
            "aws": { "function_arn": ran.function_arn },
        });
        if let Some((kind, message)) = &failure {
            inv["fault"] = json!(true);
            inv["cause"] = json!({ "exceptions": [{ "id": trace::new_segment_id(), "type": kind, "message": message }] });
        }
        subsegments.push(inv);
        let start = ran.init_ms.map(|_| ran.received_ms).unwrap_or(ran.started_ms);
        let mut function = Segment::new(ran.function_name, &ids.root, &ids.function, Some(&ids.service), start, ran.ended_ms)
            .origin("AWS::Lambda::Function")
            .aws("function_arn", ran.function_arn)
            .aws("account_id", ran.account)
            .aws("resource_names", json!([ran.function_name]))
            .field("subsegments", Value::Array(subsegments));
        if let Some((kind, message)) = failure {
            function = function.failure(true, &kind, &message);
        }
        trace::record(function);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_decision_wins_and_the_mode_decides_otherwise() {
        let sampled = begin("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", false, 0);
        assert!(sampled.header.starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;"));
        assert!(sampled.header.contains("Sampled=1"));
        let unsampled = begin("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0", true, 0);
        assert!(unsampled.header.ends_with("Sampled=0"));
        let fresh = fresh_header(1_700_000_000_000);
        assert!(begin(&fresh, true, 0).header.contains("Sampled=1"));
        assert!(begin(&fresh, false, 0).header.contains("Sampled=0"));
        assert!(begin("garbage", true, 1_700_000_000_000).header.starts_with("Root=1-6553f100-"));
    }
}
