//! Parameters and results between Step Functions' spelling and a service's model, walked
//! along the operation's shapes:
//! - in: parameters are written in PascalCase whatever the API's own casing
//!   (`StateMachineArn` for Step Functions' `stateMachineArn`, `LogGroupName` for CloudWatch
//!   Logs' `logGroupName`); a JSON value where the API takes a string is sent as its JSON
//!   text (a message body, an execution's input); an ISO 8601 date where a JSON-protocol
//!   API takes a timestamp becomes the epoch seconds its codec would have decoded; a streaming payload (S3's
//!   `Body`) is its text; an idempotency token left out is a fresh UUID, as the SDKs fill it.
//! - out: members in PascalCase; timestamps as the integration's SDK writes them (epoch
//!   milliseconds for the optimized integrations, ISO 8601 for the AWS SDK ones); a blob
//!   that is the whole answer's payload (S3's `Body`, Lambda's `Payload`) as text, other
//!   blobs base64 as the API's JSON carries them.
//!
//! Map keys (item attributes, tags) are data and keep their spelling.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html#use-awssdk-integ>

use base64::Engine;
use nimbus_core::model::{Protocol, ServiceModel, ShapeKind};
use serde_json::{Map, Value};

const B64: base64::engine::general_purpose::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// How results write timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dates {
    /// `1579020919627` (the optimized integrations).
    EpochMillis,
    /// `2020-01-14T16:55:19.627Z` (the AWS SDK integrations).
    Iso8601,
}

/// `parameters` as the operation's input shape `shape` takes them.
pub fn to_service_input(model: &ServiceModel, shape: &str, value: Value) -> Value {
    let Some(s) = model.shape(shape) else { return value };
    match (&s.kind, value) {
        (ShapeKind::Structure { members, payload, .. }, Value::Object(fields)) => {
            let mut out = Map::new();
            for (key, v) in fields {
                match members.iter().find(|m| m.name.eq_ignore_ascii_case(&key)) {
                    Some(m) => {
                        let streaming = payload.as_deref() == Some(m.name.as_str()) && is_blob(model, &m.shape);
                        let v = if streaming { B64.encode(text_of(&v)).into() } else { to_service_input(model, &m.shape, v) };
                        out.insert(m.name.clone(), v);
                    }
                    None => {
                        out.insert(key, v);
                    }
                }
            }
            // Idempotency tokens the caller leaves out are filled, as the SDKs do.
            for m in members.iter().filter(|m| m.idempotency_token) {
                out.entry(m.name.clone()).or_insert_with(|| Value::String(nimbus_core::ids::uuid()));
            }
            Value::Object(out)
        }
        (ShapeKind::List { member }, Value::Array(items)) => Value::Array(items.into_iter().map(|v| to_service_input(model, &member.shape, v)).collect()),
        (ShapeKind::Map { value: vm, .. }, Value::Object(entries)) => {
            Value::Object(entries.into_iter().map(|(k, v)| (k, to_service_input(model, &vm.shape, v))).collect())
        }
        (ShapeKind::String, v) if !v.is_string() && !v.is_null() => Value::String(v.to_string()),
        (ShapeKind::Timestamp, Value::String(text)) if dates_as_numbers(model) => match nimbus_core::time::parse_iso8601(&text) {
            Some(ms) => serde_json::Number::from_f64(ms as f64 / 1000.0).map(Value::Number).unwrap_or(Value::String(text)),
            None => Value::String(text),
        },
        (_, v) => v,
    }
}

