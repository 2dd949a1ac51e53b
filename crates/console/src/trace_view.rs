//! The trace view: one trace's waterfall (`waterfall.rs`, from X-Ray's BatchGetTraces)
//! with the log lines of each Lambda invocation in it, read from CloudWatch Logs. Served
//! as `GET /_nimbus/console/trace/<trace-id>` to the console's trace page and to
//! `nimbus trace`, so both show the same thing.
//!
//! An invocation's lines are those of its log stream from its `START RequestId: <id>` line
//! to its `REPORT RequestId: <id>` line (an execution environment runs one invocation at
//! a time, as on AWS, so every line between them is that invocation's): found with
//! FilterLogEvents on `/aws/lambda/<function>` for the request id, read with GetLogEvents.
//! When the trace names no request id, the lines that carry the trace id are shown.

use crate::api::Services;
use crate::waterfall::{self, Row};
use nimbus_core::AwsError;
use serde_json::{json, Value};

/// At most this many invocations' logs are looked up per trace.
const MAX_INVOCATIONS: usize = 25;
/// At most this many lines per invocation.
const MAX_LINES: u64 = 500;
/// Log lines are looked for this long before and after the trace.
const SLACK_MS: i64 = 5 * 60 * 1000;

/// The view of trace `trace_id` (`{TraceId, StartTime, DurationMs, Rows, Invocations}`).
pub async fn build(services: &Services, host: &str, region: &str, trace_id: &str) -> Result<Value, AwsError> {
    if !services.has("xray") {
        return Err(AwsError::new("NotSupported", 501, "X-Ray is not available in this nimbus"));
    }
    if !nimbus_core::trace::is_trace_id(trace_id) {
        return Err(AwsError::new("InvalidRequestException", 400, format!("{trace_id} is not a trace id (1-<8 hex>-<24 hex>)")));
    }
    let out = services.call(host, region, "xray", "BatchGetTraces", json!({ "TraceIds": [trace_id] })).await?;
    let Some(w) = waterfall::from_batch(&out, trace_id) else {
        return Err(AwsError::new("TraceNotFound", 404, format!("No trace {trace_id} is stored in {region}")));
    };
    let window = ((w.start_ms as i64) - SLACK_MS, (w.start_ms + w.duration_ms) as i64 + SLACK_MS);
    let mut invocations = Vec::new();
    let mut looked: Vec<(String, Option<String>)> = Vec::new();
    for row in w.rows.iter().filter(|r| r.function.is_some()) {
        let key = (row.function.clone().unwrap_or_default(), row.request_id.clone());
        if looked.contains(&key) || looked.iter().any(|(f, r)| *f == key.0 && r.is_some() && key.1.is_none()) {
            continue;
        }
        if looked.len() >= MAX_INVOCATIONS {
            break;
        }
        looked.push(key);
        if let Some(inv) = invocation_logs(services, host, region, row, trace_id, window).await {
            invocations.push(inv);
        }
    }
    // An invocation found under two rows (the Lambda service and the function segment)
    // is shown once.
    invocations.dedup_by(|a, b| a["log_stream"] == b["log_stream"] && a["request_id"] == b["request_id"] && !a["request_id"].is_null());
    Ok(json!({
        "TraceId": trace_id,
        "StartTime": w.start_ms / 1000.0,
        "DurationMs": w.duration_ms,
        "Rows": w.rows.iter().map(Row::to_json).collect::<Vec<_>>(),
        "Invocations": invocations,
    }))
}

/// The log lines of the invocation a row stands for, or `None` when its log group has
/// none of them.
async fn invocation_logs(services: &Services, host: &str, region: &str, row: &Row, trace_id: &str, window: (i64, i64)) -> Option<Value> {
    let function = row.function.as_deref()?;
    let group = format!("/aws/lambda/{function}");
    if let Some(request_id) = row.request_id.as_deref() {
        let found = services
            .call(host, region, "logs", "FilterLogEvents", json!({ "logGroupName": group, "filterPattern": format!("\"RequestId: {request_id}\""), "startTime": window.0, "endTime": window.1, "limit": 10 }))
            .await
            .ok()?;
        let events = found.get("events").and_then(Value::as_array).cloned().unwrap_or_default();
        let start = events.iter().find(|e| message(e).starts_with(&format!("START RequestId: {request_id}")));
        if let Some(start) = start {
            let stream = start.get("logStreamName").and_then(Value::as_str).unwrap_or_default().to_string();
            let from = start.get("timestamp").and_then(Value::as_i64).unwrap_or(window.0);
            let until = events
                .iter()
                .filter(|e| message(e).starts_with(&format!("REPORT RequestId: {request_id}")))
                .filter_map(|e| e.get("timestamp").and_then(Value::as_i64))
                .max()
                .unwrap_or(window.1);
            let read = services
                .call(host, region, "logs", "GetLogEvents", json!({ "logGroupName": group, "logStreamName": stream, "startTime": from, "endTime": until + 1, "startFromHead": true, "limit": MAX_LINES }))
                .await
                .ok()?;
            let lines = between(read.get("events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]), request_id);
            return Some(json!({ "function": function, "request_id": request_id, "row_id": row.id, "log_group": group, "log_stream": stream, "lines": lines }));
        }
    }
    // No request id (or no START line for it): the lines that name the trace.
    let found = services
        .call(host, region, "logs", "FilterLogEvents", json!({ "logGroupName": group, "filterPattern": format!("\"{trace_id}\""), "startTime": window.0, "endTime": window.1, "limit": MAX_LINES }))
        .await
        .ok()?;
    let lines: Vec<Value> = found.get("events").and_then(Value::as_array)?.iter().map(line).collect();
    (!lines.is_empty()).then(|| json!({ "function": function, "request_id": row.request_id, "row_id": row.id, "log_group": group, "log_stream": Value::Null, "lines": lines }))
}

fn message(e: &Value) -> &str {
    e.get("message").and_then(Value::as_str).unwrap_or("")
}

fn line(e: &Value) -> Value {
    json!({ "timestamp": e.get("timestamp"), "message": message(e).trim_end() })
}

/// The events from the invocation's START line through its REPORT line.
fn between(events: &[Value], request_id: &str) -> Vec<Value> {
    let start = format!("START RequestId: {request_id}");
    let report = format!("REPORT RequestId: {request_id}");
    let mut out = Vec::new();
    let mut inside = false;
    for e in events {
        let m = message(e);
        if m.starts_with(&start) {
            inside = true;
        }
        if inside {
            out.push(line(e));
            if m.starts_with(&report) {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::between;
    use serde_json::json;

    #[test]
    fn lines_between_start_and_report() {
        let ev = |m: &str| json!({ "timestamp": 1, "message": m });
        let events = vec![ev("REPORT RequestId: a"), ev("START RequestId: b Version: $LATEST"), ev("hello\n"), ev("END RequestId: b"), ev("REPORT RequestId: b\tDuration: 1 ms"), ev("START RequestId: c")];
        let got: Vec<String> = between(&events, "b").iter().map(|l| l["message"].as_str().unwrap_or("").to_string()).collect();
        assert_eq!(got, vec!["START RequestId: b Version: $LATEST", "hello", "END RequestId: b", "REPORT RequestId: b\tDuration: 1 ms"]);
    }
}
