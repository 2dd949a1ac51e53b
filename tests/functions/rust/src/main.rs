//! `nimbus-test-fn`: a `provided.al2023` Lambda function (binary `bootstrap`) used by
//! nimbus's Lambda integration tests. It speaks the Lambda Runtime API through the
//! official `lambda_runtime` crate, so it exercises nimbus exactly as AWS would.
//!
//! The event's `"action"` picks the behaviour:
//! - `echo`  → `{"echo": event, "request_id", "function_arn", "env": {...}, "pid"}`
//! - `sleep` → sleeps `event.ms` milliseconds, returns `{"slept": ms, "pid"}`
//! - `fail`  → returns an error (`errorType` "TestFailure", `errorMessage` = `event.message`)
//! - `crash` → `std::process::exit(3)` mid-invocation
//! - `print` → writes `event.text` to stdout and stderr, returns `{"ok": true}`
//! - `big`   → returns a JSON string of `event.bytes` bytes
//!
//! An event without `"action"` but with `"Records"` (an SQS event source mapping's
//! batch) prints one line `ESM <now ms> <records> <min SentTimestamp ms>` to stdout and
//! returns `{}` (every record succeeded): `nimbus-bench esm` reads these lines back
//! through CloudWatch Logs to time SendMessage → handler start.
//!
//! With `ESM_REPORT=1` in the environment, such a `Records` event (SQS or DynamoDB
//! Streams) is instead recorded and answered like the Python test functions
//! (`tests/functions/python/esm.py`, `streams.py`) do. Per record:
//! - SQS, when the body is a JSON object: `{"fail": true}` → listed in
//!   `batchItemFailures` (by `messageId`); `{"fail_once": true}` → the same on the first
//!   receive only (`ApproximateReceiveCount` "1"); `{"raise": true}` / `{"raise_once":
//!   true}` → the whole invocation errors (always / on the first receive only). On a FIFO
//!   queue (a record with `MessageGroupId`) the function stops at the first failed
//!   record and lists it and every record after it, as AWS asks FIFO functions to do.
//! - DynamoDB Streams: a `NewImage` with a `poison` attribute → the whole invocation
//!   errors; with a `fail` attribute → `batchItemFailures` with that record's
//!   `dynamodb.SequenceNumber`, and the records after it are left unprocessed (the
//!   checkpoint semantics of streams).
//!
//! Any record asking for an error fails the whole invocation (`errorType`
//! "EsmRecordFailure"); otherwise the answer is `{"batchItemFailures": [...]}`. Before
//! answering, the function prints one stdout line `ESM-REPORT <json>` with
//! `{"request_id", "pid", "start_ns", "end_ns", "source", "records": [{"id", ...}],
//! "outcome": "ok" | "partial" | "error", "processed": [ids], "failures": [ids],
//! "error"}`, where a record's `id` is its `messageId` (SQS) or `SequenceNumber`
//! (streams), and `processed` lists the records the invocation counts as done (none
//! when it errors). Tests read these lines back through CloudWatch Logs
//! (`nimbus_tests::lambda::esm_reports`). `ESM_SLEEP_MS` makes every such invocation
//! sleep that long first.
//!
//! API Gateway: with `APIGW_PROXY=1` in the environment, an event without `"action"` but
//! with `"requestContext"` (a proxy integration's event, either payload format) is answered
//! as a proxy response: 200, `content-type: application/json`, the event as the body.
//!
//! Trace chain: with `CHAIN_TABLE=<table>` in the environment, a `Records` event (an SQS
//! mapping's batch) prints `TRACE <_X_AMZN_TRACE_ID>` and writes each record to that
//! table with `aws-sdk-dynamodb` (`pk` = the message id, `body` = its body) — the SDK
//! carries the trace into DynamoDB by itself, as on AWS.
//!
//! Init: with `INIT_FAIL=1` in the environment the process panics before it ever
//! contacts the Runtime API (an init failure as AWS sees one).

use std::io::Write;
use std::time::Duration;

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Map, Value};

/// Environment variables the `echo` action reports back.
const ECHO_ENV: &[&str] = &[
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_REGION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "_X_AMZN_TRACE_ID",
    "AWS_ENDPOINT_URL",
    "MY_VAR",
];

