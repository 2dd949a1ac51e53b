//! The Smithy RPC v2 CBOR protocol (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html):
//! `POST /service/<service shape name>/operation/<Operation>` with `smithy-protocol:
//! rpc-v2-cbor` and a CBOR body (empty: an empty input); answers are CBOR with the same
//! header, errors a CBOR map with `__type` and `message`. botocore speaks it to CloudWatch
//! by default; the service shape name is the model's `targetPrefix`.

use super::cbor::{self, Item};
use super::WireResponse;
use crate::error::AwsError;
use crate::model::ServiceModel;
use bytes::Bytes;
use serde_json::Value;

pub const CONTENT_TYPE: &str = "application/cbor";
pub const PROTOCOL_HEADER: &str = "smithy-protocol";
pub const PROTOCOL_NAME: &str = "rpc-v2-cbor";

/// `(service, operation)` named by a request path, if it is an RPC v2 path.
pub fn parse_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/service/")?;
    let (service, op) = rest.split_once("/operation/")?;
    (!service.is_empty() && !op.is_empty() && !op.contains('/')).then_some((service, op))
}

/// Decodes the request body of an operation with input shape `shape`.
pub fn decode(model: &ServiceModel, shape: Option<&str>, body: &[u8]) -> Result<Value, AwsError> {
    if body.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let item = cbor::decode_item(body).map_err(|e| super::json::serialization_error(&e.0))?;
    if !matches!(item, Item::Map(_)) {
        return Err(super::json::serialization_error("Start of structure or map found where not expected."));
    }
    cbor::to_value(model, shape, item).map_err(|e| super::json::serialization_error(&e.0))
}

fn protocol_headers() -> Vec<(String, String)> {
    vec![(PROTOCOL_HEADER.to_string(), PROTOCOL_NAME.to_string())]
}

pub fn encode_ok(model: &ServiceModel, shape: Option<&str>, output: &Value) -> WireResponse {
    let output = if output.is_null() { Value::Object(Default::default()) } else { output.clone() };
    let mut body = Vec::new();
    cbor::encode_item(&cbor::from_value(model, shape, &output), &mut body);
    WireResponse { status: 200, content_type: CONTENT_TYPE, headers: protocol_headers(), body: Bytes::from(body) }
}

pub fn encode_error(model: &ServiceModel, err: &AwsError) -> WireResponse {
    let mut pairs = vec![
        (Item::Text("__type".into()), Item::Text(super::json::error_type(model, err))),
        (Item::Text("message".into()), Item::Text(err.message.to_string())),
    ];
    for (k, v) in &err.members {
        pairs.push((Item::Text(k.clone()), cbor::from_value(model, None, v)));
    }
    let mut body = Vec::new();
    cbor::encode_item(&Item::Map(pairs), &mut body);
    let mut headers = err.headers.clone();
    headers.extend(protocol_headers());
    if model.query_compatible {
        headers.push(("x-amzn-query-error".to_string(), format!("{};{}", err.wire_query_code(), err.fault.as_str())));
    }
    WireResponse { status: err.status, content_type: CONTENT_TYPE, headers, body: Bytes::from(body) }
}
