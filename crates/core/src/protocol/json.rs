//! The JSON 1.0/1.1 protocol: `POST /` with `X-Amz-Target: <prefix>.<Operation>` and a JSON
//! body; errors as `{"__type": …, "message": …}`. Query-compatible services (SQS) also send
//! `x-amzn-query-error: <legacy code>;Sender|Receiver`, which is how SDKs recover the code.

use super::WireResponse;
use crate::error::AwsError;
use crate::model::ServiceModel;
use bytes::Bytes;
use serde_json::Value;

/// Decodes the request body. An empty body is an empty input.
pub fn decode(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    match super::json_value::parse(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(serialization_error("Start of structure or map found where not expected.")),
        Err(_) => Err(serialization_error("Failed to parse the request body as JSON.")),
    }
}

pub fn serialization_error(message: &str) -> AwsError {
    AwsError::new("SerializationException", 400, message)
}

fn content_type(model: &ServiceModel) -> &'static str {
    if model.json_version == "1.1" {
        "application/x-amz-json-1.1"
    } else {
        "application/x-amz-json-1.0"
    }
}

pub fn encode_ok(model: &ServiceModel, output: &Value) -> WireResponse {
    let body = match output {
        Value::Null => Bytes::from_static(b"{}"),
        v => Bytes::from(serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())),
    };
    WireResponse { status: 200, content_type: content_type(model), headers: Vec::new(), body }
}

/// The `__type` of an error: errors raised by AWS's front end rather than the service
/// carry coral's namespace; query-compatible services' errors their own.
pub fn error_type(model: &ServiceModel, err: &AwsError) -> String {
    match err.code.as_ref() {
        "UnknownOperationException" | "SerializationException" => format!("com.amazon.coral.service#{}", err.code),
        _ if model.query_compatible => format!("com.amazonaws.{}#{}", model.signing_name, err.code),
        _ => err.code.to_string(),
    }
}

pub fn encode_error(model: &ServiceModel, err: &AwsError) -> WireResponse {
    let type_name = error_type(model, err);
    let mut body = serde_json::json!({ "__type": type_name, "message": err.message });
    for (k, v) in &err.members {
        body[k] = v.clone();
    }
    let mut headers = err.headers.clone();
    if model.query_compatible {
        headers.push(("x-amzn-query-error".to_string(), format!("{};{}", err.wire_query_code(), err.fault.as_str())));
    }
    WireResponse {
        status: err.status,
        content_type: content_type(model),
        headers,
        body: Bytes::from(body.to_string()),
    }
}
