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
    if payload.get("action").is_none() {
        if let Some(records) = payload.get("Records").and_then(Value::as_array) {
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

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var("INIT_FAIL").as_deref() == Ok("1") {
        panic!("INIT_FAIL=1: failing during init on purpose");
    }
    lambda_runtime::run(service_fn(handle)).await
}