fn failure(error_type: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_string(),
        error_message: message.into(),
    }
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, ctx) = event.into_parts();
    let pid = std::process::id();
    if payload.get("action").is_none() && payload.get("requestContext").is_some() && std::env::var("APIGW_PROXY").as_deref() == Ok("1") {
        return Ok(json!({
            "statusCode": 200,
            "headers": { "content-type": "application/json" },
            "body": payload.to_string(),
        }));
    }
    if payload.get("action").is_none() {
        if let Some(records) = payload.get("Records").and_then(Value::as_array) {
            if std::env::var("ESM_REPORT").as_deref() == Ok("1") {
                return esm_report(records, &ctx.request_id).await;
            }
            if let Ok(table) = std::env::var("CHAIN_TABLE") {
                return chain_put(&table, records).await;
            }
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            let min_sent = records
                .iter()
                .filter_map(|r| r.pointer("/attributes/SentTimestamp").and_then(Value::as_str))
                .filter_map(|s| s.parse::<u128>().ok())
                .min()
                .unwrap_or(0);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "ESM {now_ms} {} {min_sent}", records.len());
            let _ = out.flush();
            return Ok(json!({}));
        }
    }
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("echo");
    match action {
        "echo" => {
            let mut env = Map::new();
            for name in ECHO_ENV {
                let value = std::env::var(name)
                    .map(Value::String)
                    .unwrap_or(Value::Null);
                env.insert((*name).to_string(), value);
            }
            Ok(json!({
                "echo": payload,
                "request_id": ctx.request_id,
                "function_arn": ctx.invoked_function_arn,
                "env": env,
                "pid": pid,
            }))
        }
        "sleep" => {
            let ms = payload.get("ms").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!({ "slept": ms, "pid": pid }))
        }
        "fail" => {
            let message = payload
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("failed on purpose");
            Err(failure("TestFailure", message))
        }
        "crash" => {
            let _ = std::io::stdout().flush();
            std::process::exit(3);
        }
        "print" => {
            let text = payload.get("text").and_then(Value::as_str).unwrap_or("");
            {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
            {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{text}");
                let _ = err.flush();
            }
            Ok(json!({ "ok": true }))
        }
        "big" => {
            let bytes = payload.get("bytes").and_then(Value::as_u64).unwrap_or(0) as usize;
            Ok(Value::String("x".repeat(bytes)))
        }
        other => Err(failure("UnknownAction", format!("unknown action: {other}"))),
    }
}

