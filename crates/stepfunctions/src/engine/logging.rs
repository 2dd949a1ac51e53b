//! Execution events to CloudWatch Logs, as a machine's `loggingConfiguration` asks: level
//! `ALL` (every event), `ERROR` (failures of states, tasks and the execution) or `FATAL`
//! (the execution's failure, abort or time-out), to its one log group, with or without the
//! execution data (`includeExecutionData`). Each line is AWS's JSON record of one event.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html>

use super::execution::ExecutionRecord;
use super::Engine;
use nimbus_core::internal::LogLine;
use serde_json::{json, Map, Value};

fn wanted(level: &str, kind: &str) -> bool {
    match level {
        "ALL" => true,
        "ERROR" => kind.ends_with("Failed") || kind.ends_with("TimedOut") || kind.ends_with("Aborted") || kind == "EvaluationFailed",
        "FATAL" => matches!(kind, "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut"),
        _ => false,
    }
}

/// The log group's name from its ARN (`arn:aws:logs:<region>:<acct>:log-group:<name>:*`).
fn group_name(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":log-group:")?.1;
    Some(rest.strip_suffix(":*").unwrap_or(rest))
}

pub fn log_event(engine: &Engine, rec: &ExecutionRecord, event: &Value) {
    let Some(cfg) = &rec.logging else { return };
    let level = cfg.get("level").and_then(Value::as_str).unwrap_or("OFF");
    let kind = event.get("type").and_then(Value::as_str).unwrap_or_default();
    if !wanted(level, kind) {
        return;
    }
    let Some(group) = cfg.pointer("/destinations/0/cloudWatchLogsLogGroup/logGroupArn").and_then(Value::as_str).and_then(group_name) else { return };
    let Some(sink) = engine.log_sink.read().clone() else { return };
    let include_data = cfg.get("includeExecutionData").and_then(Value::as_bool).unwrap_or(false);
    let mut details = event.as_object().and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")).map(|(_, v)| v.clone())).unwrap_or_else(|| Value::Object(Map::new()));
    if !include_data {
        if let Some(d) = details.as_object_mut() {
            for f in ["input", "output", "parameters", "assignedVariables"] {
                d.remove(f);
            }
        }
    }
    let ts_ms = event.get("timestamp").and_then(Value::as_f64).map(|t| (t * 1000.0).round() as u64).unwrap_or_else(|| engine.clock.now_ms());
    let line = json!({
        "id": event.get("id").map(|v| v.to_string()).unwrap_or_default(),
        "type": kind,
        "details": details,
        "previous_event_id": event.get("previousEventId").map(|v| v.to_string()).unwrap_or_default(),
        "event_timestamp": ts_ms.to_string(),
        "execution_arn": rec.arn,
        "redrive_count": rec.redrive_count.to_string(),
    });
    let started = nimbus_core::time::iso8601(rec.start_ms);
    let stream = format!("states/{}/{}-{}-{}-{}-{}/{}", rec.machine_name, &started[0..4], &started[5..7], &started[8..10], &started[11..13], &started[14..16], rec.name);
    sink.append(&rec.account, &rec.region, group, &stream, vec![LogLine { timestamp_ms: ts_ms, message: line.to_string() }]);
}