/// The operation's output (`shape`) as the integration shows it.
pub fn from_service_output(model: &ServiceModel, shape: &str, value: Value, dates: Dates) -> Value {
    let Some(s) = model.shape(shape) else { return value };
    match (&s.kind, value) {
        (ShapeKind::Structure { members, payload, .. }, Value::Object(fields)) => {
            let mut out = Map::new();
            for (key, v) in fields {
                match members.iter().find(|m| m.name == key) {
                    Some(m) => {
                        let streaming = payload.as_deref() == Some(m.name.as_str()) && is_blob(model, &m.shape);
                        let v = match (streaming, v) {
                            (true, Value::String(b64)) => Value::String(B64.decode(b64.as_bytes()).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or(b64)),
                            (_, v) => from_service_output(model, &m.shape, v, dates),
                        };
                        out.insert(pascal_case(&key), v);
                    }
                    None => {
                        out.insert(key, v);
                    }
                }
            }
            Value::Object(out)
        }
        (ShapeKind::List { member }, Value::Array(items)) => Value::Array(items.into_iter().map(|v| from_service_output(model, &member.shape, v, dates)).collect()),
        (ShapeKind::Map { value: vm, .. }, Value::Object(entries)) => {
            Value::Object(entries.into_iter().map(|(k, v)| (k, from_service_output(model, &vm.shape, v, dates))).collect())
        }
        (ShapeKind::Timestamp, Value::Number(n)) => {
            let ms = (n.as_f64().unwrap_or(0.0) * 1000.0).round() as u64;
            match dates {
                Dates::EpochMillis => Value::from(ms),
                Dates::Iso8601 => Value::String(instant(ms)),
            }
        }
        (_, v) => v,
    }
}

/// Whether the service takes timestamps as epoch seconds (what the JSON protocols'
/// codecs decode); query and REST-XML services take them as the text the wire carries.
fn dates_as_numbers(model: &ServiceModel) -> bool {
    model.protocols.contains(&Protocol::Json) || !matches!(model.protocols.first(), Some(Protocol::Query | Protocol::RestXml))
}

/// `ms` as Java's `Instant` prints it: milliseconds only when there are some.
fn instant(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        nimbus_core::time::iso8601(ms)
    } else {
        nimbus_core::time::iso8601_ms(ms)
    }
}

fn is_blob(model: &ServiceModel, shape: &str) -> bool {
    model.shape(shape).is_some_and(|s| matches!(s.kind, ShapeKind::Blob))
}

/// A payload's bytes: a string as it is, any other JSON value as its text.
fn text_of(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

/// `executionArn` → `ExecutionArn`.
pub fn pascal_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sfn() -> &'static ServiceModel {
        crate::service::model()
    }

    #[test]
    fn parameters_find_the_models_camel_case_members() {
        let input = to_service_input(sfn(), "StartExecutionInput", json!({ "StateMachineArn": "arn", "Input": { "a": 1 }, "Name": "n" }));
        assert_eq!(input, json!({ "stateMachineArn": "arn", "input": "{\"a\":1}", "name": "n" }));
        // A string stays a string; null stays null.
        let input = to_service_input(sfn(), "StartExecutionInput", json!({ "Input": "{}" }));
        assert_eq!(input, json!({ "input": "{}" }));
    }

    #[test]
    fn results_are_pascal_cased_with_the_integrations_dates() {
        let out = json!({ "executionArn": "a", "startDate": 1579020919.627, "status": "SUCCEEDED", "inputDetails": { "included": true } });
        let optimized = from_service_output(sfn(), "DescribeExecutionOutput", out.clone(), Dates::EpochMillis);
        assert_eq!(optimized, json!({ "ExecutionArn": "a", "StartDate": 1579020919627u64, "Status": "SUCCEEDED", "InputDetails": { "Included": true } }));
        let sdk = from_service_output(sfn(), "DescribeExecutionOutput", out, Dates::Iso8601);
        assert_eq!(sdk["StartDate"], "2020-01-14T16:55:19.627Z");
        let whole = from_service_output(sfn(), "DescribeExecutionOutput", json!({ "startDate": 1579020919 }), Dates::Iso8601);
        assert_eq!(whole["StartDate"], "2020-01-14T16:55:19Z");
    }

    #[test]
    fn numbers_and_unknown_keys_pass_through() {
        let input = to_service_input(sfn(), "GetExecutionHistoryInput", json!({ "ExecutionArn": "a", "MaxResults": 3, "Other": true }));
        assert_eq!(input, json!({ "executionArn": "a", "maxResults": 3, "Other": true }));
        assert_eq!(pascal_case("md5OfBody"), "Md5OfBody");
    }

    #[test]
    fn idempotency_tokens_left_out_are_filled() {
        let input = to_service_input(sfn(), "RedriveExecutionInput", json!({ "ExecutionArn": "a" }));
        assert_eq!(input["clientToken"].as_str().map(str::len), Some(36));
        let input = to_service_input(sfn(), "RedriveExecutionInput", json!({ "ExecutionArn": "a", "ClientToken": "mine" }));
        assert_eq!(input["clientToken"], "mine");
    }
}