/// The trace chain's hop: logs the trace the function runs in, then PutItem per record.
async fn chain_put(table: &str, records: &[Value]) -> Result<Value, Diagnostic> {
    println!("TRACE {}", std::env::var("_X_AMZN_TRACE_ID").unwrap_or_default());
    let var = |n: &str| std::env::var(n).unwrap_or_default();
    let credentials = aws_credential_types::Credentials::new(var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"), Some(var("AWS_SESSION_TOKEN")), None, "lambda-environment");
    let config = aws_sdk_dynamodb::Config::builder()
        .region(aws_sdk_dynamodb::config::Region::new(var("AWS_REGION")))
        .endpoint_url(var("AWS_ENDPOINT_URL"))
        .credentials_provider(credentials)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    for r in records {
        let text = |p: &str| r.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        client
            .put_item()
            .table_name(table)
            .item("pk", aws_sdk_dynamodb::types::AttributeValue::S(text("/messageId")))
            .item("body", aws_sdk_dynamodb::types::AttributeValue::S(text("/body")))
            .send()
            .await
            .map_err(|e| failure("PutItemFailed", format!("{e:?}")))?;
    }
    Ok(json!({}))
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// What a record asks the `ESM_REPORT` handler to do with it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    /// Listed in `batchItemFailures`.
    Fail,
    /// Fails the whole invocation.
    Raise,
}

/// A record's identifier for `batchItemFailures`, a compact summary for the report, and
/// what it asks for.
fn classify(record: &Value) -> (String, Value, Verdict) {
    let text = |p: &str| {
        record
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match record.get("eventSource").and_then(Value::as_str) {
        Some("aws:sqs") => {
            let id = text("/messageId");
            let body = text("/body");
            let flags = serde_json::from_str::<Value>(&body)
                .ok()
                .filter(Value::is_object)
                .unwrap_or(Value::Null);
            let flag = |k: &str| flags.get(k).and_then(Value::as_bool).unwrap_or(false);
            let first = text("/attributes/ApproximateReceiveCount") == "1";
            let verdict = if flag("raise") || (flag("raise_once") && first) {
                Verdict::Raise
            } else if flag("fail") || (flag("fail_once") && first) {
                Verdict::Fail
            } else {
                Verdict::Ok
            };
            let summary = json!({
                "id": id,
                "body": body,
                "attributes": record.get("attributes").cloned().unwrap_or(Value::Null),
            });
            (id, summary, verdict)
        }
        Some("aws:dynamodb") => {
            let id = text("/dynamodb/SequenceNumber");
            let image = record.pointer("/dynamodb/NewImage");
            let has = |k: &str| image.and_then(|i| i.get(k)).is_some();
            let verdict = if has("poison") {
                Verdict::Raise
            } else if has("fail") {
                Verdict::Fail
            } else {
                Verdict::Ok
            };
            let summary = json!({
                "id": id,
                "eventID": text("/eventID"),
                "eventName": text("/eventName"),
                "keys": record.pointer("/dynamodb/Keys").cloned().unwrap_or(Value::Null),
                "newImage": image.cloned().unwrap_or(Value::Null),
            });
            (id, summary, verdict)
        }
        _ => {
            let id = text("/eventID");
            (id.clone(), json!({ "id": id }), Verdict::Ok)
        }
    }
}

/// The `ESM_REPORT=1` handler for a `Records` event (see the crate docs).
async fn esm_report(records: &[Value], request_id: &str) -> Result<Value, Diagnostic> {
    let start_ns = now_ns();
    let sleep_ms = std::env::var("ESM_SLEEP_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    }
    let source = records
        .first()
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let classified: Vec<(String, Value, Verdict)> = records.iter().map(classify).collect();
    // FIFO queues and streams: stop at the first failure (what follows is redelivered).
    let fifo = records
        .iter()
        .any(|r| r.pointer("/attributes/MessageGroupId").is_some());
    let stream = source == "aws:dynamodb";
    let raised = classified
        .iter()
        .find(|(_, _, v)| *v == Verdict::Raise)
        .map(|(id, ..)| id.clone());
    let mut processed = Vec::new();
    let mut failures = Vec::new();
    if raised.is_none() {
        let mut stopped = false;
        for (id, _, verdict) in &classified {
            if stopped {
                if fifo {
                    failures.push(id.clone());
                }
                continue;
            }
            match verdict {
                Verdict::Ok => processed.push(id.clone()),
                _ => {
                    failures.push(id.clone());
                    stopped = fifo || stream;
                }
            }
        }
    }
    let error = raised
        .as_ref()
        .map(|id| format!("record {id} asked for an error"));
    let outcome = match (&error, failures.is_empty()) {
        (Some(_), _) => "error",
        (None, true) => "ok",
        (None, false) => "partial",
    };
    let report = json!({
        "request_id": request_id,
        "pid": std::process::id(),
        "start_ns": start_ns,
        "end_ns": now_ns(),
        "source": source,
        "records": classified.iter().map(|(_, s, _)| s.clone()).collect::<Vec<_>>(),
        "outcome": outcome,
        "processed": processed,
        "failures": failures,
        "error": error,
    });
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ESM-REPORT {report}");
        let _ = out.flush();
    }
    match error {
        Some(message) => Err(failure("EsmRecordFailure", message)),
        None => Ok(json!({
            "batchItemFailures": failures.iter().map(|id| json!({ "itemIdentifier": id })).collect::<Vec<_>>(),
        })),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var("INIT_FAIL").as_deref() == Ok("1") {
        panic!("INIT_FAIL=1: failing during init on purpose");
    }
    lambda_runtime::run(service_fn(handle)).await
}
