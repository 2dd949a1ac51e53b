//! AWS CBOR (`Content-Type: application/x-amz-cbor-1.1`): the JSON 1.1 protocol —
//! `X-Amz-Target` names the operation — with CBOR bodies instead of JSON. The AWS SDK for
//! Java (v1 and v2) speaks it to Kinesis by default. Bodies convert to and from the usual
//! JSON value shape through the model, as RPC v2 CBOR's do (`cbor.rs`), except that
//! timestamps are CBOR tag 1 with epoch *milliseconds*, as the Java SDKs write and read
//! them. Errors are a CBOR map with `__type` and `message`, plus `x-amzn-ErrorType`.

use super::cbor::{self, Item};
use super::{rpc_v2_cbor, WireResponse};
use crate::error::AwsError;
use crate::model::{ServiceModel, ShapeKind};
use bytes::Bytes;
use serde_json::Value;

pub const CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";

/// Whether a request's body is AWS CBOR.
pub fn is_cbor(headers: &http::HeaderMap) -> bool {
    headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with(CONTENT_TYPE))
}

/// Decodes a request body of an operation with input shape `shape`.
pub fn decode(model: &ServiceModel, shape: Option<&str>, body: &[u8]) -> Result<Value, AwsError> {
    let mut value = rpc_v2_cbor::decode(model, shape, body)?;
    // Milliseconds (the Java SDKs) to the seconds services read; a value that is already
    // in seconds (before the year 5138) is kept.
    rescale_timestamps(model, shape, &mut value, &|n| if n > 1e11 { serde_json::json!(n / 1000.0) } else { serde_json::json!(n) });
    Ok(value)
}

pub fn encode_ok(model: &ServiceModel, shape: Option<&str>, output: &Value) -> WireResponse {
    let mut output = if output.is_null() { Value::Object(Default::default()) } else { output.clone() };
    rescale_timestamps(model, shape, &mut output, &|secs| serde_json::json!((secs * 1000.0).round() as i64));
    let mut body = Vec::new();
    cbor::encode_item(&cbor::from_value(model, shape, &output), &mut body);
    WireResponse { status: 200, content_type: CONTENT_TYPE, headers: Vec::new(), body: Bytes::from(body) }
}

pub fn encode_error(model: &ServiceModel, err: &AwsError) -> WireResponse {
    let pairs = vec![(Item::Text("__type".into()), Item::Text(super::json::error_type(model, err))), (Item::Text("message".into()), Item::Text(err.message.to_string()))];
    let mut body = Vec::new();
    cbor::encode_item(&Item::Map(pairs), &mut body);
    let mut headers = err.headers.clone();
    headers.push(("x-amzn-ErrorType".to_string(), err.code.to_string()));
    WireResponse { status: err.status, content_type: CONTENT_TYPE, headers, body: Bytes::from(body) }
}

/// Applies `f` to every timestamp number in `value`, a value of `shape`.
fn rescale_timestamps(model: &ServiceModel, shape: Option<&str>, value: &mut Value, f: &dyn Fn(f64) -> Value) {
    let Some(kind) = shape.and_then(|s| model.shape(s)).map(|s| &s.kind) else { return };
    match (kind, value) {
        (ShapeKind::Timestamp, v @ Value::Number(_)) => {
            if let Some(n) = v.as_f64() {
                *v = f(n);
            }
        }
        (ShapeKind::Structure { members, .. }, Value::Object(map)) => {
            for m in members {
                if let Some(v) = map.get_mut(&m.name) {
                    rescale_timestamps(model, Some(&m.shape), v, f);
                }
            }
        }
        (ShapeKind::List { member }, Value::Array(items)) => items.iter_mut().for_each(|v| rescale_timestamps(model, Some(&member.shape), v, f)),
        (ShapeKind::Map { value: member, .. }, Value::Object(map)) => map.values_mut().for_each(|v| rescale_timestamps(model, Some(&member.shape), v, f)),
        _ => {}
    }
}
