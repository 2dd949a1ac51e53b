//! Lambda from a Task state: `arn:aws:states:::lambda:invoke` (optionally
//! `.waitForTaskToken`), whose result is Invoke's answer with the function's payload
//! parsed — `{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode}` —
//! and a function ARN as the resource, whose result is the payload itself. A function
//! error fails the task with the function's `errorType` (else `Lambda.Unknown`) and the
//! error document as the cause; Lambda's own errors are `Lambda.<ErrorCode>`.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html>

use super::errors::{self, HttpMetadata};
use super::resource::Optimized;
use super::runner::{only, Integrations};
use super::{TaskRequest, TaskResult};
use base64::Engine;
use serde_json::{Map, Value};

const B64: base64::engine::general_purpose::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Invoke's parameters the integration passes on (`LogType` too, as AWS does).
const INVOKE_PARAMETERS: &[&str] = &["ClientContext", "FunctionName", "InvocationType", "Qualifier", "Payload", "LogType"];

/// The bytes a `Payload` parameter sends: a string that is JSON as it is, any other string
/// as a JSON string, any other value as its JSON text.
fn payload_bytes(payload: Option<&Value>) -> Vec<u8> {
    match payload {
        None | Some(Value::Null) => b"{}".to_vec(),
        Some(Value::String(s)) if serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok() => s.as_bytes().to_vec(),
        Some(v) => v.to_string().into_bytes(),
    }
}

/// A function's result as the task's result: its JSON, else its text.
fn parsed_payload(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::String(String::new());
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// What Invoke answered: the payload's bytes and whether it is an error document.
struct Answer {
    output: Value,
    payload: Vec<u8>,
}

async fn call_invoke(runner: &Integrations, req: &TaskRequest, mut params: Map<String, Value>, request_id: &str) -> Result<Answer, TaskResult> {
    let payload = payload_bytes(params.get("Payload"));
    params.insert("Payload".into(), Value::String(B64.encode(&payload)));
    let output = runner.call(req, "lambda", "Invoke", Value::Object(params)).await.map_err(|e| errors::optimized_failure(Optimized::LambdaInvoke, &e, request_id))?;
    let payload = output.get("Payload").and_then(Value::as_str).and_then(|p| B64.decode(p).ok()).unwrap_or_default();
    if output.get("FunctionError").is_some() {
        return Err(errors::function_failure(&payload));
    }
    Ok(Answer { output, payload })
}

/// `arn:aws:states:::lambda:invoke`.
pub async fn invoke(runner: &Integrations, req: &TaskRequest) -> TaskResult {
    let params = match only(req.arguments.clone(), INVOKE_PARAMETERS) {
        Value::Object(o) => o,
        _ => return errors::task_failed("The Parameters of a lambda:invoke task must be an object"),
    };
    let request_id = nimbus_core::ids::request_id();
    let answer = match call_invoke(runner, req, params, &request_id).await {
        Ok(a) => a,
        Err(failed) => return failed,
    };
    let status = answer.output.get("StatusCode").cloned().unwrap_or(Value::from(200));
    let mut out = Map::new();
    let executed = answer.output.get("ExecutedVersion").and_then(Value::as_str).map(str::to_string);
    if let Some(v) = &executed {
        out.insert("ExecutedVersion".into(), Value::String(v.clone()));
    }
    if let Some(log) = answer.output.get("LogResult") {
        out.insert("LogResult".into(), log.clone());
    }
    out.insert("Payload".into(), parsed_payload(&answer.payload));
    let date = runner.http_date();
    let mut extra = vec![("x-amzn-Remapped-Content-Length", "0".to_string())];
    if let Some(v) = executed {
        extra.push(("X-Amz-Executed-Version", v));
    }
    if let Some(t) = &req.trace {
        extra.push(("X-Amzn-Trace-Id", t.clone()));
    }
    HttpMetadata { request_id: &request_id, date: &date, content_type: "application/json", content_length: answer.payload.len(), extra }.add_to(&mut out);
    out.insert("StatusCode".into(), status);
    TaskResult::Output(Value::Object(out))
}

/// A function ARN as the resource: the state's effective input is the payload, the
/// function's result the task's.
pub async fn invoke_function(runner: &Integrations, req: &TaskRequest, arn: &str) -> TaskResult {
    let mut params = Map::new();
    params.insert("FunctionName".into(), Value::String(arn.to_string()));
    params.insert("Payload".into(), Value::String(req.arguments.to_string()));
    let request_id = nimbus_core::ids::request_id();
    match call_invoke(runner, req, params, &request_id).await {
        Ok(answer) => TaskResult::Output(parsed_payload(&answer.payload)),
        Err(failed) => failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_parameters_become_json_bytes() {
        assert_eq!(payload_bytes(None), b"{}");
        assert_eq!(payload_bytes(Some(&Value::Null)), b"{}");
        assert_eq!(payload_bytes(Some(&json!({ "a": 1 }))), br#"{"a":1}"#);
        assert_eq!(payload_bytes(Some(&json!("{\"a\":1}"))), br#"{"a":1}"#);
        assert_eq!(payload_bytes(Some(&json!("hello"))), br#""hello""#);
    }

    #[test]
    fn results_parse_as_json_or_stay_text() {
        assert_eq!(parsed_payload(br#"{"ok":true}"#), json!({ "ok": true }));
        assert_eq!(parsed_payload(b"null"), Value::Null);
        assert_eq!(parsed_payload(b"plain"), json!("plain"));
        assert_eq!(parsed_payload(b""), json!(""));
    }
}
